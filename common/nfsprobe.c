/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/time.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/tcp.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-mount.h>
#include <nfsc/libnfs-raw-nfs4.h>
#include <nfsc/libnfs-raw-portmap.h>

#include "cleanup.h"
#include "escape.h"
#include "json.h"
#include "nfsprobe.h"
#include "strv.h"
#include "spec.h"
#include "timeutil.h"

#define PMAP_PORT     111
#define MOUNT_PROGRAM 100005
#define LOOKUP_MAX    32 /* path components looked up over v4 */
/* More than every reply of a probe together (an export list included): a server that
 * sends more while our calls stay unanswered is flooding us. */
#define FLOOD_BYTES (4u << 20)
/* How often the loop looks at names still being resolved. */
#define RESOLVE_POLL_MS 5

enum conn_kind { CONN_NFS, CONN_PMAP, CONN_MOUNT, _CONN_MAX };

enum call_id {
	CALL_NULL3,
	CALL_NULL4,
	CALL_MINOR0,
	CALL_MINOR1,
	CALL_MINOR2,
	CALL_LOOKUP,
	CALL_RTT,
	CALL_PMAP_NULL,
	CALL_PMAP_GETPORT,
	CALL_MNT_EXPORT,
	_CALL_MAX,
};

struct probe;

struct conn {
	struct probe *pr;
	enum conn_kind kind;
	struct rpc_context *rpc;
	bool connected;
	bool closing;	   /* being destroyed: callbacks from libnfs are ignored */
	int err;	   /* socket error that ended it, or 0 */
	bool lost;	   /* ended by the peer or by an error after it connected */
	uint64_t bytes_in; /* what the peer sent, answered or not */
	char *garbage;	   /* why libnfs refused what the peer sent, or NULL */
};

struct call {
	struct probe *pr;
	enum call_id id;
	uint64_t sent_us;
	bool pending;
	bool answered;
};

enum nfs_step { NFS_CONNECT, NFS_WAVE, NFS_LOOKUP, NFS_RTT, NFS_DONE };
enum v3_step { V3_CONNECT, V3_PMAP, V3_MOUNT_CONNECT, V3_MOUNT, V3_DONE };

/* A name being resolved: glibc's resolver thread owns it until it is done or cancelled. */
struct resolve_req {
	struct gaicb cb;
	struct addrinfo hints;
	char name[];
};

struct probe {
	struct dvol_nfs_target *t;
	struct resolve_req *rq; /* in flight, or NULL */
	char addrs[DVOL_NFS_ADDRS_MAX][DVOL_NFS_ADDR_MAX];
	unsigned n_addrs, cur_addr;
	uint16_t local_port; /* our end of the NFS connection */
	const struct dvol_nfs_probe_params *p;
	uint64_t start_us, deadline_us;
	struct conn conns[_CONN_MAX];
	struct call calls[_CALL_MAX];
	enum nfs_step nfs_step;
	enum v3_step v3_step;
	bool finished;
	bool told; /* p->finished was called */
	bool v4_denied;
	double rtt[DVOL_NFS_RTT_MAX];
	unsigned rtt_sent;
	/* The LOOKUP compound's arguments live until its reply. */
	nfs_argop4 ops[LOOKUP_MAX + 1];
	char *path_copy;
};

static const char *const err_names[_DVOL_NFS_ERR_MAX] = {
    [DVOL_NFS_OK] = "ok",
    [DVOL_NFS_REFUSED] = "refused",
    [DVOL_NFS_TIMEOUT] = "timeout",
    [DVOL_NFS_UNREACHABLE] = "unreachable",
    [DVOL_NFS_UNRESOLVABLE] = "unresolvable",
    [DVOL_NFS_RPC_MISMATCH] = "rpc-mismatch",
    [DVOL_NFS_EXPORT_MISSING] = "export-missing",
    [DVOL_NFS_ACCESS_DENIED] = "access-denied",
    [DVOL_NFS_PROTOCOL_ERROR] = "protocol-error",
    [DVOL_NFS_LOCAL_ERROR] = "local-error",
};

const char *dvol_nfs_err_to_string(enum dvol_nfs_err e)
{
	return e < _DVOL_NFS_ERR_MAX ? err_names[e] : "?";
}

bool dvol_nfs_err_is_transient(enum dvol_nfs_err e)
{
	/* A name may resolve once the network is up; a missing export will not appear, and a
	 * server that answers garbage will answer garbage again. */
	return e == DVOL_NFS_REFUSED || e == DVOL_NFS_TIMEOUT || e == DVOL_NFS_UNREACHABLE ||
	       e == DVOL_NFS_UNRESOLVABLE;
}

static const struct {
	unsigned bit;
	const char *name;
} vers_names[] = {
    {DVOL_NFS_V4_2, "4.2"}, {DVOL_NFS_V4_1, "4.1"}, {DVOL_NFS_V4_0, "4.0"},
    {DVOL_NFS_V4, "4"},	    {DVOL_NFS_V3, "3"},
};

const char *dvol_nfs_vers_to_string(unsigned bit)
{
	for (size_t i = 0; i < ELEMENTSOF(vers_names); i++)
		if (bit & vers_names[i].bit)
			return vers_names[i].name;
	return NULL;
}

unsigned dvol_nfs_vers_from_string(const char *s)
{
	for (size_t i = 0; s && i < ELEMENTSOF(vers_names); i++)
		if (strcmp(s, vers_names[i].name) == 0)
			return vers_names[i].bit;
	return 0;
}

unsigned dvol_nfs_vers_minor(unsigned long minor)
{
	return minor <= 2 ? DVOL_NFS_V4_0 << minor : 0;
}

unsigned dvol_nfs_vers_highest(unsigned versions)
{
	for (size_t i = 0; i < ELEMENTSOF(vers_names); i++)
		if (versions & vers_names[i].bit)
			return vers_names[i].bit;
	return 0;
}

int dvol_nfs_target_parse(const char *s, struct dvol_nfs_target *ret, const char **ret_why)
{
	struct dvol_spec spec = {0};
	_cleanup_free_ char *url = NULL;
	bool bare = strncmp(s, "nfs://", 6) != 0 && !strstr(s, ":/");
	int r;

	*ret = (struct dvol_nfs_target){0};
	if (bare) {
		/* host[:port]: the nfs:// grammar, without an export. */
		if (strchr(s, '/'))
			return *ret_why = "a target is host[:port], nfs://host[:port]/export or "
					  "host:/export",
			       -EINVAL;
		if (asprintf(&url, "nfs://%s/", s) < 0)
			return -ENOMEM;
	}
	r = dvol_spec_parse(url ? url : s, &spec, ret_why);
	if (r < 0)
		return r;
	if (spec.kind != DVOL_SPEC_NFS) {
		dvol_spec_done(&spec);
		return *ret_why = "not an NFS target", -EINVAL;
	}
	ret->name = strdup(s);
	ret->host = TAKE_PTR(spec.host);
	ret->port = spec.port;
	if (!bare)
		ret->export = TAKE_PTR(spec.path);
	ret->want = dvol_nfs_vers_from_string(spec.vers);
	dvol_spec_done(&spec);
	if (!ret->name || !ret->host || (!bare && !ret->export)) {
		dvol_nfs_target_done(ret);
		return -ENOMEM;
	}
	dvol_nfs_target_reset(ret);
	return 0;
}

