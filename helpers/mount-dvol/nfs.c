/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mount.dvol, an NFS export: the probe process, the kernel mounts to try, and their run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fdutil.h"
#include "fscache.h"
#include "heal.h"
#include "libmount-util.h"
#include "mountop.h"
#include "log.h"
#include "probechild.h"
#include "strv.h"
#include "timeutil.h"

#include "mount-dvol.h"

/* What the probe process asks of the server: one place, for the probe and its message. */
static struct dvol_nfs_probe_params nfs_probe_params(const struct plan *p)
{
	return (struct dvol_nfs_probe_params){
	    .timeout_ms = p->opts.probe_timeout_ms,
	    /* The portmapper and MOUNT matter for v3 only. */
	    .v3_side = !p->nfs.probe.want || p->nfs.probe.want == DVOL_NFS_V3,
	    .mount_port = p->nfs.mopts.mountport,
	};
}

static void nfs_log_failure(const struct plan *p)
{
	const struct dvol_nfs_target *t = &p->nfs.probe;
	struct dvol_nfs_probe_params params = nfs_probe_params(p);
	_cleanup_free_ char *server = dvol_spec_nfs_server(&p->spec);
	_cleanup_free_ char *summary = dvol_nfs_target_summary(t);
	_cleanup_free_ char *tried = dvol_nfs_probe_describe(t, &params);

	log_error("cannot mount %s: NFS server %s%s%s%s is not usable: %s (%s)%s", arg_spec,
		  server ? server : p->spec.host, t->resolved ? " (" : "",
		  t->resolved ? t->addr : "", t->resolved ? ")" : "",
		  dvol_nfs_err_to_string(t->err), t->detail ? t->detail : "no detail",
		  p->nfs.attempts > 1 ? "; probed again until retry= ran out" : "");
	log_error("tried: %s; answered: %s; nothing was mounted", tried ? tried : "?",
		  summary ? summary : "?");
}

/*
 * cache=local: fsc for the kernel, and whether the host's cache is there to use it. A
 * mount with fsc and no active cache reads from the server, as one without fsc would:
 * the volume still mounts, and says so (the cache is the host's, started by
 * dvol-cachefilesd.service on its own volume, and may come later).
 */
