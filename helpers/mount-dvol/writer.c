/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writer=exclusive: the volume is mounted read-only, and dvol-writer, started for it, makes
 * it read-write once it holds the lease (dvol-writer(8)). Its process is forked before the
 * first sandbox stage and waits for word that the mount is made: mount.dvol never holds
 * exec, and the holder runs outside mount.dvol's filters, under its own. It outlives
 * mount.dvol, in a session of its own, with /dev/null for its standard streams (its
 * messages go to syslog), so that mount(8) and a caller reading its output do not wait
 * for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cleanup.h"
#include "fdutil.h"
#include "heal.h"
#include "lease.h"
#include "libmount-util.h"
#include "log.h"
#include "rootdir.h"
#include "timeutil.h"

#include "mount-dvol.h"

#ifndef DVOL_SBINDIR
#define DVOL_SBINDIR "/usr/sbin"
#endif

/* Past wait-timeout: how long the holder may take to start and answer. */
#define WRITER_SLACK_MS 15000

void writer_done(struct plan_writer *w)
{
	safe_close(w->go);
	safe_close(w->ready);
}

/* The child: wait for 'g', then become dvol-writer hold TARGET. Never returns. */
static void writer_child(const struct plan *p, int go, int ready)
{
	char lease[32], wait[32], conflict[32], lock[32];
	/* Last: the server's lease, where the NFS client shows it, wins unless one is given. */
	char *argv[] = {"dvol-writer",
			"hold",
			p->target,
			conflict,
			wait,
			lock,
			"--ready-fd=3",
			"--rw",
			p->opts.lease_time_set ? lease : NULL,
			NULL};
	char c = 0;
	ssize_t n;
	int null;

	do
		n = read(go, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1 || c != 'g')
		_exit(0);
	(void)setsid();
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	ready = fcntl(ready, F_DUPFD, 10);
	if (null < 0 || ready < 0 || dup2(ready, 3) < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
	    dup2(null, 2) < 0)
		_exit(127);
	(void)close_range(4, ~0u, 0);
	snprintf(lease, sizeof(lease), "--lease-time=%llums",
		 (unsigned long long)p->opts.lease_time_ms);
	snprintf(conflict, sizeof(conflict), "--on-conflict=%s",
		 dvol_lease_on_conflict_to_string(p->opts.on_conflict));
	snprintf(wait, sizeof(wait), "--wait-timeout=%llums",
		 (unsigned long long)p->opts.wait_timeout_ms);
	/* The server answers a lock as it answered the probe, or is in its grace period. */
	snprintf(lock, sizeof(lock), "--lock-timeout=%llums",
		 (unsigned long long)p->opts.probe_timeout_ms);
	execv(DVOL_SBINDIR "/dvol-writer", argv);
	_exit(127);
}

int writer_prepare(struct plan *p)
{
	int go[2], ready[2];
	pid_t pid;

	if (!p->opts.writer_exclusive || arg_fake)
		return 0;
	/* An export is mounted where nobody looks first, and put on TARGET read-only. */
	if (p->kind == DVOL_VOL_NFS) {
		int r = dvol_rootdir_private(DVOL_HEAL_DIR, 0700, &p->heal_dir, NULL);

		if (r == -ELOOP || r == -EPERM) {
			log_error("writer=exclusive: %s, or a folder above it, is %s: no mount is "
				  "made there; nothing was mounted. Remove it",
				  DVOL_HEAL_DIR,
				  r == -ELOOP ? "a symbolic link"
					      : "not this user's, or not a folder");
			p->fail = DVOL_FAIL_MOUNT;
			return r;
		}
		if (r < 0)
			return log_error_errno(r, "cannot open %s", DVOL_HEAL_DIR);
	}
	if (pipe2(go, O_CLOEXEC) < 0)
		return log_error_errno(-errno, "cannot make a pipe for the writer's lease holder");
	if (pipe2(ready, O_CLOEXEC) < 0) {
		int r = -errno;

		safe_close(go[0]);
		safe_close(go[1]);
		return log_error_errno(r, "cannot make a pipe for the writer's lease holder");
	}
	pid = fork();
	if (pid < 0) {
		int r = -errno;

		safe_close(go[0]);
		safe_close(go[1]);
		safe_close(ready[0]);
		safe_close(ready[1]);
		return log_error_errno(r, "cannot start the writer's lease holder");
	}
	if (pid == 0) {
		safe_close(go[1]);
		safe_close(ready[0]);
		writer_child(p, go[0], ready[1]);
	}
	safe_close(go[0]);
	safe_close(ready[1]);
	p->writer.go = go[1];
	p->writer.ready = ready[0];
	return 0;
}

