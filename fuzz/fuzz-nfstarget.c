/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: dvol-nfs-probe's TARGET grammar (host[:port], nfs://..., host:/export). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nfsprobe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dvol_nfs_target t;
	const char *why = NULL;
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	if (dvol_nfs_target_parse(s, &t, &why) == 0) {
		/* What parses names a host, and an export only as an absolute path. */
		if (!t.name || !t.host || !t.host[0] || (t.export && t.export[0] != '/'))
			abort();
		if (t.want && !dvol_nfs_vers_to_string(t.want))
			abort();
		dvol_nfs_target_done(&t);
	} else if (!why) {
		abort();
	}
	free(s);
	return 0;
}
