/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/time.h>
#include <unistd.h>

#include <libmount/libmount.h>

#include "cleanup.h"
#include "exitcode.h"
#include "fdutil.h"
#include "nfsmount.h"
#include "nfsprobe.h"
#include "parse.h"

void dvol_nfs_mopts_done(struct dvol_nfs_mopts *o)
{
	free(o->addr);
	free(o->clientaddr);
	free(o->proto);
	free(o->rest);
	*o = (struct dvol_nfs_mopts){0};
}

static bool is_ip(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static int parse_port(const char *v, uint16_t *ret)
{
	char *end;
	unsigned long p;

	errno = 0;
	p = strtoul(v, &end, 10);
	if (!*v || *end || errno || p == 0 || p > 65535)
		return -EINVAL;
	*ret = (uint16_t)p;
	return 0;
}

/* The version one option names: "vers=4.1", "nfsvers=3", "v4.1", "minorversion=1". */
static int vers_of(const char *name, const char *value, unsigned *ret, const char **why)
{
	const char *v = NULL;

	if (!strcmp(name, "vers") || !strcmp(name, "nfsvers"))
		v = value ? value : "";
	/* "v3", "v4.1": the version's own name after a 'v', as nfs(5) has them. */
	else if (name[0] == 'v' && !value &&
		 (!strcmp(name, "v2") || dvol_nfs_vers_from_string(name + 1)))
		v = name + 1;
	if (!v)
		return 0;
	if (!strcmp(v, "2"))
		return *why = "asks for NFS v2, which dvol does not mount (3, 4, 4.0, 4.1, 4.2)",
		       -EINVAL;
	*ret = dvol_nfs_vers_from_string(v);
	if (!*ret)
		return *why = "is not an NFS version dvol knows (3, 4, 4.0, 4.1, 4.2)", -EINVAL;
	return 1;
}

static int append(char **s, const char *name, const char *value)
{
	return mnt_optstr_append_option(s, name, value) < 0 ? -ENOMEM : 0;
}

static int fail(const char *name, const char *value, char **ret_bad, const char **ret_why,
		const char *why)
{
	if (asprintf(ret_bad, "%s%s%s", name, value ? "=" : "", value ? value : "") < 0)
		return -ENOMEM;
	*ret_why = why;
	return -EINVAL;
}

/* Why an option's version is refused when the source's ?vers= named another: the message
 * names both, and the reasons are static like every other. */
static const char *url_vers_conflict(unsigned url)
{
	switch (url) {
	case DVOL_NFS_V3:
		return "names another NFS version than the source's ?vers=3; give it in one place";
	case DVOL_NFS_V4:
		return "names another NFS version than the source's ?vers=4; give it in one place";
	case DVOL_NFS_V4_0:
		return "names another NFS version than the source's ?vers=4.0; give it in one "
		       "place";
	case DVOL_NFS_V4_1:
		return "names another NFS version than the source's ?vers=4.1; give it in one "
		       "place";
	default:
		return "names another NFS version than the source's ?vers=4.2; give it in one "
		       "place";
	}
}

/* The options read so far, and what the source's URL said. */
struct mopts_parse {
	struct dvol_nfs_mopts *o;
	long minor;	   /* minorversion=, or -1 */
	unsigned url;	   /* the source's ?vers=, or 0 */
	bool from_url;	   /* o->vers is the source's ?vers=, no option named one yet */
	uint16_t url_port; /* the source's port, or 0 */
};

/* vers=, nfsvers=, vN: one version for all of them and the source's ?vers=. */
static int take_vers(struct mopts_parse *ps, unsigned vb, const char **ret_why)
{
	if (ps->o->vers && ps->o->vers != vb)
		return *ret_why = ps->from_url ? url_vers_conflict(ps->url)
					       : "names another NFS version than an option "
						 "before it",
		       -EINVAL;
	ps->o->vers = vb;
	ps->from_url = false;
	return 0;
}

static int take_minor(struct mopts_parse *ps, const char *v, const char **ret_why)
{
	char *end;

	errno = 0;
	ps->minor = v ? strtol(v, &end, 10) : -1;
	if (!v || !*v || *end || errno || ps->minor < 0 || ps->minor > 2)
		return *ret_why = "is not an NFSv4 minor version dvol knows (0, 1, 2)", -EINVAL;
	return 0;
}

/* port= and mountport=. */
static int take_port(struct mopts_parse *ps, const char *n, const char *v, const char **ret_why)
{
	uint16_t p;

	if (!v || parse_port(v, &p) < 0)
		return *ret_why = "is not a port (1-65535); dvol probes the one port the kernel "
				  "will use, so it must be given",
		       -EINVAL;
	if (strcmp(n, "port") != 0) {
		ps->o->mountport = p;
		return 0;
	}
	if (ps->url_port && ps->url_port != p)
		return *ret_why = "disagrees with the port in the source", -EINVAL;
	ps->o->port = p;
	return 0;
}

/* addr= and clientaddr=: *V is taken. */
static int take_addr(struct mopts_parse *ps, const char *n, char **v, const char **ret_why)
{
	char **field = !strcmp(n, "addr") ? &ps->o->addr : &ps->o->clientaddr;

	if (!*v || !is_ip(*v))
		return *ret_why = "is not an IPv4 or IPv6 address", -EINVAL;
	free(*field);
	*field = TAKE_PTR(*v);
	return 0;
}

/* proto=: *V is taken. */
static int take_proto(struct mopts_parse *ps, char **v, const char **ret_why)
{
	if (!*v || (strcmp(*v, "tcp") != 0 && strcmp(*v, "tcp6") != 0))
		return *ret_why = "is a transport dvol cannot probe: NFS volumes are mounted over "
				  "TCP (proto=tcp or tcp6)",
		       -EINVAL;
	free(ps->o->proto);
	ps->o->proto = TAKE_PTR(*v);
	return 0;
}

/* One option N=*V, into its field or the rest: 0, -EINVAL with *ret_why, or -ENOMEM. */
static int take_option(struct mopts_parse *ps, const char *n, char **v, const char **ret_why)
{
	unsigned vb = 0;
	int r;

	r = vers_of(n, *v, &vb, ret_why);
	if (r != 0)
		return r < 0 ? r : take_vers(ps, vb, ret_why);
	if (!strcmp(n, "minorversion"))
		return take_minor(ps, *v, ret_why);
	if (!strcmp(n, "port") || !strcmp(n, "mountport"))
		return take_port(ps, n, *v, ret_why);
	if (!strcmp(n, "addr") || !strcmp(n, "clientaddr"))
		return take_addr(ps, n, v, ret_why);
	if (!strcmp(n, "proto"))
		return take_proto(ps, v, ret_why);
	if (!strcmp(n, "udp") || !strcmp(n, "rdma") || !strcmp(n, "mountproto"))
		return *ret_why = "is a transport dvol cannot probe: NFS volumes are mounted over "
				  "TCP",
		       -EINVAL;
	if (!strcmp(n, "mount-timeout")) {
		if (!*v || dvol_parse_duration_ms(*v, &ps->o->mount_timeout_ms) < 0 ||
		    ps->o->mount_timeout_ms == 0)
			return *ret_why = "is not a duration (seconds, or 500ms, 2m...)", -EINVAL;
		return 0;
	}
	return append(&ps->o->rest, n, *v);
}

/* What the options say together, once all are read. */
static int mopts_settle(struct mopts_parse *ps, char **ret_bad, const char **ret_why)
{
	struct dvol_nfs_mopts *o = ps->o;

	if (ps->minor >= 0) {
		unsigned vb = dvol_nfs_vers_minor((unsigned long)ps->minor);

		if (o->vers && o->vers != DVOL_NFS_V4 && o->vers != vb)
			return fail("minorversion", NULL, ret_bad, ret_why,
				    ps->from_url ? url_vers_conflict(ps->url)
						 : "disagrees with the NFS version asked for");
		o->vers = vb;
	}
	if (!o->port)
		o->port = ps->url_port;
	if (o->mountport && o->vers && o->vers != DVOL_NFS_V3)
		return fail("mountport", NULL, ret_bad, ret_why,
			    "applies to NFS v3 only, and another version was asked for");
	return 0;
}

int dvol_nfs_mopts_parse(const char *fs, const char *url_vers, uint16_t url_port,
			 struct dvol_nfs_mopts *ret, char **ret_bad, const char **ret_why)
{
	_cleanup_(dvol_nfs_mopts_done) struct dvol_nfs_mopts o = {0};
	struct mopts_parse ps = {.o = &o, .minor = -1, .url_port = url_port};
	char *s = (char *)fs, *name, *value;
	size_t nl, vl;
	int r;

	*ret_bad = NULL;
	*ret_why = NULL;
	/* The source's ?vers= counts as the first of the version options: one that disagrees
	 * with it is a usage error, as between two options (README, Version). */
	if (url_vers) {
		ps.url = dvol_nfs_vers_from_string(url_vers);
		if (!ps.url)
			return fail("vers", url_vers, ret_bad, ret_why,
				    "is not an NFS version dvol knows (3, 4, 4.0, 4.1, 4.2)");
		o.vers = ps.url;
		ps.from_url = true;
	}
	while (s && mnt_optstr_next_option(&s, &name, &nl, &value, &vl) == 0) {
		_cleanup_free_ char *n = strndup(name, nl);
		_cleanup_free_ char *v = value ? strndup(value, vl) : NULL;
		const char *why = NULL;

		if (!n || (value && !v))
			return -ENOMEM;
		r = take_option(&ps, n, &v, &why);
		if (r < 0)
			return why ? fail(n, v, ret_bad, ret_why, why) : r;
	}
	r = mopts_settle(&ps, ret_bad, ret_why);
	if (r < 0)
		return r;
	*ret = o;
	o = (struct dvol_nfs_mopts){0};
	return 0;
}

void dvol_nfs_tries_done(struct dvol_nfs_try *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(t[i].data);
		t[i].data = NULL;
	}
}

