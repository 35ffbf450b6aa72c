/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mount.dvol, optional: what goes on the target while the volume is not ready, and its
 * removal once it is.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "fallback.h"
#include "fdutil.h"
#include "libmount-util.h"
#include "log.h"
#include "rootdir.h"

#include "mount-dvol.h"

static int fallback_dir(struct plan *p)
{
	return p->fallback_dir ? 0 : dvol_fallback_dir(p->target, &p->fallback_dir);
}

/*
 * Is MI, mounted on the target, the fallback of an earlier run? The tmpfs by its source;
 * the disk kind by what it is: a bind (not a whole filesystem) whose root is the very
 * folder DVOL_FALLBACK_DIR holds for this target, reached without a link. Neither a path in
 * mountinfo nor an attribute in utab alone could tell it from a bind someone else made.
 */
bool is_fallback(struct plan *p, const struct dvol_mount_info *mi, enum dvol_fallback *ret_kind)
{
	_cleanup_close_ int fd = -EBADF;

	if (mi->fstype && strcmp(mi->fstype, "tmpfs") == 0 && mi->source &&
	    strcmp(mi->source, DVOL_FALLBACK_SOURCE) == 0) {
		*ret_kind = DVOL_FALLBACK_TMPFS;
		return true;
	}
	if (p->target_fd < 0 || fallback_dir(p) < 0 ||
	    !dvol_fallback_root_matches(mi->root, p->fallback_dir))
		return false;
	if (dvol_rootdir_open(p->fallback_dir, &fd, NULL) < 0 || !dvol_same_inode(fd, p->target_fd))
		return false;
	*ret_kind = DVOL_FALLBACK_DISK;
	return true;
}

/* The fallback of an earlier run goes, now that the volume is ready; not while anything
 * has it open (umount without MNT_DETACH), so that nothing written there is cut off. */
int fallback_remove(struct plan *p)
{
	_cleanup_(mnt_free_updatep) struct libmnt_update *upd = NULL;
	int r;

	/* Our own fd of its root would hold it busy. */
	p->target_fd = safe_close(p->target_fd);
	if (umount2(p->target, UMOUNT_NOFOLLOW) < 0) {
		r = -errno;
		if (r == -EBUSY)
			log_error(
			    "%s is ready, but the empty folder mounted on %s in its place is in "
			    "use (open files, or a working directory there); it is left as it "
			    "is. Stop what uses it, then mount again",
			    arg_spec, p->target);
		else
			log_error_errno(r, "cannot unmount the empty folder on %s", p->target);
		return r;
	}
	p->on_fallback = false;
	if (p->on_fallback_kind == DVOL_FALLBACK_DISK)
		log_notice("%s is ready: the fallback folder bound on %s in its place is "
			   "unmounted. What was written there meanwhile is kept in %s on the root "
			   "disk: copy what is needed from there, then remove it",
			   arg_spec, p->target, p->fallback_dir);
	else
		log_notice("%s is ready: the empty folder mounted on %s in its place is gone",
			   arg_spec, p->target);
	/* Its utab line goes with it, as umount(8) would remove it. */
	upd = mnt_new_update();
	if (!arg_nomtab && upd && mnt_update_set_fs(upd, 0, p->target, NULL) == 0)
		(void)mnt_update_table(upd, NULL);
	r = dvol_open_dir(p->target, &p->target_fd);
	if (r < 0)
		return log_error_errno(r, "cannot open mount point %s again", p->target);
	return 0;
}

/* Does the folder at FD hold anything? */
static bool dir_has_entries(int fd)
{
	_cleanup_close_ int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	bool any = false;
	DIR *d;

	if (dfd < 0 || !(d = fdopendir(dfd)))
		return false;
	dfd = -EBADF;
	while (!any && (de = readdir(d)))
		any = strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return any;
}

/*
 * fallback=disk: make (or find) DVOL_FALLBACK_DIR's folder for the target, each component from
 * its parent's fd and never through a link, so that nothing planted there can point the
 * mkdir or the bind elsewhere; DVOL_FALLBACK_DIR itself root's and 0700, as what it holds may be
 * anyone's data. Bind it on the target, and say where what is written there goes.
 */
