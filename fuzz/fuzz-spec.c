/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the SOURCE grammar never crashes, leaks or accepts junk silently. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dvol_spec spec;
	const char *why = NULL;
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	if (dvol_spec_parse(s, &spec, &why) == 0) {
		/* What parses is internally consistent. */
		if (spec.kind == DVOL_SPEC_PATH && (!spec.path || spec.path[0] != '/'))
			abort();
		if (spec.kind == DVOL_SPEC_NFS && (!spec.host || !spec.path || spec.path[0] != '/'))
			abort();
		if (spec.kind == DVOL_SPEC_NFS) {
			char *srv = dvol_spec_nfs_server(&spec);
			free(srv);
		}
		dvol_spec_done(&spec);
	} else if (!why) {
		abort();
	}
	free(s);
	return 0;
}
