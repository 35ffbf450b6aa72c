/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the NFS options of a mount and the kernel mounts planned from them and
 * a probe's answer. Input: a byte of versions the server offered, a byte choosing the
 * URL's ?vers=, two bytes of URL port, then the option string.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nfsmount.h"
#include "nfsprobe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const url_vers[] = {NULL, "3", "4", "4.0", "4.1", "4.2", "5", ""};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dvol_nfs_mopts o = {0};
	struct dvol_nfs_try tries[DVOL_NFS_TRIES_MAX];
	const char *why = NULL;
	char *bad = NULL, *s;
	unsigned offered;
	uint16_t port;
	int n;

	if (size < 4)
		return 0;
	offered = data[0] & (DVOL_NFS_V3 | DVOL_NFS_V4 | DVOL_NFS_V4_MINORS);
	port = (uint16_t)(data[2] | data[3] << 8);
	s = malloc(size - 4 + 1);
	if (!s)
		return 0;
	memcpy(s, data + 4, size - 4);
	s[size - 4] = 0;
	if (dvol_nfs_mopts_parse(data[1] & 0x80 ? NULL : s, url_vers[data[1] & 7], port, &o, &bad,
				 &why) == 0) {
		memset(tries, 0, sizeof(tries));
		n = dvol_nfs_tries(&o, offered, "127.0.0.1", data[1] & 0x40 ? NULL : "127.0.0.1",
				   (uint16_t)(port ^ 0x5a5a), tries);
		if (n > DVOL_NFS_TRIES_MAX)
			abort();
		for (int i = 0; i < n; i++) {
			/* Only a version the server proved, with an option string for it. */
			if (!tries[i].data || !tries[i].fstype || !(tries[i].vers & offered))
				abort();
		}
		if (n > 0)
			dvol_nfs_tries_done(tries, (size_t)n);
		dvol_nfs_mopts_done(&o);
	}
	free(bad);
	free(s);
	return 0;
}