static int nfs_cache_prepare(struct plan *p)
{
	struct plan_nfs *n = &p->nfs;
	_cleanup_close_ int fd = -EBADF;
	char buf[4096];
	ssize_t l = -1;

	if (!p->opts.cache_local)
		return 0;
	if (mnt_optstr_get_option(n->mopts.rest, "fsc", NULL, NULL) != 0 &&
	    mnt_optstr_append_option(&n->mopts.rest, "fsc", NULL) < 0)
		return log_error_errno(-ENOMEM, "out of memory");
	/* NFS shares a superblock with any earlier mount of the same server's filesystems,
	 * the server's root included, and a superblock keeps its first mount's options: at
	 * boot, a mount without fsc of another export of the same server, made a moment
	 * before, left this one uncached (seen in the guest). A superblock of its own, unless
	 * the user asked for sharecache. */
	if (mnt_optstr_get_option(n->mopts.rest, "sharecache", NULL, NULL) != 0 &&
	    mnt_optstr_get_option(n->mopts.rest, "nosharecache", NULL, NULL) != 0 &&
	    mnt_optstr_append_option(&n->mopts.rest, "nosharecache", NULL) < 0)
		return log_error_errno(-ENOMEM, "out of memory");
	fd = open(DVOL_FSCACHE_PROC, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		l = read(fd, buf, sizeof(buf) - 1);
	if (l >= 0)
		buf[l] = 0;
	n->cache_active = dvol_fscache_active(l >= 0 ? buf : NULL, &n->cache_name);
	if (!n->cache_active)
		log_warning("WARNING: cache=local: no FS-Cache cache is active on this host (%s: "
			    "%s), so %s is read from its server, uncached, until one starts. "
			    "Start dvol-cachefilesd.service (its cache volume must be mounted; "
			    "see mount.dvol(8))",
			    DVOL_FSCACHE_PROC,
			    fd < 0  ? strerror(errno)
			    : l < 0 ? strerror(errno)
				    : "none is active",
			    arg_spec);
	return 0;
}

/* Another mount of the superblock DEVNO than the one on TARGET, for a message: its mount
 * point (caller frees), or NULL. */
static char *mount_sharing(dev_t devno, const char *target)
{
	_cleanup_(mnt_unref_tablep) struct libmnt_table *tb =
	    mnt_new_table_from_file("/proc/self/mountinfo");
	_cleanup_(mnt_free_iterp) struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
	struct libmnt_fs *fs;

	while (tb && it && mnt_table_next_fs(tb, it, &fs) == 0)
		if (mnt_fs_get_devno(fs) == devno && mnt_fs_get_target(fs) &&
		    !mnt_fs_streq_target(fs, target))
			return strdup(mnt_fs_get_target(fs));
	return NULL;
}

/*
 * cache=local, once mounted: did the kernel take fsc? NFS shares one superblock for every
 * mount of the same filesystem of a server (unless nosharecache), and a superblock keeps
 * the options of its first mount: after a mount without fsc, this one is read uncached,
 * whatever it asked. Said, not failed: the volume works.
 */
static void nfs_cache_check(const struct plan *p)
{
	_cleanup_(dvol_mount_info_done) struct dvol_mount_info mi = {0};
	_cleanup_free_ char *other = NULL;
	int r;

	if (!p->opts.cache_local)
		return;
	r = dvol_mount_info_top(p->target, &mi);
	if (r <= 0) {
		log_debug_errno(r, "cache=local: cannot read the options of the mount on %s",
				p->target);
		return;
	}
	if (mi.fs_options && mnt_optstr_get_option(mi.fs_options, "fsc", NULL, NULL) == 0)
		return;
	other = mount_sharing(mi.devno, p->target);
	if (other)
		log_warning("WARNING: cache=local: %s on %s is read uncached: the kernel gave "
			    "it the superblock of the mount on %s, of the same filesystem of that "
			    "server, made without fsc (NFS shares one superblock per server "
			    "filesystem, with the options of its first mount). Unmount that one "
			    "or give it fsc too, or leave sharecache out of this one",
			    arg_spec, p->target, other);
	else
		log_warning("WARNING: cache=local: %s on %s is read uncached: the kernel "
			    "mounted it without fsc (an NFS client built without FS-Cache, or "
			    "sharecache and an earlier mount of this server without fsc)",
			    arg_spec, p->target);
}

/*
 * parse for NFS, before any sandbox: the user's NFS options (what the probe depends on is
 * probed and used as given, or refused here), and the probe's target. Nothing is touched.
 */
int nfs_prepare(struct plan *p)
{
	struct plan_nfs *n = &p->nfs;
	struct dvol_nfs_target *t = &n->probe;
	_cleanup_free_ char *bad = NULL;
	const char *why = NULL;
	int r;

	r = dvol_nfs_mopts_parse(p->opts.fs, p->spec.vers, p->spec.port, &n->mopts, &bad, &why);
	if (r == -ENOMEM)
		return log_error_errno(r, "out of memory");
	if (r < 0) {
		_cleanup_free_ char *b = shown(bad);

		log_error("option '%s' %s", b, why ? why : "is invalid");
		p->fail = DVOL_FAIL_USAGE;
		return r;
	}
	n->mount_timeout_ms = n->mopts.mount_timeout_ms
				  ? n->mopts.mount_timeout_ms
				  : p->opts.probe_timeout_ms * DVOL_NFS_MOUNT_TIMEOUT_FACTOR;
	if (asprintf(&n->source, p->spec.host_is_ipv6 ? "[%s]:%s" : "%s:%s", p->spec.host,
		     p->spec.path) < 0)
		return log_error_errno(-ENOMEM, "out of memory");

	r = dvol_nfs_target_parse(arg_spec, t, &why);
	if (r < 0) /* SOURCE parsed already: only memory can fail here */
		return log_error_errno(r, "cannot set up the probe of %s", arg_spec);
	/* The probe goes where the kernel mount will: addr= instead of the name, port=. */
	if (n->mopts.addr) {
		char *h = strdup(n->mopts.addr);

		if (!h)
			return log_error_errno(-ENOMEM, "out of memory");
		free(t->host);
		t->host = h;
	}
	t->port = n->mopts.port;
	t->want = n->mopts.vers;
	return nfs_cache_prepare(p);
}

/* In the probe process, which has only stderr: why it stopped, and why it goes on. */
static void nfs_probe_failed(enum dvol_probe_step step, int r, void *userdata)
{
	switch (step) {
	case DVOL_PROBE_STEP_PRIVILEGES:
		log_error_errno(r, "probe: cannot drop privileges to uid %u", DVOL_NFS_PROBE_UID);
		break;
	case DVOL_PROBE_STEP_SANDBOX:
		log_error_errno(r, "probe: cannot enter the sandbox");
		break;
	case DVOL_PROBE_STEP_PROBE:
		log_error_errno(r, "probing %s failed", arg_spec);
		break;
	}
}

static void nfs_probe_retrying(const struct dvol_nfs_target *t, uint64_t pause_ms, void *userdata)
{
	log_info("%s: %s (%s); probing again in %" PRIu64 " ms", arg_spec,
		 dvol_nfs_err_to_string(t->err), t->detail ? t->detail : "", pause_ms);
}

/* Before the parent's first sandbox stage: the probe process alone holds inet, as nobody. */
int nfs_probe_start(struct plan *p)
{
	int r = dvol_probe_start(&(struct dvol_probe_job){.target = &p->nfs.probe,
							  .params = nfs_probe_params(p),
							  .retry_ms = p->opts.retry_ms,
							  .failed = nfs_probe_failed,
							  .retrying = nfs_probe_retrying},
				 &p->nfs.probe_fd);

	return r < 0 ? log_error_errno(r, "cannot start the probe process") : 0;
}

/* The probe process's verdict, checked field by field; -errno, logged, if there is none. */
static int nfs_probe_wait(struct plan *p)
{
	struct plan_nfs *n = &p->nfs;
	/* The probe keeps its own deadlines; this one is for a probe that cannot. */
	uint64_t until = dvol_now_ms() + p->opts.retry_ms + p->opts.probe_timeout_ms + 10000;
	int r;

	r = dvol_probe_wait(n->probe_fd, until, &n->probe, &n->attempts);
	n->probe_fd = safe_close(n->probe_fd);
	switch (r) {
	case 0:
		return 0;
	case -ETIMEDOUT:
		log_error("cannot mount %s: the probe process gave no result by its deadline; "
			  "nothing was mounted",
			  arg_spec);
		return r;
	case -EPIPE:
		log_error("cannot mount %s: the probe process ended without a result (see its "
			  "message above); nothing was mounted",
			  arg_spec);
		return -EIO;
	case -EBADMSG:
		log_error("cannot mount %s: the probe process's result is malformed; nothing "
			  "was mounted",
			  arg_spec);
		return r;
	case -ENOMEM:
		return log_error_errno(r, "out of memory");
	default:
		return log_error_errno(r, "cannot read the probe process's result");
	}
}

/*
 * Have the kernel load its NFS client (sunrpc, nfs...) now, which on a booting machine can
 * take longer than a mount: mount-timeout= is for the server, not for module loading. Only
 * once the server passed, so that a dead one is still told in its probe timeout. No server
 * is contacted, nothing is mounted.
 */
static void nfs_load_client(void)
{
	_cleanup_close_ int fs = fsopen("nfs4", FSOPEN_CLOEXEC);

	if (fs < 0)
		log_debug_errno(-errno, "fsopen(\"nfs4\") to load the NFS client");
}

/* resolve + plan for NFS: the mount point, what is already there, then the probe's answer. */
int plan_nfs(struct plan *p)
{
	struct plan_nfs *n = &p->nfs;
	struct dvol_nfs_target *t = &n->probe;
	int r;

	r = check_existing(p);
	if (r < 0 || p->already)
		return r;

	/* retry= applies to the kernel mount as well, from the same start. */
	n->deadline_ms = p->opts.retry_ms ? dvol_now_ms() + p->opts.retry_ms : 0;
	r = nfs_probe_wait(p);
	if (r < 0)
		return r;
	if (t->err != DVOL_NFS_OK) {
		nfs_log_failure(p);
		return t->err == DVOL_NFS_TIMEOUT ? -ETIMEDOUT : -EHOSTUNREACH;
	}
	if (!arg_fake)
		nfs_load_client();

	/* writer=exclusive: NFSv3's locks have no lease (options.c refuses vers=3 itself). */
	r = dvol_nfs_tries(&n->mopts, t->versions & ~(p->opts.writer_exclusive ? DVOL_NFS_V3 : 0u),
			   t->addr, t->local_addr, t->mount_port, n->tries);
	if (r < 0)
		return log_error_errno(r, "out of memory");
	n->n_tries = (unsigned)r;
	if (n->n_tries == 0 && p->opts.writer_exclusive && (t->versions & DVOL_NFS_V3)) {
		_cleanup_free_ char *server = dvol_spec_nfs_server(&p->spec);

		log_error("cannot mount %s with writer=exclusive: NFS server %s offers only "
			  "NFSv3, whose locks (NLM) have no lease, so no takeover from a dead "
			  "holder could be bounded; nothing was mounted. Enable NFSv4 on the "
			  "server, or mount without writer=exclusive",
			  arg_spec, server ? server : p->spec.host);
		p->fail = DVOL_FAIL_MOUNT;
		return -EPROTONOSUPPORT;
	}
	if (n->n_tries == 0) {
		/* The probe's ok says a wanted version was proven: this is a bug. */
		log_error("cannot mount %s: the probe passed, but no NFS version to mount is left",
			  arg_spec);
		p->fail = DVOL_FAIL_BUG;
		return -EPROTO;
	}
	return 0;
}

static void nfs_trying(const struct dvol_nfs_try *t, void *userdata)
{
	const struct plan *p = userdata;

	log_debug("mount(\"%s\", \"%s\", \"%s\", 0x%lx, \"%s\")", p->nfs.source, p->target,
		  t->fstype, p->opts.mflags, t->data);
}

/* Each failed kernel mount: one item of the list the last message gives. */
static void nfs_failed(const struct dvol_nfs_attempt *a, void *userdata)
{
	struct plan *p = userdata;
	const char *vs = dvol_nfs_vers_to_string(a->try->vers);

	/* Out of memory here only shortens the list in the message. */
	(void)dvol_strextendf(&p->nfs.tried, "; ", "vers=%s: %s", vs,
			      a->r == -ETIMEDOUT ? "no answer in time" : strerror(-a->r));
	if (a->pause_ms)
		log_info("mounting %s with vers=%s: %s; again in %" PRIu64 " ms", p->nfs.source, vs,
			 strerror(-a->r), a->pause_ms);
}

/* act for NFS: the kernel mounts of the plan (nfsmount.h); no network of our own any
 * more. */
int act_nfs(struct plan *p)
{
	struct plan_nfs *n = &p->nfs;
	struct dvol_nfs_attempt last;
	char target[64];
	int r;

	snprintf(target, sizeof(target), "/proc/self/fd/%d", p->target_fd);
	r = dvol_nfs_mount_run(&(struct dvol_nfs_mount_job){.source = n->source,
							    .target = target,
							    .target_path = p->target,
							    .flags = p->opts.mflags,
							    .tries = n->tries,
							    .n_tries = n->n_tries,
							    .timeout_ms = n->mount_timeout_ms,
							    .retry_until = n->deadline_ms,
							    .trying = nfs_trying,
							    .failed = nfs_failed,
							    .userdata = p},
			       &last);
	if (r == 0 && last.landed)
		log_notice("the kernel mount of %s finished at its deadline", n->source);
	if (r == 0) {
		nfs_cache_check(p);
		return 0;
	}
	if (last.next == DVOL_NFS_NEXT_TIMEOUT) {
		log_error("cannot mount %s on %s: the server answered the probe, but the kernel "
			  "mount (vers=%s) did not finish within %.1f s (mount-timeout=) and was "
			  "stopped; nothing was mounted. Check the server's load and the network "
			  "path to it, or allow longer with mount-timeout=",
			  n->source, p->target, dvol_nfs_vers_to_string(last.try->vers),
			  n->mount_timeout_ms / 1000.0);
		return r;
	}
	if (r == -ENODEV)
		log_error("cannot mount %s on %s: this kernel has no NFS client (%s); load the "
			  "nfs and nfsv4 modules; nothing was mounted",
			  n->source, p->target, n->tried ?: "?");
	else
		log_error("cannot mount %s on %s: the server answered the probe, but the kernel "
			  "mount failed (%s); nothing was mounted",
			  n->source, p->target, n->tried ?: "?");
	return r;
}

/* Is PID a running mount.dvol? */
static bool is_mount_dvol(long pid)
{
	char path[64], comm[32] = "";
	_cleanup_close_ int fd = -EBADF;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, comm, sizeof(comm) - 1);
	if (n <= 0)
		return false;
	comm[n] = 0;
	return strcmp(comm, "mount.dvol\n") == 0;
}