void dvol_nfs_target_reset(struct dvol_nfs_target *t)
{
	if (t->exports)
		for (char **e = t->exports; *e; e++)
			free(*e);
	free(t->exports);
	free(t->detail);
	t->exports = NULL;
	t->exports_cut = false;
	t->detail = NULL;
	t->addr[0] = t->local_addr[0] = 0;
	t->resolved = t->tcp = false;
	t->addrs_tried = 0;
	t->versions = 0;
	t->portmapper = t->mountd = DVOL_NFS_UNKNOWN;
	t->export_v3 = t->export_v4 = DVOL_NFS_UNKNOWN;
	t->mount_port = 0;
	t->rtt_ms = -1;
	t->rtt_count = 0;
	t->elapsed_ms = 0;
	t->err = DVOL_NFS_OK;
	t->err_errno = 0;
}

void dvol_nfs_target_done(struct dvol_nfs_target *t)
{
	dvol_nfs_target_reset(t);
	free(t->name);
	free(t->host);
	free(t->export);
	t->name = t->host = t->export = NULL;
}

static int set_detail(struct dvol_nfs_target *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int set_detail(struct dvol_nfs_target *t, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	free(t->detail);
	t->detail = s;
	return 0;
}

static uint16_t nfs_port(const struct dvol_nfs_target *t)
{
	return t->port ? t->port : DVOL_NFS_PORT;
}

/* --- connections -------------------------------------------------------------------- */

static void conn_close(struct conn *c)
{
	if (!c->rpc)
		return;
	c->closing = true;
	rpc_destroy_context(c->rpc);
	c->rpc = NULL;
}

static void connect_cb(struct rpc_context *rpc, int status, void *data, void *private_data)
{
	struct conn *c = private_data;

	if (c->closing || status != RPC_STATUS_SUCCESS)
		return;
	c->connected = true;
}

static int conn_open(struct conn *c, uint16_t port)
{
	c->rpc = rpc_init_context();
	if (!c->rpc)
		return -ENOMEM;
	c->closing = c->connected = c->lost = false;
	c->err = 0;
	c->bytes_in = 0;
	free(c->garbage);
	c->garbage = NULL;
	errno = 0;
	if (rpc_connect_async(c->rpc, c->pr->t->addr, port, connect_cb, c) < 0) {
		/* A synchronous failure: connect(2)'s is in libnfs's message as "...(errno)";
		 * socket(2)'s (EMFILE...) only in errno. */
		int e0 = errno;
		const char *e = rpc_get_error(c->rpc);
		const char *paren = e ? strrchr(e, '(') : NULL;

		c->err = paren ? atoi(paren + 1) : 0;
		if (c->err <= 0)
			c->err = e0 > 0 ? e0 : EINVAL;
		conn_close(c);
		return -c->err;
	}
	return 0;
}

/* --- RPC callbacks: they only record; the loop decides what comes next. ---------------- */

static struct call *call_begin(struct probe *pr, enum call_id id)
{
	struct call *k = &pr->calls[id];

	k->pr = pr;
	k->id = id;
	k->sent_us = dvol_now_us();
	k->pending = true;
	k->answered = false;
	return k;
}

static bool call_end(struct call *k, int status)
{
	if (status == RPC_STATUS_CANCEL)
		return false;
	k->pending = false;
	k->answered = status == RPC_STATUS_SUCCESS;
	return k->answered;
}

static void null_cb(struct rpc_context *rpc, int status, void *data, void *private_data)
{
	struct call *k = private_data;
	struct probe *pr = k->pr;

	if (!call_end(k, status))
		return;
	if (k->id == CALL_NULL3)
		pr->t->versions |= DVOL_NFS_V3;
	else if (k->id == CALL_NULL4)
		pr->t->versions |= DVOL_NFS_V4;
	else if (k->id == CALL_RTT && pr->t->rtt_count < DVOL_NFS_RTT_MAX)
		pr->rtt[pr->t->rtt_count++] = (double)(dvol_now_us() - k->sent_us) / 1000.0;
}

static void minor_cb(struct rpc_context *rpc, int status, void *data, void *private_data)
{
	struct call *k = private_data;
	COMPOUND4res *res = data;

	if (!call_end(k, status) || !res)
		return;
	if (res->status != NFS4ERR_MINOR_VERS_MISMATCH)
		k->pr->t->versions |= DVOL_NFS_V4 | dvol_nfs_vers_minor(k->id - CALL_MINOR0);
}

static void lookup_cb(struct rpc_context *rpc, int status, void *data, void *private_data)
{
	struct call *k = private_data;
	struct probe *pr = k->pr;
	COMPOUND4res *res = data;

	if (!call_end(k, status) || !res)
		return;
	switch (res->status) {
	case NFS4_OK:
		pr->t->export_v4 = DVOL_NFS_YES;
		break;
	case NFS4ERR_NOENT:
	case NFS4ERR_NOTDIR:
		pr->t->export_v4 = DVOL_NFS_NO;
		break;
	case NFS4ERR_PERM:
		/* A "secure" export refuses a source port above 1023, which is what a probe
		 * without root has; the kernel client uses a reserved one. */
		pr->t->export_v4 = DVOL_NFS_YES;
		if (pr->local_port < 1024)
			pr->v4_denied = true;
		break;
	case NFS4ERR_ACCESS:
	case NFS4ERR_WRONGSEC:
		pr->t->export_v4 = DVOL_NFS_YES;
		pr->v4_denied = true;
		break;
	default:
		break;
	}
}

static void pmap_null_cb(struct rpc_context *rpc, int status, void *data, void *private_data)
{
	struct call *k = private_data;

	if (call_end(k, status))
		k->pr->t->portmapper = DVOL_NFS_YES;
}

static void pmap_getport_cb(struct rpc_context *rpc, int status, void *data, void *private_data)
{
	struct call *k = private_data;
	uint32_t *port = data;

	if (!call_end(k, status) || !port)
		return;
	k->pr->t->portmapper = DVOL_NFS_YES;
	k->pr->t->mountd = *port > 0 && *port < 65536 ? DVOL_NFS_YES : DVOL_NFS_NO;
	k->pr->t->mount_port = (uint16_t)*port;
}

static bool export_covers(const char *e, const char *path)
{
	size_t n = strlen(e);

	while (n > 1 && e[n - 1] == '/')
		n--;
	if (strncmp(e, path, n) != 0)
		return false;
	return path[n] == 0 || path[n] == '/' || (n == 1 && e[0] == '/');
}

/* libnfs 4.0 packs the nodes of a decoded list at 4-byte boundaries: each node is copied
 * out before a field of it is read. */
static exports export_next(exports e, struct exportnode *ret)
{
	if (e)
		memcpy(ret, e, sizeof(*ret));
	return e;
}

static void mnt_export_cb(struct rpc_context *rpc, int status, void *data, void *private_data)
{
	struct call *k = private_data;
	struct dvol_nfs_target *t = k->pr->t;
	struct exportnode node;
	exports ex;
	size_t n = 0;

	if (!call_end(k, status))
		return;
	t->mountd = DVOL_NFS_YES;
	if (!data)
		return;
	/* ex is a pointer (libnfs's exports); data may be misaligned, so it is copied out. */
	memcpy(&ex, data, sizeof(ex)); /* NOLINT(bugprone-sizeof-expression) */
	for (exports e = ex; export_next(e, &node); e = node.ex_next)
		n++;
	t->exports = calloc(n + 1, sizeof(char *));
	if (!t->exports)
		return;
	n = 0;
	for (exports e = ex; export_next(e, &node); e = node.ex_next) {
		t->exports[n] = strdup(node.ex_dir ? node.ex_dir : "");
		if (!t->exports[n])
			break;
		if (t->export && export_covers(t->exports[n], t->export))
			t->export_v3 = DVOL_NFS_YES;
		n++;
	}
	if (t->export && t->export_v3 != DVOL_NFS_YES)
		t->export_v3 = DVOL_NFS_NO;
}

/* --- steps ------------------------------------------------------------------------------ */

static int send_compound(struct probe *pr, enum call_id id, uint32_t minor, unsigned nops)
{
	COMPOUND4args args = {.minorversion = minor};

	args.argarray.argarray_len = nops;
	args.argarray.argarray_val = nops ? pr->ops : NULL;
	return rpc_nfs4_compound_async(pr->conns[CONN_NFS].rpc,
				       id == CALL_LOOKUP ? lookup_cb : minor_cb, &args,
				       call_begin(pr, id));
}

static int send_lookup(struct probe *pr)
{
	unsigned n = 0;
	char *save = NULL;

	pr->path_copy = strdup(pr->t->export);
	if (!pr->path_copy)
		return -ENOMEM;
	pr->ops[n++].argop = OP_PUTROOTFH;
	for (char *c = strtok_r(pr->path_copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (n > LOOKUP_MAX)
			return -E2BIG;
		pr->ops[n].argop = OP_LOOKUP;
		pr->ops[n].nfs_argop4_u.oplookup.objname.utf8string_len = strlen(c);
		pr->ops[n].nfs_argop4_u.oplookup.objname.utf8string_val = c;
		n++;
	}
	return send_compound(pr, CALL_LOOKUP, 0, n) < 0 ? -EIO : 0;
}

static bool any_pending(const struct probe *pr, enum call_id from, enum call_id to)
{
	for (enum call_id i = from; i <= to; i++)
		if (pr->calls[i].pending)
			return true;
	return false;
}

static void local_addr_of(struct conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = rpc_get_fd(c->rpc);

	if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return;
	/* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult): getsockname set it */
	if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, c->pr->t->local_addr,
			  sizeof(c->pr->t->local_addr));
		c->pr->local_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, c->pr->t->local_addr,
			  sizeof(c->pr->t->local_addr));
		c->pr->local_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
}