/*
 * The folder's NFS mount must keep its locks on the server: the options of an export
 * given as SOURCE are checked with the others (options.c), but a folder's come from
 * whoever mounted the export, and the kernel shows them in mountinfo (local_lock=,
 * nolock, vers=).
 */
static int writer_check_nfs_mount(struct plan *p, int fd)
{
	_cleanup_(mnt_unref_tablep) struct libmnt_table *tb = NULL;
	struct libmnt_fs *fs = NULL;
	const char *name = NULL, *what;
	struct statx stx;
	int r;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0)
		return log_error_errno(-errno, "cannot look at the mount of %s", p->spec.path);
	if (!(stx.stx_mask & STATX_MNT_ID))
		return log_error_errno(-EOPNOTSUPP, "cannot tell which mount %s is on",
				       p->spec.path);
	r = dvol_mountinfo_find_id(stx.stx_mnt_id, &tb, &fs);
	if (r < 0)
		return log_error_errno(r, "cannot find the mount of %s in mountinfo", p->spec.path);
	switch (dvol_lease_check_nfs_opts(mnt_fs_get_fs_options(fs), &name)) {
	case DVOL_LEASE_OPTS_OK:
		return 0;
	case DVOL_LEASE_OPTS_V3:
		what = "is NFSv3, whose locks (NLM) have no lease: a holder whose host dies "
		       "keeps its lock until that host comes back. Mount the export with "
		       "vers=4.1 or 4.2";
		break;
	default:
		what = "keeps its locks on this host, so that another host could write there "
		       "too. Mount the export without nolock and with local_lock=none";
		break;
	}
	log_error("option 'writer=exclusive' needs locks that reach the NFS server, and the "
		  "mount of %s on %s (%s) %s",
		  mnt_fs_get_source(fs) ?: "?", mnt_fs_get_target(fs) ?: "?", name ?: "?", what);
	p->fail = DVOL_FAIL_USAGE;
	return -EINVAL;
}

int writer_check_source(struct plan *p, int fd)
{
	struct statfs sfs;

	if (!p->opts.writer_exclusive)
		return 0;
	if (fstatfs(fd, &sfs) < 0)
		return log_error_errno(-errno, "cannot look at the filesystem of %s", p->spec.path);
	if (sfs.f_type == NFS_SUPER_MAGIC)
		return writer_check_nfs_mount(p, fd);
#ifdef DVOL_TEST_HOOKS
	/* The host tier has no NFS client: there, a folder of any filesystem stands in. */
	if (getenv("DVOL_TEST_WRITER_ANY_FS"))
		return 0;
#endif
	log_error("option 'writer=exclusive' needs a folder on NFS, whose server enforces the "
		  "one writer's lease across hosts, and %s is not on NFS: a lock there stays on "
		  "this host. Remove writer=exclusive",
		  p->spec.path);
	p->fail = DVOL_FAIL_USAGE;
	return -EINVAL;
}

/* One line from FD by UNTIL_MS, without its newline: its length, 0 at the end, -errno. */
static ssize_t read_line(int fd, char *buf, size_t size, uint64_t until_ms)
{
	for (size_t n = 0; n < size; n++) {
		int r = dvol_read_all_until(fd, buf + n, 1, until_ms);

		if (r == -EPIPE)
			return n == 0 ? 0 : -EPIPE;
		if (r < 0)
			return r;
		if (buf[n] == '\n') {
			buf[n] = 0;
			return (ssize_t)n;
		}
	}
	return -EMSGSIZE;
}

