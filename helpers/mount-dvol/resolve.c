/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mount.dvol, the mount point, and whether what is mounted there is the volume asked for.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "fdutil.h"
#include "log.h"
#include "cleanup.h"

#include "mount-dvol.h"

/*
 * resolve the mount point, the same for every kind: an O_PATH fd (a symbolic link is
 * refused), and what is mounted there: 1 with *ret_mi filled, 0 for nothing (or an
 * automount point), or -errno, logged.
 */
int open_target(struct plan *p, struct dvol_mount_info *ret_mi)
{
	int r;

	r = dvol_open_dir(p->target, &p->target_fd);
	if (r == -ELOOP) {
		log_error("mount point %s is a symbolic link; refusing to mount over a link "
			  "(it could be swapped to point anywhere): use the real folder",
			  p->target);
		return r;
	}
	if (r == -ENOENT) {
		log_error("mount point %s does not exist", p->target);
		return r;
	}
	if (r < 0)
		return log_error_errno(r, "cannot open mount point %s", p->target);

	r = dvol_mount_info_at(p->target_fd, ret_mi);
	if (r == -EOPNOTSUPP) /* a kernel without STATX_ATTR_MOUNT_ROOT: assume nothing */
		return 0;
	if (r < 0)
		return log_error_errno(r, "cannot tell what is mounted on %s", p->target);
	return r;
}

/* Is what MI shows mounted the volume asked for? One predicate per kind. */
static int mounted_same(const struct plan *p, const struct dvol_mount_info *mi,
			enum dvol_mount_match *ret)
{
	bool want_ro = p->opts.mflags & MS_RDONLY;
	struct stat st;

	switch (p->kind) {
	case DVOL_VOL_BIND:
		*ret = dvol_mount_same(
		    mi, p->src_fd >= 0 && dvol_same_inode(p->src_fd, p->target_fd), NULL, want_ro);
		return 0;
	case DVOL_VOL_LOCAL:
		/* A block filesystem's st_dev is its device: the same device, not the same
		 * name. */
		if (fstat(p->target_fd, &st) < 0)
			return -errno;
		*ret = dvol_mount_same(mi, st.st_dev == p->local.dev.devno, "/",
				       want_ro || p->local.dev.read_only);
		return 0;
	case DVOL_VOL_NFS:
		*ret = dvol_mount_same(mi, dvol_nfs_mount_is(mi, p->nfs.source), NULL, want_ro);
		return 0;
	}
	return -EINVAL;
}

/*
 * heal: the mount on the target answered ESTALE (prepare()), so it is looked up by its
 * path alone, without a look at it. This volume is replaced (act_heal()); anything else
 * is left, and refused as check_existing() refuses it.
 */
static int check_stale(struct plan *p)
{
	_cleanup_(dvol_mount_info_done) struct dvol_mount_info mi = {0};
	int r;

	r = dvol_mount_info_top(p->target, &mi);
	if (r < 0)
		return log_error_errno(r, "cannot tell what is mounted on %s", p->target);
	if (r > 0 && dvol_mount_same(&mi, dvol_nfs_mount_is(&mi, p->nfs.source), NULL,
				     p->opts.mflags & MS_RDONLY) == DVOL_MOUNT_SAME) {
		p->heal = true;
		log_notice("%s on %s is stale (ESTALE: the server no longer knows its file "
			   "handle); heal: a fresh mount replaces it",
			   p->nfs.source, p->target);
		return 0;
	}
	log_error("%s is stale (ESTALE), and it is %s%s%s, not %s as asked; heal replaces only "
		  "the same volume. Unmount it first (umount -l %s)",
		  p->target, r > 0 ? "a mount of " : "not a mount point",
		  r > 0 && mi.source ? mi.source : "", r > 0 && mi.ro ? " (read-only)" : "",
		  p->nfs.source, p->target);
	return -EBUSY;
}

/* The volume in a message: the folder, the device found, or the export as the kernel
 * names it. */
static const char *volume_shown(const struct plan *p)
{
	switch (p->kind) {
	case DVOL_VOL_BIND:
		return p->spec.path;
	case DVOL_VOL_LOCAL:
		return p->local.desc;
	case DVOL_VOL_NFS:
		return p->nfs.source;
	}
	return "?";
}

/*
 * resolve: the mount point, and what is mounted there already. The same volume is
 * nothing to do (p->already); another one is an error naming both.
 */
int check_existing(struct plan *p)
{
	_cleanup_(dvol_mount_info_done) struct dvol_mount_info mi = {0};
	enum dvol_mount_match m = DVOL_MOUNT_OTHER;
	const char *what = volume_shown(p);
	/* How it was asked for, where that differs from WHAT. */
	const char *asked = p->kind == DVOL_VOL_BIND || !strcmp(arg_spec, what) ? NULL : arg_spec;
	bool rooted;
	int r;

	if (p->stale)
		return check_stale(p);
	r = open_target(p, &mi);
	if (r <= 0)
		return r;
	r = mounted_same(p, &mi, &m);
	if (r < 0)
		return log_error_errno(r, "cannot tell what is mounted on %s", p->target);

	rooted = mi.root && strcmp(mi.root, "/") != 0;
	if (m == DVOL_MOUNT_OTHER && p->opts.optional &&
	    is_fallback(p, &mi, &p->on_fallback_kind)) {
		/* Replaced once the volume is ready (run()); left while it is not. */
		p->on_fallback = true;
		return 0;
	}
	switch (m) {
	case DVOL_MOUNT_SAME:
		p->already = true;
		return 0;
	case DVOL_MOUNT_SAME_BUT_RO:
		log_error("%s is already mounted on %s, but %s; unmount it first to change that",
			  what, p->target, mi.ro ? "read-only" : "read-write");
		return -EBUSY;
	default:
		log_error("%s is already mounted on %s (from %s%s%s%s), not %s%s%s%s; unmount it "
			  "first",
			  mi.fstype ? mi.fstype : "something", p->target,
			  mi.source ? mi.source : "?", rooted ? "[" : "", rooted ? mi.root : "",
			  rooted ? "]" : "", asked ? asked : what, asked ? " (" : "",
			  asked ? what : "", asked ? ")" : "");
		return -EBUSY;
	}
}