/*
 * A run killed between its mount in DVOL_HEAL_DIR and the move leaves the folder there, and
 * maybe the export mounted on it, read-write and without a lease: each new.PID whose PID is
 * not a running mount.dvol is unmounted (as often as something is mounted there) and
 * removed, before a new one is made.
 */
static void stage_sweep(int dir)
{
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	int fd;

	fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		safe_close(fd);
		return;
	}
	while ((de = readdir(d))) {
		char at[PATH_MAX], *end;
		long pid;

		if (strncmp(de->d_name, "new.", 4) != 0)
			continue;
		errno = 0;
		pid = strtol(de->d_name + 4, &end, 10);
		if (errno || *end || pid <= 0 || pid == (long)getpid() || is_mount_dvol(pid))
			continue;
		snprintf(at, sizeof(at), "/proc/self/fd/%d/%s", dirfd(d), de->d_name);
		for (int i = 0; i < 16 && umount2(at, MNT_DETACH | UMOUNT_NOFOLLOW) == 0; i++)
			log_notice("%s/%s: unmounted what a run of mount.dvol that ended before "
				   "it was done left mounted there",
				   DVOL_HEAL_DIR, de->d_name);
		if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) == 0)
			log_info("%s/%s: removed, left by a run of mount.dvol that ended before it "
				 "was done",
				 DVOL_HEAL_DIR, de->d_name);
	}
}