static enum dvol_nfs_err class_of_errno(int e);
static int next_address(struct probe *pr);

/* Move the NFS side on as far as it can go now. */
static int nfs_advance(struct probe *pr)
{
	struct conn *c = &pr->conns[CONN_NFS];
	struct dvol_nfs_target *t = pr->t;
	int r;

	/* That address of the name refused or is unreachable: the next one, if any. */
	if (pr->nfs_step == NFS_CONNECT && !c->rpc && c->err && pr->cur_addr + 1 < pr->n_addrs &&
	    class_of_errno(c->err) != DVOL_NFS_LOCAL_ERROR)
		return next_address(pr);
	if (pr->nfs_step != NFS_DONE && !c->rpc) {
		pr->nfs_step = NFS_DONE;
		return 0;
	}
	switch (pr->nfs_step) {
	case NFS_CONNECT:
		if (!c->connected)
			return 0;
		t->tcp = true;
		local_addr_of(c);
		if (rpc_nfs3_null_async(c->rpc, null_cb, call_begin(pr, CALL_NULL3)) < 0 ||
		    rpc_nfs4_null_async(c->rpc, null_cb, call_begin(pr, CALL_NULL4)) < 0)
			return -EIO;
		for (unsigned m = 0; m <= 2; m++)
			if (send_compound(pr, CALL_MINOR0 + m, m, 0) < 0)
				return -EIO;
		pr->nfs_step = NFS_WAVE;
		return 0;
	case NFS_WAVE:
		if (any_pending(pr, CALL_NULL3, CALL_MINOR2))
			return 0;
		pr->nfs_step = NFS_LOOKUP;
		if (t->export && (t->versions & DVOL_NFS_V4_0)) {
			r = send_lookup(pr);
			if (r < 0)
				return r;
			return 0;
		}
		__attribute__((fallthrough));
	case NFS_LOOKUP:
		if (pr->calls[CALL_LOOKUP].pending)
			return 0;
		pr->nfs_step = NFS_RTT;
		__attribute__((fallthrough));
	case NFS_RTT:
		if (pr->calls[CALL_RTT].pending)
			return 0;
		if (pr->rtt_sent < pr->p->rtt_count && pr->rtt_sent < DVOL_NFS_RTT_MAX &&
		    (t->versions & (DVOL_NFS_V3 | DVOL_NFS_V4))) {
			struct call *k = call_begin(pr, CALL_RTT);

			pr->rtt_sent++;
			r = t->versions & DVOL_NFS_V4 ? rpc_nfs4_null_async(c->rpc, null_cb, k)
						      : rpc_nfs3_null_async(c->rpc, null_cb, k);
			return r < 0 ? -EIO : 0;
		}
		pr->nfs_step = NFS_DONE;
		conn_close(c);
		return 0;
	case NFS_DONE:
		return 0;
	}
	return 0;
}

/* Move the portmapper and MOUNT side on as far as it can go now. */
static int v3_advance(struct probe *pr)
{
	struct conn *pm = &pr->conns[CONN_PMAP], *mc = &pr->conns[CONN_MOUNT];
	struct dvol_nfs_target *t = pr->t;

	switch (pr->v3_step) {
	case V3_CONNECT:
		if (!pm->rpc) {
			t->portmapper = DVOL_NFS_NO;
			pr->v3_step = V3_DONE;
			return 0;
		}
		if (!pm->connected)
			return 0;
		if (rpc_pmap2_null_async(pm->rpc, pmap_null_cb, call_begin(pr, CALL_PMAP_NULL)) <
			0 ||
		    rpc_pmap2_getport_async(pm->rpc, MOUNT_PROGRAM, 3, IPPROTO_TCP, pmap_getport_cb,
					    call_begin(pr, CALL_PMAP_GETPORT)) < 0)
			return -EIO;
		pr->v3_step = V3_PMAP;
		return 0;
	case V3_PMAP:
		if (pm->rpc && any_pending(pr, CALL_PMAP_NULL, CALL_PMAP_GETPORT))
			return 0;
		conn_close(pm);
		if (t->portmapper == DVOL_NFS_UNKNOWN)
			t->portmapper = DVOL_NFS_NO;
		if (t->mountd != DVOL_NFS_YES) {
			if (t->mountd == DVOL_NFS_UNKNOWN)
				t->mountd = DVOL_NFS_NO;
			pr->v3_step = V3_DONE;
			return 0;
		}
		if (conn_open(mc, t->mount_port) < 0) {
			pr->v3_step = V3_DONE;
			return 0;
		}
		pr->v3_step = V3_MOUNT_CONNECT;
		return 0;
	case V3_MOUNT_CONNECT:
		if (!mc->rpc) {
			t->mountd = DVOL_NFS_NO;
			pr->v3_step = V3_DONE;
			return 0;
		}
		if (!mc->connected)
			return 0;
		if (rpc_mount3_export_async(mc->rpc, mnt_export_cb,
					    call_begin(pr, CALL_MNT_EXPORT)) < 0)
			return -EIO;
		pr->v3_step = V3_MOUNT;
		return 0;
	case V3_MOUNT:
		if (mc->rpc && pr->calls[CALL_MNT_EXPORT].pending)
			return 0;
		conn_close(mc);
		if (t->mountd == DVOL_NFS_UNKNOWN)
			t->mountd = DVOL_NFS_NO;
		pr->v3_step = V3_DONE;
		return 0;
	case V3_DONE:
		return 0;
	}
	return 0;
}

static enum dvol_nfs_err class_of_errno(int e)
{
	switch (e) {
	case ECONNREFUSED:
	case ECONNRESET:
	case EPIPE:
		return DVOL_NFS_REFUSED;
	case ETIMEDOUT:
		return DVOL_NFS_TIMEOUT;
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		return DVOL_NFS_LOCAL_ERROR;
	default:
		/* ENETUNREACH, EHOSTUNREACH, ENETDOWN; EINVAL from a blackhole route; EPERM
		 * from a local firewall's reject; EADDRNOTAVAIL. */
		return DVOL_NFS_UNREACHABLE;
	}
}