static int add_try(struct dvol_nfs_try *t, const struct dvol_nfs_mopts *o, unsigned vers,
		   const char *addr, const char *local_addr, uint16_t mount_port)
{
	const char *vs = dvol_nfs_vers_to_string(vers);
	bool v3 = vers == DVOL_NFS_V3;
	/* v4.0 calls the client back on a connection of its own; 4.1+ and v3 do not. */
	const char *caddr =
	    o->clientaddr
		? o->clientaddr
		: (vers == DVOL_NFS_V4_0 && local_addr && *local_addr ? local_addr : NULL);
	_cleanup_free_ char *d = NULL;
	char num[8];

	if (append(&d, "vers", vs) < 0 || append(&d, "addr", o->addr ? o->addr : addr) < 0 ||
	    (caddr && append(&d, "clientaddr", caddr) < 0))
		return -ENOMEM;
	if (o->port) {
		snprintf(num, sizeof(num), "%u", o->port);
		if (append(&d, "port", num) < 0)
			return -ENOMEM;
	}
	if (v3 && (o->mountport || mount_port)) {
		snprintf(num, sizeof(num), "%u",
			 (unsigned)(o->mountport ? o->mountport : mount_port));
		if (append(&d, "mountport", num) < 0)
			return -ENOMEM;
	}
	if ((o->proto && append(&d, "proto", o->proto) < 0) ||
	    (o->rest && append(&d, o->rest, NULL) < 0))
		return -ENOMEM;
	*t =
	    (struct dvol_nfs_try){.vers = vers, .fstype = v3 ? "nfs" : "nfs4", .data = TAKE_PTR(d)};
	return 0;
}