/*
 * The export mounted where nobody else looks, on a folder of its own in DVOL_HEAL_DIR (made
 * from the folder's fd: nothing planted there can move it), and taken from there as a
 * detached copy: a mount beneath a shared one, as systemd makes them, cannot be moved. The
 * folder is unmounted and removed whatever happened, so a mount that landed after its
 * deadline is not left behind. *ret_tree: the copy, attached nowhere.
 */
int nfs_mount_detached(struct plan *p, int *ret_tree)
{
	_cleanup_close_ int tree = -EBADF, sfd = -EBADF;
	char name[32], at[64];
	int target_fd, r;

	stage_sweep(p->heal_dir);
	snprintf(name, sizeof(name), "new.%d", (int)getpid());
	snprintf(at, sizeof(at), "/proc/self/fd/%d/%s", p->heal_dir, name);
	if (mkdirat(p->heal_dir, name, 0700) < 0)
		return log_error_errno(-errno, "cannot make %s/%s", DVOL_HEAL_DIR, name);
	sfd = openat(p->heal_dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	r = sfd < 0 ? log_error_errno(-errno, "cannot open %s/%s", DVOL_HEAL_DIR, name) : 0;
	if (r >= 0) {
		target_fd = p->target_fd;
		p->target_fd = sfd;
		r = act_nfs(p);
		p->target_fd = target_fd;
	}
	if (r >= 0) {
		tree = open_tree(p->heal_dir, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (tree < 0)
			r = log_error_errno(-errno, "cannot take the new mount of %s from %s/%s",
					    p->nfs.source, DVOL_HEAL_DIR, name);
	}
	sfd = safe_close(sfd);
	(void)umount2(at, MNT_DETACH | UMOUNT_NOFOLLOW);
	(void)unlinkat(p->heal_dir, name, AT_REMOVEDIR);
	if (r < 0)
		return r;
	*ret_tree = TAKE_FD(tree);
	return 0;
}

/*
 * act for writer=exclusive: the export is read-only as a mount from its first instant on
 * TARGET (its superblock stays read-write), and dvol-writer makes it read-write once it
 * holds the lease (writer.c): TARGET is never read-write without the lease.
 */
int act_nfs_writer(struct plan *p)
{
	_cleanup_close_ int tree = -EBADF;
	int r;

	r = nfs_mount_detached(p, &tree);
	if (r < 0)
		return r;
	r = dvol_mount_attach(tree, p->target_fd, p->opts.mflags | MS_RDONLY);
	if (r < 0)
		return log_error_errno(r,
				       "cannot put the read-only mount of %s on %s; nothing "
				       "was mounted",
				       p->nfs.source, p->target);
	return 0;
}