/* Only a version whose own call worked counts: NULL v4 alone proves no minor version. */
static bool wants(unsigned want, unsigned versions)
{
	if (!want)
		return versions & DVOL_NFS_OFFERED;
	/* "4" is satisfied by any minor version. */
	if (want == DVOL_NFS_V4)
		return versions & DVOL_NFS_V4_MINORS;
	return versions & want;
}

/* The median of the round-trip times: V sorted in place, N > 0. */
static double rtt_median(double *v, unsigned n)
{
	/* Insertion sort: at most DVOL_NFS_RTT_MAX values. */
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
			double x = v[j];

			v[j] = v[j - 1];
			v[j - 1] = x;
		}
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The verdict on a target whose NFS port never accepted the connection. */
static int judge_connect(struct probe *pr)
{
	struct dvol_nfs_target *t = pr->t;
	struct conn *c = &pr->conns[CONN_NFS];
	double secs = (double)pr->p->timeout_ms / 1000.0;

	if (c->err && class_of_errno(c->err) == DVOL_NFS_LOCAL_ERROR) {
		t->err = DVOL_NFS_LOCAL_ERROR;
		t->err_errno = c->err;
		return set_detail(t,
				  "cannot open a TCP connection to %s port %u: %s; that is a "
				  "limit of this process or machine, not the server: raise the "
				  "open-file limit (ulimit -n) or probe fewer targets at once",
				  t->addr, nfs_port(t), strerror(c->err));
	}
	if (c->err) {
		t->err = class_of_errno(c->err);
		t->err_errno = c->err;
		return set_detail(t, "TCP connect to %s port %u: %s%s", t->addr, nfs_port(t),
				  strerror(c->err),
				  t->addrs_tried > 1 ? " (the last of the name's addresses)" : "");
	}
	t->err = DVOL_NFS_TIMEOUT;
	return set_detail(t, "TCP connect to %s port %u: no answer within %.1f s", t->addr,
			  nfs_port(t), secs);
}

/* The verdict on a connected target that proved no version a mount could use, or not the
 * one asked for: what its calls got instead. */
static int judge_calls(struct probe *pr, bool deadline)
{
	struct dvol_nfs_target *t = pr->t;
	struct conn *c = &pr->conns[CONN_NFS];
	double secs = (double)pr->p->timeout_ms / 1000.0;
	const char *vs = dvol_nfs_vers_to_string(t->want);

	if (c->garbage && !wants(t->want, t->versions)) {
		t->err = DVOL_NFS_PROTOCOL_ERROR;
		return set_detail(t, "%s port %u accepts TCP, but sends what is no RPC reply (%s)",
				  t->addr, nfs_port(t), c->garbage);
	}
	if (t->versions == 0 && deadline && !c->lost && c->bytes_in) {
		t->err = DVOL_NFS_PROTOCOL_ERROR;
		return set_detail(t,
				  "%s port %u accepts TCP and sent %llu bytes within %.1f s, but "
				  "none of them answered a call",
				  t->addr, nfs_port(t), (unsigned long long)c->bytes_in, secs);
	}
	if (t->versions == 0 && deadline && !c->lost) {
		t->err = DVOL_NFS_TIMEOUT;
		return set_detail(t,
				  "connected to %s port %u, but no RPC reply within %.1f s (NULL "
				  "for NFS v3 and v4 sent)",
				  t->addr, nfs_port(t), secs);
	}
	if (t->versions == 0 && c->lost) {
		t->err = DVOL_NFS_REFUSED;
		t->err_errno = c->err ? c->err : ECONNRESET;
		return set_detail(t,
				  "connected to %s port %u, but the server closed the connection "
				  "before it answered",
				  t->addr, nfs_port(t));
	}
	if (!(t->versions & DVOL_NFS_OFFERED) && deadline &&
	    any_pending(pr, CALL_MINOR0, CALL_MINOR2)) {
		t->err = DVOL_NFS_TIMEOUT;
		return set_detail(t,
				  "%s port %u answers NFSv4 NULL, but no COMPOUND within %.1f s "
				  "(sent for minor versions 0, 1 and 2)",
				  t->addr, nfs_port(t), secs);
	}
	if (!(t->versions & DVOL_NFS_OFFERED) && (t->versions & DVOL_NFS_V4)) {
		t->err = DVOL_NFS_RPC_MISMATCH;
		return set_detail(t,
				  "%s port %u answers NFSv4 NULL, but no COMPOUND of minor "
				  "version 0, 1 or 2: no version a mount could use",
				  t->addr, nfs_port(t));
	}
	if (!(t->versions & DVOL_NFS_OFFERED)) {
		t->err = DVOL_NFS_RPC_MISMATCH;
		return set_detail(t,
				  "%s port %u accepts TCP, but answers neither NFS v3 nor v4 NULL "
				  "(not an NFS server?)",
				  t->addr, nfs_port(t));
	}
	t->err = DVOL_NFS_RPC_MISMATCH;
	return set_detail(t, "NFS %s was asked for; the server at %s port %u does not answer it",
			  vs ? vs : "?", t->addr, nfs_port(t));
}

/* The verdict on the export of a target that answers the version wanted: 0 and no verdict
 * when it is there, or might be. */
static int judge_export(struct probe *pr)
{
	struct dvol_nfs_target *t = pr->t;
	bool v3 = t->want == DVOL_NFS_V3;
	bool v4 = t->want && !v3;
	enum dvol_nfs_tri e3 = t->export_v3, e4 = t->export_v4;
	bool missing = v3   ? e3 == DVOL_NFS_NO
		       : v4 ? e4 == DVOL_NFS_NO
			    : (e3 == DVOL_NFS_NO || e4 == DVOL_NFS_NO) && e3 != DVOL_NFS_YES &&
				  e4 != DVOL_NFS_YES;

	if (pr->v4_denied) {
		t->err = DVOL_NFS_ACCESS_DENIED;
		return set_detail(t, "the server refuses this client access to %s (NFSv4 LOOKUP)",
				  t->export);
	}
	if (missing) {
		t->err = DVOL_NFS_EXPORT_MISSING;
		return set_detail(t, "the server at %s answers, but has no export %s", t->addr,
				  t->export);
	}
	return 0;
}

/* The verdict, once both sides are done or the deadline has passed. */
static int probe_finish(struct probe *pr, bool deadline)
{
	struct dvol_nfs_target *t = pr->t;

	for (unsigned i = 0; i < _CONN_MAX; i++)
		conn_close(&pr->conns[i]);
	pr->finished = true;
	t->elapsed_ms = (dvol_now_us() - pr->start_us) / 1000u;
	if (t->rtt_count > 0)
		t->rtt_ms = rtt_median(pr->rtt, t->rtt_count);

	if (pr->rq) {
		t->err = DVOL_NFS_UNRESOLVABLE;
		return set_detail(t, "the name resolver gave no answer for %s within %.1f s",
				  t->host, (double)pr->p->timeout_ms / 1000.0);
	}
	if (!t->tcp)
		return judge_connect(pr);
	if (!wants(t->want, t->versions) || !(t->versions & DVOL_NFS_OFFERED))
		return judge_calls(pr, deadline);
	if (t->export)
		return judge_export(pr);
	return 0;
}

static int probe_advance(struct probe *pr)
{
	int r;

	if (pr->finished)
		return 0;
	r = nfs_advance(pr);
	if (r >= 0 && pr->p->v3_side)
		r = v3_advance(pr);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		/* libnfs could not queue a call (out of memory inside it): end this side. */
		conn_close(&pr->conns[CONN_NFS]);
		pr->nfs_step = NFS_DONE;
	}
	if (pr->nfs_step == NFS_DONE && (!pr->p->v3_side || pr->v3_step == V3_DONE))
		return probe_finish(pr, false);
	return 0;
}

