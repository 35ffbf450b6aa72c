/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: dvol-warm's manifests. What parses names only patterns that stay
 * beneath the root: relative, without "..", "**", "." or empty components; a root line
 * is an absolute folder without "..". What does not parse says which line and why.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "warm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dvol_warm_manifest m = {0};
	const char *why = NULL;
	unsigned line = 0;
	int r;

	r = dvol_warm_manifest_parse((const char *)data, size, &m, &line, &why);
	if (r == 0) {
		if (m.root &&
		    (m.root[0] != '/' || strstr(m.root, "/../") ||
		     (strlen(m.root) >= 3 && !strcmp(m.root + strlen(m.root) - 3, "/.."))))
			abort();
		for (size_t i = 0; i < m.n; i++) {
			const struct dvol_warm_pattern *p = &m.p[i];

			if (!p->text || !p->comps || !p->comps[0] || p->text[0] == '/' || !p->line)
				abort();
			for (char **c = p->comps; *c; c++)
				if (!**c || strchr(*c, '/') || !strcmp(*c, ".") ||
				    !strcmp(*c, "..") || !strcmp(*c, "**"))
					abort();
		}
	} else if (r == -EINVAL && (!why || !line)) {
		abort();
	}
	dvol_warm_manifest_done(&m);
	return 0;
}