int dvol_nfs_tries(const struct dvol_nfs_mopts *o, unsigned offered, const char *addr,
		   const char *local_addr, uint16_t mount_port, struct dvol_nfs_try *ret)
{
	static const unsigned order[] = {DVOL_NFS_V4_2, DVOL_NFS_V4_1, DVOL_NFS_V4_0, DVOL_NFS_V3};
	unsigned want = o->vers == DVOL_NFS_V4 ? DVOL_NFS_V4_MINORS
			: o->vers	       ? o->vers
					       : DVOL_NFS_OFFERED;
	size_t n = 0;

	for (size_t i = 0; i < ELEMENTSOF(order); i++) {
		if (!(order[i] & want & offered))
			continue;
		if (add_try(&ret[n], o, order[i], addr, local_addr, mount_port) < 0) {
			dvol_nfs_tries_done(ret, n);
			return -ENOMEM;
		}
		n++;
	}
	return (int)n;
}

bool dvol_nfs_mount_is(const struct dvol_mount_info *mi, const char *source)
{
	/* "nfs" for v3, "nfs4" for v4: the kernel's names of the two. */
	return mi->fstype && (!strcmp(mi->fstype, "nfs") || !strcmp(mi->fstype, "nfs4")) &&
	       mi->source && source && !strcmp(mi->source, source);
}