/*
 * libnfs reads a socket for as long as it has something to read: a peer that sends
 * faster than that keeps rpc_service() from ever returning. An alarm, armed only while
 * the loop hands sockets to libnfs, swaps each socket past its deadline for a pipe's
 * read end (dup2 is async-signal-safe), on which recv fails: libnfs gives up the
 * connection and the loop gets its turn again. Process-wide state, for one loop at a time.
 */
static const struct pollfd *alarm_fds;
static const uint64_t *alarm_deadlines;
static bool *alarm_cut;
static volatile sig_atomic_t alarm_n;
static int alarm_dead_fd = -EBADF;

static void deadline_alarm(int sig)
{
	int saved = errno;
	uint64_t now = dvol_now_us();

	for (sig_atomic_t j = 0; j < alarm_n; j++)
		if (!alarm_cut[j] && alarm_deadlines[j] <= now) {
			alarm_cut[j] = true;
			(void)dup2(alarm_dead_fd, alarm_fds[j].fd);
		}
	errno = saved;
}

static void alarm_arm(uint64_t first_deadline_us)
{
	uint64_t now = dvol_now_us(), d = first_deadline_us > now ? first_deadline_us - now : 0;
	struct itimerval it = {
	    .it_value = {.tv_sec = (time_t)(d / 1000000u), .tv_usec = (long)(d % 1000000u) + 1000},
	    .it_interval = {.tv_usec = 50000},
	};

	if (it.it_value.tv_usec >= 1000000) {
		it.it_value.tv_sec++;
		it.it_value.tv_usec -= 1000000;
	}
	(void)setitimer(ITIMER_REAL, &it, NULL);
}

static void alarm_disarm(void)
{
	alarm_n = 0;
	(void)setitimer(ITIMER_REAL, &(struct itimerval){0}, NULL);
}

static void conn_service(struct conn *c, short revents)
{
	if (!c->connected && (revents & (POLLOUT | POLLERR | POLLHUP))) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(rpc_get_fd(c->rpc), SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			c->err = err;
			conn_close(c);
			return;
		}
	}
	if (rpc_service(c->rpc, revents) < 0) {
		const char *e = rpc_get_error(c->rpc);

		/* libnfs's words for a record it cannot take: say which, in the verdict. */
		if (c->connected && e &&
		    (strstr(e, "garbage") || strstr(e, "exceeds limit") ||
		     strstr(e, "recordmarker") || strstr(e, "fragment") || strstr(e, "xid")))
			c->garbage = strdup(e);
		c->lost = c->connected;
		conn_close(c);
		return;
	}
	/* libnfs drops replies to calls it did not make, queues fragments without a bound,
	 * and reads for as long as there is something to read: the kernel's count of what
	 * the peer sent tells a flood from a slow answer. */
	if (c->connected) {
		struct tcp_info ti = {0};
		socklen_t len = sizeof(ti);

		if (getsockopt(rpc_get_fd(c->rpc), IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
		    len >= offsetof(struct tcp_info, tcpi_bytes_received) + sizeof(uint64_t))
			c->bytes_in = ti.tcpi_bytes_received;
	}
	if (c->bytes_in > FLOOD_BYTES) {
		c->garbage = strdup("it sent more than 4 MiB without answering the calls");
		c->lost = true;
		conn_close(c);
	}
}

/* --- addresses ---------------------------------------------------------------------- */

static int start_conns(struct probe *pr)
{
	struct dvol_nfs_target *t = pr->t;
	int r;

	snprintf(t->addr, sizeof(t->addr), "%s", pr->addrs[pr->cur_addr]);
	t->addrs_tried = pr->cur_addr + 1;
	pr->nfs_step = NFS_CONNECT;
	r = conn_open(&pr->conns[CONN_NFS], nfs_port(t));
	if (r == -ENOMEM || !pr->p->v3_side)
		return r == -ENOMEM ? r : 0;
	if (pr->p->mount_port) {
		/* mountport= was given: MOUNT is asked there, as the kernel will. */
		t->mount_port = pr->p->mount_port;
		pr->v3_step = V3_MOUNT_CONNECT;
		r = conn_open(&pr->conns[CONN_MOUNT], pr->p->mount_port);
	} else {
		pr->v3_step = V3_CONNECT;
		r = conn_open(&pr->conns[CONN_PMAP], PMAP_PORT);
	}
	return r == -ENOMEM ? r : 0;
}

static int next_address(struct probe *pr)
{
	struct dvol_nfs_target *t = pr->t;

	for (unsigned i = 0; i < _CONN_MAX; i++)
		conn_close(&pr->conns[i]);
	/* What the portmapper side learnt was about the other address. */
	if (t->exports)
		for (char **e = t->exports; *e; e++)
			free(*e);
	free(t->exports);
	t->exports = NULL;
	t->portmapper = t->mountd = t->export_v3 = DVOL_NFS_UNKNOWN;
	t->mount_port = 0;
	memset(pr->calls, 0, sizeof(pr->calls));
	pr->cur_addr++;
	return start_conns(pr);
}

static void add_address(struct probe *pr, const struct sockaddr *sa)
{
	char buf[DVOL_NFS_ADDR_MAX];

	if (pr->n_addrs >= DVOL_NFS_ADDRS_MAX)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, sizeof(buf));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
			  sizeof(buf));
	else
		return;
	for (unsigned i = 0; i < pr->n_addrs; i++)
		if (strcmp(pr->addrs[i], buf) == 0)
			return;
	snprintf(pr->addrs[pr->n_addrs++], DVOL_NFS_ADDR_MAX, "%s", buf);
}

static int take_addresses(struct probe *pr, struct addrinfo *ai)
{
	for (struct addrinfo *a = ai; a; a = a->ai_next)
		add_address(pr, a->ai_addr);
	if (pr->n_addrs == 0) {
		pr->t->err = DVOL_NFS_UNRESOLVABLE;
		return set_detail(pr->t, "%s has no IPv4 or IPv6 address", pr->t->host);
	}
	pr->t->resolved = true;
	return 1;
}

/* A literal address needs no resolver: 1 when HOST was one, 0 if it is a name. */
static int resolve_literal(struct probe *pr)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST};
	struct addrinfo *ai = NULL;
	int r;

	if (getaddrinfo(pr->t->host, NULL, &hints, &ai) != 0)
		return 0;
	r = take_addresses(pr, ai);
	freeaddrinfo(ai);
	return r;
}

