/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: what dvol makes of a probe's replies, once libnfs has decoded them
 * (the export list of MOUNT EXPORT, the port of GETPORT, the status of each COMPOUND and
 * of the LOOKUP), and the error class that the verdict maps them to. The reply handlers
 * and the verdict are static in nfsprobe.c: this file includes it, and calls them as the
 * poll loop would, in the order and with the statuses the input chooses.
 *
 * Input: 12 bytes of facts (see the reads below), then the TARGET (up to a newline), then
 * the export list, one path a line.
 */
#include "../common/nfsprobe.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int errnos[] = {0,	     ECONNREFUSED,  ECONNRESET, EPIPE,	     ETIMEDOUT,	   EMFILE,
			     ENFILE, ENOBUFS,	    ENOMEM,	ENETUNREACH, EHOSTUNREACH, EINVAL,
			     EPERM,  EADDRNOTAVAIL, EIO,	ENOTCONN};
static const nfsstat4 statuses[] = {NFS4_OK,
				    NFS4ERR_NOENT,
				    NFS4ERR_NOTDIR,
				    NFS4ERR_PERM,
				    NFS4ERR_ACCESS,
				    NFS4ERR_WRONGSEC,
				    NFS4ERR_MINOR_VERS_MISMATCH,
				    NFS4ERR_SERVERFAULT};
static const int rpc_statuses[] = {RPC_STATUS_SUCCESS, RPC_STATUS_ERROR, RPC_STATUS_CANCEL,
				   RPC_STATUS_TIMEOUT};
static const char *const garbage[] = {NULL, "record marker too large", "xid not found",
				      "cannot decode the reply header"};

static struct call *arm(struct probe *pr, enum call_id id)
{
	struct call *k = &pr->calls[id];

	k->pr = pr;
	k->id = id;
	k->pending = true;
	k->sent_us = dvol_now_us();
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dvol_nfs_probe_params params = {.timeout_ms = 2000, .v3_side = true};
	struct dvol_nfs_target t = {0};
	struct probe pr = {0};
	struct exportnode *list = NULL;
	void *tail = &list;
	struct dvol_nfs_result res;
	const char *why = NULL, *nl;
	const uint8_t *f = data;
	char *target;
	bool deadline;
	uint32_t gp;

	if (size < 12)
		return 0;
	data += 12;
	size -= 12;
	nl = memchr(data, '\n', size);
	target = strndup((const char *)data, nl ? (size_t)(nl - (const char *)data) : size);
	if (!target)
		return 0;
	if (dvol_nfs_target_parse(target, &t, &why) < 0) {
		free(target);
		return 0;
	}
	free(target);
	/* The export list: the rest, one path a line, each node where libnfs 4.0 puts it: 4
	 * bytes past an 8-byte boundary (so it is written and read with memcpy). */
	for (const char *p = nl ? nl + 1 : NULL, *end = (const char *)data + size; p && p <= end;) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		struct exportnode node = {0};
		char *raw = calloc(1, sizeof(node) + 4);