int dvol_nfs_mount_within(const char *source, const char *target, const char *fstype,
			  unsigned long flags, const char *data, uint64_t deadline_ms)
{
	_cleanup_close_ int rfd = -EBADF;
	int fds[2], res = 0, r;
	pid_t pid;

	if (dvol_now_ms() >= deadline_ms)
		return -ETIMEDOUT;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		safe_close(fds[0]);
		safe_close(fds[1]);
		return -errno;
	}
	if (pid == 0) {
		uint64_t now = dvol_now_ms(), left = deadline_ms > now ? deadline_ms - now : 1;
		struct itimerval it = {.it_value = {.tv_sec = (time_t)(left / 1000),
						    .tv_usec = (long)(left % 1000) * 1000}};
		int e;

		safe_close(fds[0]);
		signal(SIGALRM, SIG_DFL);
		if (setitimer(ITIMER_REAL, &it, NULL) < 0)
			_exit(DVOL_EX_SYSERR);
		e = mount(source, target, fstype, flags, data) == 0 ? 0 : errno;
		(void)setitimer(ITIMER_REAL, &(struct itimerval){0}, NULL);
		_exit(dvol_write_all(fds[1], &e, sizeof(e)) < 0 ? DVOL_EX_SYSERR : 0);
	}
	safe_close(fds[1]);
	rfd = fds[0];
	/* The child's alarm ends it; this deadline is for a child that cannot be ended. An
	 * end of the pipe without an answer is a child that died at its deadline. */
	r = dvol_read_all_until(rfd, &res, sizeof(res), deadline_ms + 2000);
	if (r == -EPIPE || r == -ETIMEDOUT)
		return -ETIMEDOUT;
	return r < 0 ? r : -res;
}

enum dvol_nfs_next dvol_nfs_try_next(int r)
{
	switch (-r) {
	case 0:
		return DVOL_NFS_NEXT_MOUNTED;
	case ETIMEDOUT:
		return DVOL_NFS_NEXT_TIMEOUT;
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ECONNRESET:
	case EAGAIN:
		return DVOL_NFS_NEXT_NETWORK;
	case EPROTONOSUPPORT: /* a version the server offered and this kernel does not have */
	case ENODEV:	      /* no NFS client at all: each version says so in turn */
		return DVOL_NFS_NEXT_VERSION;
	default:
		return DVOL_NFS_NEXT_STOP;
	}
}

/* After a timeout: did the mount land anyway, in the instant before the child died? */
static bool landed(const char *target_path, const char *source)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_(dvol_mount_info_done) struct dvol_mount_info mi = {0};

	return dvol_open_dir(target_path, &fd) >= 0 && dvol_mount_info_at(fd, &mi) > 0 &&
	       dvol_nfs_mount_is(&mi, source);
}

int dvol_nfs_mount_run(const struct dvol_nfs_mount_job *j, struct dvol_nfs_attempt *ret_last)
{
	struct dvol_backoff backoff = DVOL_NFS_BACKOFF;
	uint64_t deadline = dvol_now_ms() + j->timeout_ms;
	struct dvol_nfs_attempt a = {0};

	/* retry= waits for a server that answered the probe; timeout_ms is for each go. */
	if (j->retry_until > deadline)
		deadline = j->retry_until;
	*ret_last = a;
	if (j->n_tries == 0)
		return -EINVAL;
	for (size_t i = 0; i < j->n_tries;) {
		uint64_t go = dvol_now_ms() + j->timeout_ms;

		if (j->trying)
			j->trying(&j->tries[i], j->userdata);
		a = (struct dvol_nfs_attempt){.try = &j->tries[i]};
		a.r = dvol_nfs_mount_within(j->source, j->target, a.try->fstype, j->flags,
					    a.try->data, go < deadline ? go : deadline);
		a.next = dvol_nfs_try_next(a.r);
		if (a.next == DVOL_NFS_NEXT_MOUNTED)
			break;
		if (a.next == DVOL_NFS_NEXT_TIMEOUT)
			a.landed = landed(j->target_path, j->source);
		if (a.next == DVOL_NFS_NEXT_NETWORK)
			a.pause_ms = dvol_backoff_next(&backoff, dvol_now_ms(), j->retry_until);
		if (a.landed)
			break;
		if (j->failed)
			j->failed(&a, j->userdata);
		if (a.pause_ms) {
			dvol_sleep_ms(a.pause_ms);
			continue;
		}
		if (a.next != DVOL_NFS_NEXT_VERSION)
			break;
		i++;
	}
	*ret_last = a;
	return a.next == DVOL_NFS_NEXT_MOUNTED || a.landed ? 0 : a.r;
}