static int resolve_start(struct probe *pr)
{
	struct dvol_nfs_target *t = pr->t;
	size_t len = strlen(t->host);
	struct resolve_req *rq = calloc(1, sizeof(*rq) + len + 1);
	struct gaicb *list[1];
	int r;

	if (!rq)
		return -ENOMEM;
	memcpy(rq->name, t->host, len + 1);
	rq->hints.ai_socktype = SOCK_STREAM;
	rq->cb.ar_name = rq->name;
	rq->cb.ar_request = &rq->hints;
	list[0] = &rq->cb;
	/* One request a call: a failed call then surely left nothing queued. */
	r = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
	if (r != 0) {
		free(rq);
		t->err = DVOL_NFS_LOCAL_ERROR;
		pr->finished = true;
		return set_detail(t, "cannot start resolving %s: %s", t->host,
				  r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
	}
	pr->rq = rq;
	return 0;
}

/* A name in flight: hand it back to glibc's thread if it cannot be cancelled. */
static void resolve_drop(struct probe *pr)
{
	struct resolve_req *rq = pr->rq;
	int r;

	if (!rq)
		return;
	pr->rq = NULL;
	r = gai_cancel(&rq->cb);
	if (r == EAI_NOTCANCELED)
		return; /* the resolver thread still writes into it: it is left to it */
	if (gai_error(&rq->cb) == 0 && rq->cb.ar_result)
		freeaddrinfo(rq->cb.ar_result);
	free(rq);
}

/* 1 when the name is done with (resolved and connecting, or failed), 0 while in flight. */
static int resolve_check(struct probe *pr)
{
	struct resolve_req *rq = pr->rq;
	struct dvol_nfs_target *t = pr->t;
	int e = gai_error(&rq->cb), r;

	if (e == EAI_INPROGRESS)
		return 0;
	pr->rq = NULL;
	if (e != 0) {
		t->err = e == EAI_MEMORY ? DVOL_NFS_LOCAL_ERROR : DVOL_NFS_UNRESOLVABLE;
		r = set_detail(t, "cannot resolve %s: %s", t->host, gai_strerror(e));
		free(rq);
		pr->finished = true;
		t->elapsed_ms = (dvol_now_us() - pr->start_us) / 1000u;
		return r < 0 ? r : 1;
	}
	r = take_addresses(pr, rq->cb.ar_result);
	freeaddrinfo(rq->cb.ar_result);
	free(rq);
	if (r < 0)
		return r;
	if (!t->resolved) {
		pr->finished = true;
		t->elapsed_ms = (dvol_now_us() - pr->start_us) / 1000u;
		return 1;
	}
	r = start_conns(pr);
	return r < 0 ? r : 1;
}

static void tell_finished(struct probe *prs, size_t n, const struct dvol_nfs_probe_params *p)
{
	for (size_t i = 0; p->finished && i < n; i++)
		if (prs[i].finished && !prs[i].told) {
			prs[i].told = true;
			p->finished(prs[i].t, i, p->userdata);
		}
}

static void probes_free(struct probe *prs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (unsigned k = 0; k < _CONN_MAX; k++) {
			conn_close(&prs[i].conns[k]);
			free(prs[i].conns[k].garbage);
		}
		resolve_drop(&prs[i]);
		free(prs[i].path_copy);
	}
	free(prs);
}

/* One run of dvol_nfs_probe(): its probes, poll's view of their sockets, and the alarm
 * that cuts a socket at its deadline. */
struct run {
	struct probe *prs;
	size_t n;
	const struct dvol_nfs_probe_params *p;
	/* One slot for each connection with a socket, filled afresh each turn. */
	struct pollfd *pfds;
	struct conn **owners;
	uint64_t *deadlines;
	bool *cut;
	size_t n_fds;
	int dead_r, dead_w;
	struct sigaction old_sa;
	bool alarm_set; /* old_sa holds the handler to put back */
};

static void run_done(struct run *run)
{
	if (run->alarm_set) {
		alarm_disarm();
		(void)sigaction(SIGALRM, &run->old_sa, NULL);
		alarm_dead_fd = -EBADF;
	}
	if (run->prs)
		probes_free(run->prs, run->n);
	safe_close(run->dead_w);
	safe_close(run->dead_r);
	free(run->cut);
	free(run->deadlines);
	free(run->owners);
	free(run->pfds);
}

static int run_alloc(struct run *run)
{
	size_t slots = run->n * _CONN_MAX + 1;

	run->prs = calloc(run->n ? run->n : 1, sizeof(*run->prs));
	run->pfds = calloc(slots, sizeof(*run->pfds));
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sized as such */
	run->owners = calloc(slots, sizeof(*run->owners));
	run->deadlines = calloc(slots, sizeof(*run->deadlines));
	run->cut = calloc(slots, sizeof(*run->cut));
	if (!run->prs || !run->pfds || !run->owners || !run->deadlines || !run->cut)
		return -ENOMEM;
	return 0;
}

/* The pipe a cut socket is swapped for, and the handler that does it. */
static int run_alarm_install(struct run *run)
{
	struct sigaction sa = {.sa_handler = deadline_alarm};
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	run->dead_r = fds[0];
	run->dead_w = fds[1];
	alarm_dead_fd = run->dead_r;
	alarm_fds = run->pfds;
	alarm_deadlines = run->deadlines;
	alarm_cut = run->cut;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, &run->old_sa) < 0)
		return -errno;
	run->alarm_set = true;
	return 0;
}

/* Every deadline starts at START, and every name is sent to the resolver before the first
 * one is waited for. */