		if (!raw)
			break;
		node.ex_dir =
		    f[10] & 0x80 && !e ? NULL : strndup(p, e ? (size_t)(e - p) : (size_t)(end - p));
		memcpy(raw + 4, &node, sizeof(node));
		memcpy(tail, &(struct exportnode *){(struct exportnode *)(void *)(raw + 4)},
		       sizeof(struct exportnode *));
		tail = (void *)(raw + 4 + offsetof(struct exportnode, ex_next));
		p = e ? e + 1 : NULL;
	}

	pr.t = &t;
	pr.p = &params;
	pr.start_us = dvol_now_us();
	for (unsigned i = 0; i < _CONN_MAX; i++)
		pr.conns[i] = (struct conn){.pr = &pr, .kind = i};
	snprintf(t.addr, sizeof(t.addr), "%s", f[0] & 0x80 ? "::1" : "127.0.0.1");
	t.resolved = true;
	t.addrs_tried = 1 + (f[0] & 1);
	t.tcp = f[0] & 2;
	deadline = f[0] & 4;
	pr.rq = f[0] & 8 ? (struct resolve_req *)&pr : NULL; /* only tested for NULL */
	pr.conns[CONN_NFS].lost = f[0] & 16;
	pr.conns[CONN_NFS].garbage = (char *)garbage[(f[0] >> 5) & 3];
	pr.conns[CONN_NFS].err = errnos[f[1] & 15];
	pr.conns[CONN_NFS].bytes_in = f[1] >> 4;
	pr.local_port = f[2] & 1 ? 900 : 40000;

	/* The replies, each with the status libnfs gives its callback. */
	for (unsigned id = CALL_NULL3; id <= CALL_NULL4; id++)
		if (f[3] & (1u << id))
			null_cb(NULL, rpc_statuses[(f[4] >> (2 * id)) & 3], NULL, arm(&pr, id));
	for (unsigned id = CALL_MINOR0; id <= CALL_MINOR2; id++) {
		COMPOUND4res cr = {.status = statuses[(f[5] >> (id - CALL_MINOR0)) & 1 ? 0 : 6]};
		struct call *k = arm(&pr, id);

		if (f[3] & (1u << id))
			minor_cb(NULL, rpc_statuses[(f[6] >> (2 * (id - CALL_MINOR0))) & 3],
				 f[5] & 0x80 ? NULL : &cr, k);
	}
	if (f[3] & (1u << CALL_LOOKUP)) {
		COMPOUND4res cr = {.status = statuses[(f[2] >> 1) & 7]};

		lookup_cb(NULL, rpc_statuses[(f[2] >> 4) & 3], f[2] & 0x40 ? NULL : &cr,
			  arm(&pr, CALL_LOOKUP));
	}
	for (unsigned i = 0; i < (f[7] & 7u); i++)
		null_cb(NULL, RPC_STATUS_SUCCESS, NULL, arm(&pr, CALL_RTT));
	if (f[3] & 0x80)
		pmap_null_cb(NULL, rpc_statuses[f[7] >> 6], NULL, arm(&pr, CALL_PMAP_NULL));
	gp = (uint32_t)f[8] | (uint32_t)f[9] << 8 | (uint32_t)(f[7] & 0x38) << 13;
	if (f[10] & 1)
		pmap_getport_cb(NULL, rpc_statuses[(f[10] >> 1) & 3], f[10] & 8 ? NULL : &gp,
				arm(&pr, CALL_PMAP_GETPORT));
	if (f[10] & 16)
		mnt_export_cb(NULL, rpc_statuses[(f[10] >> 5) & 3], f[10] & 0x40 ? NULL : &list,
			      arm(&pr, CALL_MNT_EXPORT));
	t.want =
	    f[11] & 0x80
		? t.want
		: (unsigned[]){
		      0, DVOL_NFS_V3, DVOL_NFS_V4, DVOL_NFS_V4_0, DVOL_NFS_V4_1, DVOL_NFS_V4_2, 0,
		      0}[f[11] & 7];
	for (unsigned id = 0; id < _CALL_MAX; id++)
		if (f[11] & 8 && id >= CALL_MINOR0 && id <= CALL_MINOR2 && !pr.calls[id].pending)
			arm(&pr, id);

	if (probe_finish(&pr, deadline) == 0) {
		/* A classified error each time, in words; OK only for a version that answered. */
		if ((unsigned)t.err >= _DVOL_NFS_ERR_MAX || !dvol_nfs_err_to_string(t.err))
			abort();
		if (t.err != DVOL_NFS_OK && !t.detail)
			abort();
		if (t.err == DVOL_NFS_OK && (!t.tcp || !wants(t.want, t.versions)))
			abort();
		if (t.export_v3 == DVOL_NFS_YES && !t.exports)
			abort();
		/* What the probe child sends, its parent accepts. */
		dvol_nfs_result_pack(&t, 1, &res);
		if (dvol_nfs_result_unpack(&res, &t, NULL) != 0)
			abort();
	}
	while (list) {
		struct exportnode x;

		memcpy(&x, list, sizeof(x));
		free(x.ex_dir);
		free((char *)list - 4);
		list = x.ex_next;
	}
	dvol_nfs_target_done(&t);
	return 0;
}