static int fallback_disk(struct plan *p)
{
	_cleanup_close_ int top = -EBADF, leaf = -EBADF;
	_cleanup_free_ char *failed_at = NULL;
	const char *at = DVOL_FALLBACK_DIR;
	struct stat st;
	bool left;
	int r;

	r = dvol_rootdir_private(DVOL_FALLBACK_DIR, 0755, &top, &failed_at);
	if (failed_at)
		at = failed_at;
	if (r == -EPERM) {
		log_error("%s is not ready, and %s belongs to uid %u, not to this user: the "
			  "fallback folder is not made in it, and nothing is mounted on %s. Find "
			  "out who made it, then remove it",
			  arg_spec, at, lstat(at, &st) == 0 ? (unsigned)st.st_uid : (unsigned)-1,
			  p->target);
		return r;
	}
	if (r >= 0)
		at = p->fallback_dir,
		r = dvol_rootdir_mkdirat(top, strrchr(p->fallback_dir, '/') + 1,
					 p->opts.mode_set ? p->opts.mode : 0755,
					 p->opts.uid_set ? p->opts.uid : (uid_t)-1,
					 p->opts.gid_set ? p->opts.gid : (gid_t)-1, &leaf);
	if (r == -ELOOP) {
		log_error("%s is not ready, and %s (or a folder above it) is a symbolic link: the "
			  "fallback folder is neither made nor bound through a link, which could "
			  "point anywhere; nothing is mounted on %s. Remove the link",
			  arg_spec, at, p->target);
		return r;
	}
	if (r < 0)
		return log_error_errno(r,
				       "%s is not ready, and the fallback folder %s cannot be "
				       "made; nothing is mounted on %s",
				       arg_spec, at, p->target);
	left = r == 0 && dir_has_entries(leaf);
	r = dvol_bind_fd(leaf, p->target_fd, p->opts.mflags);
	if (r < 0)
		return log_error_errno(r, "cannot bind the fallback folder %s on %s either",
				       p->fallback_dir, p->target);
	log_warning("WARNING: %s is not ready (%s): %s folder is bound on %s in its place "
		    "(optional). It is not the volume: what is written there goes to %s on the "
		    "root disk, with no size cap, and stays there after the volume takes its "
		    "place. Mount again once the volume is ready to put it there",
		    arg_spec, p->degraded,
		    left ? "a fallback folder that is NOT EMPTY (it holds what an earlier "
			   "fallback left)"
			 : "an EMPTY",
		    p->target, p->fallback_dir);
	return 0;
}

/* The default fallback: an empty tmpfs of at most fallback-size=, and the warning. */
static int fallback_tmpfs(struct plan *p)
{
	_cleanup_close_ int mfd = -EBADF;
	_cleanup_free_ char *fsopts = NULL;
	int q;

	if (asprintf(&fsopts, "size=%" PRIu64 ",mode=%04o", p->opts.fallback_size,
		     p->opts.mode_set ? (unsigned)p->opts.mode : 0755u) < 0)
		return -ENOMEM;
	q = dvol_mount_dev("tmpfs", DVOL_FALLBACK_SOURCE, fsopts, false, &mfd);
	if (q >= 0 && (p->opts.uid_set || p->opts.gid_set))
		q = dvol_mount_chmod_root(mfd, (mode_t)-1,
					  p->opts.uid_set ? p->opts.uid : (uid_t)-1,
					  p->opts.gid_set ? p->opts.gid : (gid_t)-1);
	if (q >= 0)
		q = dvol_mount_attach(mfd, p->target_fd, p->opts.mflags);
	if (q < 0)
		return log_error_errno(q, "cannot mount the empty folder (optional) on %s either",
				       p->target);
	log_warning("WARNING: %s is not ready (%s): an EMPTY folder is mounted on %s in its "
		    "place (optional). It is not the volume: what is written there lives in "
		    "memory, at most %" PRIu64 " bytes, and is lost at unmount. Mount again once "
		    "the volume is ready to put it there",
		    arg_spec, p->degraded, p->target, p->opts.fallback_size);
	return 0;
}