/* Undo the mount: the lease was not had, and read-only was not asked for. */
static void unmount(const struct plan *p)
{
	if (umount2(p->target, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
		log_error_errno(-errno, "cannot unmount %s again; unmount it by hand", p->target);
}

int writer_take(struct plan *p)
{
	static char line[DVOL_LEASE_RECORD_SIZE + 64];
	const struct dvol_opts *o = &p->opts;
	uint64_t until = dvol_now_ms() + WRITER_SLACK_MS +
			 (o->on_conflict == DVOL_LEASE_CONFLICT_WAIT ? o->wait_timeout_ms : 0);
	_cleanup_free_ char *who = NULL;
	bool pending = false;

	if (!o->writer_exclusive)
		return 0;
	if (write(p->writer.go, "g", 1) != 1) {
		unmount(p);
		return log_error_errno(-errno, "cannot start the writer's lease holder for %s",
				       p->target);
	}
	p->writer.go = safe_close(p->writer.go);

	for (;;) {
		struct dvol_lease_record rec;
		ssize_t n = read_line(p->writer.ready, line, sizeof(line), until);
		const char *json;
		bool readable;

		if (n <= 0) {
			unmount(p);
			if (pending && !who) {
				log_error("%s: the NFS server has not answered the writer's lock "
					  "after %.0f s (wait-timeout=); nothing was mounted",
					  p->target, o->wait_timeout_ms / 1000.0);
				return -EBUSY;
			}
			if (who) {
				log_error("%s: the writer's lease is still held by %s after %.0f s "
					  "(wait-timeout=); nothing was mounted",
					  p->target, who, o->wait_timeout_ms / 1000.0);
				return -EBUSY;
			}
			log_error("%s: the writer's lease holder (dvol-writer) %s without taking "
				  "the lease; nothing was mounted. Its reason is in the journal "
				  "(syslog: dvol-writer)",
				  p->target, n == -ETIMEDOUT ? "did not answer in time" : "ended");
			return n < 0 ? (int)n : -EIO;
		}
		if (strncmp(line, "held ", 5) == 0) {
			if (dvol_lease_record_parse(line + 5, strlen(line + 5), &rec) < 0) {
				unmount(p);
				log_error("%s: the writer's lease holder answered something else "
					  "than its record; nothing was mounted",
					  p->target);
				return -EBADMSG;
			}
			p->writer.held = true;
			log_info("%s: holding the writer's lease (generation %llu); mounted "
				 "read-write",
				 p->target, (unsigned long long)rec.generation);
			return 0;
		}
		if (strcmp(line, "pending") == 0) {
			double s = o->probe_timeout_ms / 1000.0;

			switch (o->on_conflict) {
			case DVOL_LEASE_CONFLICT_RO:
				p->writer.ro = true;
				log_warning(
				    "%s is mounted read-only: the NFS server neither granted "
				    "nor refused the writer's lock within %.1f s "
				    "(probe-timeout=). After a restart it grants no lock for "
				    "a grace period (one lease); mount it again then to "
				    "write, or use on-conflict=wait",
				    p->target, s);
				return 0;
			case DVOL_LEASE_CONFLICT_FAIL:
				unmount(p);
				log_error(
				    "%s: the NFS server neither granted nor refused the "
				    "writer's lock within %.1f s (probe-timeout=); nothing was "
				    "mounted (on-conflict=fail). After a restart it grants no "
				    "lock for a grace period (one lease): try again then",
				    p->target, s);
				return -EBUSY;
			case DVOL_LEASE_CONFLICT_WAIT:
				pending = true;
				log_notice(
				    "%s: the NFS server has not answered the writer's lock "
				    "within %.1f s (a grace period after a restart?); waiting "
				    "up to %.0f s",
				    p->target, s, o->wait_timeout_ms / 1000.0);
				continue;
			}
		}
		if (strncmp(line, "conflict ", 9) != 0) {
			unmount(p);
			log_error("%s: the writer's lease holder answered '%.32s'; nothing was "
				  "mounted",
				  p->target, line);
			return -EBADMSG;
		}
		json = line + 9;
		readable = dvol_lease_record_parse(json, strlen(json), &rec) == 0;
		free(who);
		who = NULL;
		if (readable && dvol_lease_describe(&rec, false, &who) < 0)
			return log_error_errno(-ENOMEM, "out of memory");
		if (!who && !(who = strdup("a holder whose record is unreadable")))
			return log_error_errno(-ENOMEM, "out of memory");
		switch (o->on_conflict) {
		case DVOL_LEASE_CONFLICT_RO:
			p->writer.ro = true;
			log_warning("%s is mounted read-only: the writer's lease is held by %s. "
				    "Only one host writes at a time (writer=exclusive); "
				    "on-conflict=wait waits for it, on-conflict=fail fails",
				    p->target, who);
			return 0;
		case DVOL_LEASE_CONFLICT_FAIL:
			unmount(p);
			log_error("%s: the writer's lease is held by %s; nothing was mounted "
				  "(on-conflict=fail). Only one host writes at a time",
				  p->target, who);
			return -EBUSY;
		case DVOL_LEASE_CONFLICT_WAIT:
			log_notice("%s: the writer's lease is held by %s; waiting up to %.0f s",
				   p->target, who, o->wait_timeout_ms / 1000.0);
			continue;
		}
	}
}
