/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the verdict a probe process hands its privileged parent over a pipe.
 * The parent trusts nothing of it: whatever unpack accepts is reported (summary, JSON) and
 * packs back to the same verdict.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "escape.h"
#include "nfsprobe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dvol_nfs_result r, again;
	struct dvol_nfs_target t = {0};
	struct json_object *j = NULL;
	unsigned attempts = 0;
	char *sum, esc[sizeof(r.detail)];

	memset(&r, 0, sizeof(r));
	memcpy(&r, data, size < sizeof(r) ? size : sizeof(r));
	/* Most inputs would stop at the magic: let the fields behind it be reached. */
	if (size <= sizeof(r) || data[sizeof(r)] & 1)
		r.magic = DVOL_NFS_RESULT_MAGIC;

	t.name = strdup("fuzz");
	t.host = strdup("fuzz.example");
	t.export = strdup("/export");
	if (!t.name || !t.host || !t.export)
		abort();
	dvol_nfs_target_reset(&t);
	if (dvol_nfs_result_unpack(&r, &t, &attempts) == 0) {
		if ((unsigned)t.err >= _DVOL_NFS_ERR_MAX || !dvol_nfs_err_to_string(t.err))
			abort();
		sum = dvol_nfs_target_summary(&t);
		free(sum);
		if (dvol_nfs_target_to_json(&t, true, &j) == 0) {
			if (!json_object_to_json_string(j))
				abort();
			json_object_put(j);
		}
		/* Packed again, the detail is escaped once more (a backslash doubles). */
		dvol_nfs_result_pack(&t, attempts, &again);
		dvol_escape_name(r.detail, esc, sizeof(esc));
		if (again.err != r.err || again.versions != r.versions ||
		    strcmp(again.addr, r.addr) != 0 || strcmp(again.detail, esc) != 0 ||
		    dvol_nfs_result_unpack(&again, &t, NULL) != 0)
			abort();
	}
	dvol_nfs_target_done(&t);
	return 0;
}