/* -f: what the fallback would be, or is already. */
static void fallback_print(const struct plan *p)
{
	const char *state = p->on_fallback ? "already mounted" : "would be mounted";

	if (p->opts.fallback == DVOL_FALLBACK_DISK)
		printf("fallback: %s (optional): the folder %s of the root disk, bound on %s, "
		       "dvol.degraded=%s\n",
		       state, p->fallback_dir, p->target, p->degraded);
	else
		printf("fallback: %s (optional): an empty tmpfs of at most %" PRIu64
		       " bytes on %s, dvol.degraded=%s\n",
		       state, p->opts.fallback_size, p->target, p->degraded);
}

/* The earlier fallback stays while the volume is still not ready: said again. */
static void fallback_keep(const struct plan *p)
{
	if (p->on_fallback_kind == DVOL_FALLBACK_DISK)
		log_warning("%s is still not ready: the empty folder stays on %s in its place "
			    "(optional; dvol.degraded=%s): what is written there goes to %s on "
			    "the root disk",
			    arg_spec, p->target, p->degraded, p->fallback_dir);
	else
		log_warning("%s is still not ready: the empty folder stays on %s in its place "
			    "(optional; dvol.degraded=%s)",
			    arg_spec, p->target, p->degraded);
}

/*
 * optional: the volume could not be made ready (R; the stage said why). An empty tmpfs of
 * at most fallback-size= (or fallback=disk's folder) goes on the target instead, so that
 * what runs there finds a folder that is not the volume's, and everyone is told: a warning
 * (stderr, the journal) and dvol.degraded= in utab. Exit 0. A later run, once the volume
 * is ready, puts it in the fallback's place (fallback_remove()). The decision is
 * dvol_fallback_decide()'s (common/fallback.h); this gathers its facts and carries it out.
 */
int fallback(struct libmnt_context *cxt, struct plan *p, int r)
{
	_cleanup_(dvol_mount_info_done) struct dvol_mount_info mi = {0};
	struct dvol_fallback_facts f = {
	    .optional = p->opts.optional,
	    .stage = p->fail,
	    .format_only = arg_format_only,
	    .r = r,
	    .want = p->opts.fallback,
	};
	enum dvol_fallback_action action;
	int q = 0;

	if (!dvol_fallback_wanted(&f))
		return r;
	p->degraded = dvol_degraded_reason(p->kind, r);
	/* A stage that failed before the target was opened: what is mounted there now. */
	if (p->target_fd < 0) {
		q = open_target(p, &mi);
		if (q < 0)
			return r;
		p->on_fallback = q > 0 && is_fallback(p, &mi, &p->on_fallback_kind);
	}
	f.on = p->on_fallback ? DVOL_FALLBACK_ON_OURS
	       : q > 0	      ? DVOL_FALLBACK_ON_OTHER
			      : DVOL_FALLBACK_ON_NOTHING;
	f.named = f.want != DVOL_FALLBACK_DISK || fallback_dir(p) >= 0;

	action = dvol_fallback_decide(&f);
	switch (action) {
	case DVOL_FALLBACK_NO:
		return r;
	case DVOL_FALLBACK_NO_OTHER:
		log_error("%s is not ready, and something else is mounted on %s: no empty folder "
			  "(optional) goes there either",
			  arg_spec, p->target);
		return r;
	case DVOL_FALLBACK_NO_NAME:
		log_error("%s is not ready, and no fallback folder can be named for %s (a path "
			  "too long to name a folder after): nothing is mounted there",
			  arg_spec, p->target);
		return r;
	case DVOL_FALLBACK_KEEP:
	case DVOL_FALLBACK_MOUNT_TMPFS:
	case DVOL_FALLBACK_MOUNT_DISK:
		break;
	}
	if (arg_fake) {
		fallback_print(p);
		return 0;
	}
	if (action == DVOL_FALLBACK_KEEP) {
		fallback_keep(p);
		return 0;
	}
	q = action == DVOL_FALLBACK_MOUNT_DISK ? fallback_disk(p) : fallback_tmpfs(p);
	if (q < 0)
		return r;
	p->fail = DVOL_FAIL_RECORD;
	q = record(cxt, p);
	if (q < 0)
		return log_error_errno(q,
				       "the empty folder is mounted on %s, but recording it in "
				       "utab failed",
				       p->target);
	return 0;
}