static int run_start(struct run *run, struct dvol_nfs_target *t, uint64_t start)
{
	int r;

	for (size_t i = 0; i < run->n; i++) {
		struct probe *pr = &run->prs[i];

		dvol_nfs_target_reset(&t[i]);
		pr->t = &t[i];
		pr->p = run->p;
		pr->start_us = start;
		pr->deadline_us = start + run->p->timeout_ms * 1000u;
		for (unsigned k = 0; k < _CONN_MAX; k++) {
			pr->conns[k].pr = pr;
			pr->conns[k].kind = k;
		}
		r = resolve_literal(pr);
		if (r < 0)
			return r;
		if (r > 0 && !t[i].resolved) {
			pr->finished = true;
			continue;
		}
		r = r > 0 ? start_conns(pr) : resolve_start(pr);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Where a probe is after its turn. */
enum probe_state { PROBE_FINISHED, PROBE_RESOLVING, PROBE_TALKING };

/* One probe's turn: its verdict at its deadline, its name once resolved, its next calls.
 * A probe_state, or -errno. */
static int probe_turn(struct probe *pr, uint64_t now)
{
	int r;

	if (pr->finished)
		return PROBE_FINISHED;
	if (now >= pr->deadline_us) {
		r = probe_finish(pr, true);
		resolve_drop(pr);
		return r < 0 ? r : PROBE_FINISHED;
	}
	if (pr->rq) {
		r = resolve_check(pr);
		if (r < 0)
			return r;
		if (r == 0)
			return PROBE_RESOLVING;
		if (pr->finished)
			return PROBE_FINISHED;
	}
	r = probe_advance(pr);
	if (r < 0)
		return r;
	return pr->finished ? PROBE_FINISHED : PROBE_TALKING;
}

/* Give poll the sockets of PR, each with PR's deadline. */
static void run_watch(struct run *run, struct probe *pr)
{
	for (unsigned c = 0; c < _CONN_MAX; c++) {
		struct conn *cn = &pr->conns[c];
		size_t k = run->n_fds;

		if (!cn->rpc || rpc_get_fd(cn->rpc) < 0)
			continue;
		run->pfds[k] = (struct pollfd){.fd = rpc_get_fd(cn->rpc),
					       .events = (short)rpc_which_events(cn->rpc)};
		run->deadlines[k] = pr->deadline_us;
		run->cut[k] = false;
		run->owners[k] = cn;
		run->n_fds++;
	}
}

/* Every probe's turn. *ret_next: the first deadline of a probe still going, UINT64_MAX
 * when all are finished; *ret_resolving: whether a name is still being resolved. */
static int run_turns(struct run *run, uint64_t now, uint64_t *ret_next, bool *ret_resolving)
{
	uint64_t next = UINT64_MAX;
	bool resolving = false;

	run->n_fds = 0;
	for (size_t i = 0; i < run->n; i++) {
		struct probe *pr = &run->prs[i];
		int r = probe_turn(pr, now);

		if (r < 0)
			return r;
		if (r == PROBE_FINISHED)
			continue;
		if (r == PROBE_RESOLVING)
			resolving = true;
		else
			run_watch(run, pr);
		if (pr->deadline_us < next)
			next = pr->deadline_us;
	}
	*ret_next = next;
	*ret_resolving = resolving;
	return 0;
}

/* Wait for the sockets until NEXT at the latest, and hand libnfs those that are ready. */
static int run_poll(struct run *run, uint64_t now, uint64_t next, bool resolving)
{
	int timeout_ms = (int)((next - now + 999) / 1000);

	/* The resolver's threads do not wake the loop: look again soon. */
	if (resolving && timeout_ms > RESOLVE_POLL_MS)
		timeout_ms = RESOLVE_POLL_MS;
	if (poll(run->pfds, run->n_fds, timeout_ms) < 0)
		return errno == EINTR ? 0 : -errno;
	alarm_n = (sig_atomic_t)run->n_fds;
	alarm_arm(next);
	for (size_t j = 0; j < run->n_fds; j++)
		if (run->pfds[j].revents && run->owners[j]->rpc)
			conn_service(run->owners[j], run->pfds[j].revents);
	alarm_disarm();
	/* A connection cut in the middle of libnfs's reading has been told so by now. */
	for (size_t j = 0; j < run->n_fds; j++) {
		struct conn *cn = run->owners[j];

		if (!run->cut[j])
			continue;
		if (!cn->garbage)
			cn->garbage = strdup("it was still sending at the deadline, "
					     "without answering the calls");
		cn->lost = true;
		conn_close(cn);
	}
	return 0;
}

int dvol_nfs_probe(struct dvol_nfs_target *t, size_t n, const struct dvol_nfs_probe_params *p)
{
	_cleanup_(run_done) struct run run = {.n = n, .p = p, .dead_r = -EBADF, .dead_w = -EBADF};
	uint64_t start = dvol_now_us();
	int r, ok = 0;

	r = run_alloc(&run);
	if (r < 0)
		return r;
	r = run_alarm_install(&run);
	if (r < 0)
		return r;
	r = run_start(&run, t, start);
	if (r < 0)
		return r;
	for (;;) {
		uint64_t now = dvol_now_us(), next;
		bool resolving;

		tell_finished(run.prs, n, p);
		r = run_turns(&run, now, &next, &resolving);
		if (r < 0)
			return r;
		if (next == UINT64_MAX)
			break;
		r = run_poll(&run, now, next, resolving);
		if (r < 0)
			return r;
	}
	tell_finished(run.prs, n, p);

	for (size_t i = 0; i < n; i++)
		if (t[i].err == DVOL_NFS_OK)
			ok++;
	return ok;
}

/* --- privileges and the result a probe process hands over ------------------------------- */

int dvol_nfs_drop_privileges(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {};
	uid_t ru, eu, su;

	if (getuid() == 0 || geteuid() == 0) {
		if (setgroups(0, NULL) < 0)
			return -errno;
		if (setresgid(DVOL_NFS_PROBE_GID, DVOL_NFS_PROBE_GID, DVOL_NFS_PROBE_GID) < 0)
			return -errno;
		if (setresuid(DVOL_NFS_PROBE_UID, DVOL_NFS_PROBE_UID, DVOL_NFS_PROBE_UID) < 0)
			return -errno;
	}
	/* Leaving uid 0 cleared them; a non-root caller with capabilities sheds them here.
	 * One with none has nothing to shed, and may not be allowed capset(2) at all (a unit
	 * with SystemCallFilter=~@privileged). */
	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	for (size_t i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (d[i].effective || d[i].permitted || d[i].inheritable) {
			memset(d, 0, sizeof(d));
			h.version = _LINUX_CAPABILITY_VERSION_3;
			if (syscall(SYS_capset, &h, d) < 0)
				return -errno;
			break;
		}
	if (getresuid(&ru, &eu, &su) < 0)
		return -errno;
	return ru == 0 || eu == 0 || su == 0 ? -EPERM : 0;
}

static void copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

void dvol_nfs_result_pack(const struct dvol_nfs_target *t, unsigned attempts,
			  struct dvol_nfs_result *ret)
{
	*ret = (struct dvol_nfs_result){
	    .magic = DVOL_NFS_RESULT_MAGIC,
	    .err = t->err,
	    .err_errno = t->err_errno,
	    .versions = t->versions,
	    .attempts = attempts,
	    .rtt_count = t->rtt_count,
	    .addrs_tried = t->addrs_tried,
	    .mount_port = t->mount_port,
	    .resolved = t->resolved,
	    .tcp = t->tcp,
	    .portmapper = (int8_t)t->portmapper,
	    .mountd = (int8_t)t->mountd,
	    .export_v3 = (int8_t)t->export_v3,
	    .export_v4 = (int8_t)t->export_v4,
	    .rtt_ms = t->rtt_ms,
	    .elapsed_ms = t->elapsed_ms,
	};
	copy_str(ret->addr, sizeof(ret->addr), t->addr);
	copy_str(ret->local_addr, sizeof(ret->local_addr), t->local_addr);
	/* The detail names the export as given, which may hold any byte: escaped, it passes
	 * the parent's check and the verdict arrives instead of a "malformed result". */
	dvol_escape_name(t->detail ? t->detail : "", ret->detail, sizeof(ret->detail));
}

static bool tri_ok(int8_t v)
{
	return v >= DVOL_NFS_UNKNOWN && v <= DVOL_NFS_YES;
}

/* A NUL inside, and nothing but printable ASCII before it. */
static bool str_ok(const char *s, size_t size)
{
	const char *z = memchr(s, 0, size);

	if (!z)
		return false;
	for (; s < z; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

static bool addr_ok(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return !*s || inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int dvol_nfs_result_unpack(const struct dvol_nfs_result *r, struct dvol_nfs_target *t,
			   unsigned *ret_attempts)
{
	const unsigned all = DVOL_NFS_V3 | DVOL_NFS_V4 | DVOL_NFS_V4_MINORS;

	if (r->magic != DVOL_NFS_RESULT_MAGIC || r->err >= _DVOL_NFS_ERR_MAX || r->err_errno < 0 ||
	    r->err_errno > 4095 || (r->versions & ~all) || r->rtt_count > DVOL_NFS_RTT_MAX ||
	    r->addrs_tried > DVOL_NFS_ADDRS_MAX || r->resolved > 1 || r->tcp > 1 ||
	    !tri_ok(r->portmapper) || !tri_ok(r->mountd) || !tri_ok(r->export_v3) ||
	    !tri_ok(r->export_v4) || !str_ok(r->addr, sizeof(r->addr)) ||
	    !str_ok(r->local_addr, sizeof(r->local_addr)) ||
	    !str_ok(r->detail, sizeof(r->detail)) || !addr_ok(r->addr) || !addr_ok(r->local_addr) ||
	    (r->resolved && !r->addr[0]) || (r->err == DVOL_NFS_OK && (!r->resolved || !r->tcp)) ||
	    (r->rtt_count && !(r->rtt_ms >= 0 && r->rtt_ms < 1e9)))
		return -EBADMSG;

	dvol_nfs_target_reset(t);
	if (r->detail[0] && !(t->detail = strdup(r->detail)))
		return -ENOMEM;
	t->err = r->err;
	t->err_errno = r->err_errno;
	t->versions = r->versions;
	t->rtt_count = r->rtt_count;
	t->rtt_ms = r->rtt_count ? r->rtt_ms : -1;
	t->addrs_tried = r->addrs_tried;
	t->mount_port = r->mount_port;
	t->resolved = r->resolved;
	t->tcp = r->tcp;
	/* NOLINTBEGIN(bugprone-signed-char-misuse,cert-str34-c): int8_t tri-states, -1 meant */
	t->portmapper = r->portmapper;
	t->mountd = r->mountd;
	t->export_v3 = r->export_v3;
	t->export_v4 = r->export_v4;
	/* NOLINTEND(bugprone-signed-char-misuse,cert-str34-c) */
	t->elapsed_ms = r->elapsed_ms;
	memcpy(t->addr, r->addr, sizeof(t->addr));
	memcpy(t->local_addr, r->local_addr, sizeof(t->local_addr));
	if (ret_attempts)
		*ret_attempts = r->attempts;
	return 0;
}

/* --- reporting ------------------------------------------------------------------------ */

const char *dvol_nfs_versions_format(unsigned versions, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; i < ELEMENTSOF(vers_names); i++) {
		/* "4" only when no minor version is known. */
		if (vers_names[i].bit == DVOL_NFS_V4 &&
		    (versions & (DVOL_NFS_V4_0 | DVOL_NFS_V4_1 | DVOL_NFS_V4_2)))
			continue;
		if (versions & vers_names[i].bit)
			n += snprintf(buf + n, n < size ? size - n : 0, "%s%s", n ? "," : "",
				      vers_names[i].name);
	}
	if (n == 0)
		snprintf(buf, size, "none");
	return buf;
}

char *dvol_nfs_probe_describe(const struct dvol_nfs_target *t,
			      const struct dvol_nfs_probe_params *p)
{
	_cleanup_free_ char *s = NULL;
	const char *vs = dvol_nfs_vers_to_string(t->want);
	int r;

	/* The calls start_calls() makes, in its order. */
	r = dvol_strextendf(&s, NULL, "TCP port %u, NFS NULL v3 and v4, COMPOUND 4.0-4.2",
			    t->port ? t->port : DVOL_NFS_PORT);
	if (r >= 0 && t->export)
		r = dvol_strextendf(&s, ", ", "LOOKUP %s", t->export);
	if (r >= 0 && p->v3_side && p->mount_port)
		r = dvol_strextendf(&s, ", ", "MOUNT on port %u", p->mount_port);
	else if (r >= 0 && p->v3_side)
		r = dvol_strextendf(&s, ", ", "portmapper and MOUNT");
	if (r >= 0 && p->rtt_count)
		r = dvol_strextendf(&s, ", ", "%u NULL calls for the round-trip time",
				    p->rtt_count);
	if (r >= 0 && vs)
		r = dvol_strextendf(&s, ", ", "wanted vers=%s", vs);
	if (r < 0)
		return NULL;
	return TAKE_PTR(s);
}

static const char *tri(enum dvol_nfs_tri v, const char *yes, const char *no)
{
	return v == DVOL_NFS_YES ? yes : v == DVOL_NFS_NO ? no : "unknown";
}

char *dvol_nfs_target_summary(const struct dvol_nfs_target *t)
{
	char vers[64], rtt[64] = "";
	char *s = NULL;

	if (!t->resolved)
		return strdup("name not resolved");
	if (!t->tcp) {
		if (asprintf(&s, "no TCP connection to %s port %u", t->addr, nfs_port(t)) < 0)
			return NULL;
		return s;
	}
	if (t->rtt_count)
		snprintf(rtt, sizeof(rtt), "; rtt %.2f ms (median of %u)", t->rtt_ms, t->rtt_count);
	if (asprintf(&s, "TCP ok; NFS versions answering: %s; portmapper %s; MOUNT %s%s%s%s",
		     dvol_nfs_versions_format(t->versions, vers, sizeof(vers)),
		     tri(t->portmapper, "yes", "no"), tri(t->mountd, "yes", "no"),
		     t->export ? "; export " : "", t->export ? t->export : "",
		     !t->export							    ? ""
		     : t->export_v4 == DVOL_NFS_YES || t->export_v3 == DVOL_NFS_YES ? " present"
		     : t->export_v4 == DVOL_NFS_NO || t->export_v3 == DVOL_NFS_NO
			 ? " missing"
			 : " not checked") < 0)
		return NULL;
	if (rtt[0]) {
		char *s2 = NULL;

		if (asprintf(&s2, "%s%s", s, rtt) < 0)
			s2 = NULL;
		free(s);
		s = s2;
	}
	return s;
}

static int add_tri(json_object *o, const char *key, enum dvol_nfs_tri v)
{
	return v == DVOL_NFS_UNKNOWN ? 0 : dvol_json_add_bool(o, key, v == DVOL_NFS_YES);
}

int dvol_nfs_target_to_json(const struct dvol_nfs_target *t, bool with_exports, json_object **ret)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	_cleanup_json_ json_object *vs = json_object_new_array();
	const char *high = dvol_nfs_vers_to_string(dvol_nfs_vers_highest(t->versions));
	int r = 0;

	if (!o || !vs)
		return -ENOMEM;
	for (size_t i = 0; i < ELEMENTSOF(vers_names); i++) {
		if (vers_names[i].bit == DVOL_NFS_V4 &&
		    (t->versions & (DVOL_NFS_V4_0 | DVOL_NFS_V4_1 | DVOL_NFS_V4_2)))
			continue;
		if ((t->versions & vers_names[i].bit) &&
		    json_object_array_add(vs, json_object_new_string(vers_names[i].name)) < 0)
			return -ENOMEM;
	}
	r = dvol_json_add_string(o, "target", t->name);
	if (r >= 0)
		r = dvol_json_add_string(o, "host", t->host);
	if (r >= 0)
		r = dvol_json_add_int(o, "port", nfs_port(t));
	if (r >= 0)
		r = dvol_json_add_string(o, "export", t->export);
	if (r >= 0 && t->want)
		r = dvol_json_add_string(o, "vers", dvol_nfs_vers_to_string(t->want));
	if (r >= 0)
		r = dvol_json_add_bool(o, "ok", t->err == DVOL_NFS_OK);
	if (r >= 0 && t->err != DVOL_NFS_OK)
		r = dvol_json_add_string(o, "error", dvol_nfs_err_to_string(t->err));
	if (r >= 0 && t->err_errno)
		r = dvol_json_add_string(o, "errno", strerrorname_np(t->err_errno));
	if (r >= 0)
		r = dvol_json_add_string(o, "detail", t->detail);
	if (r >= 0 && t->resolved)
		r = dvol_json_add_string(o, "address", t->addr);
	if (r >= 0 && t->local_addr[0])
		r = dvol_json_add_string(o, "client_address", t->local_addr);
	if (r >= 0 && t->resolved)
		r = dvol_json_add_bool(o, "tcp", t->tcp);
	if (r >= 0 && t->tcp)
		r = dvol_json_add(o, "versions", TAKE_PTR(vs));
	if (r >= 0)
		r = dvol_json_add_string(o, "highest_version", high);
	if (r >= 0)
		r = add_tri(o, "portmapper", t->portmapper);
	if (r >= 0)
		r = add_tri(o, "mount", t->mountd);
	if (r >= 0 && t->mount_port)
		r = dvol_json_add_int(o, "mount_port", t->mount_port);
	if (r >= 0 && with_exports)
		r = dvol_json_add_strv(o, "exports", t->exports);
	if (r >= 0 && with_exports && t->exports_cut)
		r = dvol_json_add_bool(o, "exports_cut", true);
	if (r >= 0)
		r = add_tri(o, "export_v3", t->export_v3);
	if (r >= 0)
		r = add_tri(o, "export_v4", t->export_v4);
	if (r >= 0 && t->rtt_count) {
		r = dvol_json_add_double(o, "rtt_ms", t->rtt_ms);
		if (r >= 0)
			r = dvol_json_add_int(o, "rtt_samples", t->rtt_count);
	}
	if (r >= 0)
		r = dvol_json_add_int(o, "elapsed_ms", (int64_t)t->elapsed_ms);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(o);
	return 0;
}
