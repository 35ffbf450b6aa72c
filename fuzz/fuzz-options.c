/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: mount.dvol's option string through libmount's optstr functions. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dvol_opts o;
	char *bad = NULL, *s = malloc(size + 1);
	const char *why = NULL;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	/* Names are never looked up through NSS here: keep uid=/gid= numeric. */
	if (!strstr(s, "uid=") && !strstr(s, "gid=")) {
		if (dvol_opts_parse(s, &o, &bad, &why) == 0) {
			free(dvol_optstr_first(o.fs));
			dvol_opts_done(&o);
		}
		free(bad);
	}
	free(s);
	return 0;
}
