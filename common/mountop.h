/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "fileid.h"

/*
 * fd-based mounting: every path is resolved once into an fd, and the mount is made from
 * fd to fd with the new mount API (open_tree, mount_setattr, move_mount), so nobody can
 * swap a symlink in between.
 */

/*
 * Open the directory PATH (absolute) as an O_PATH fd. A symlink as its final component is
 * refused with -ELOOP (earlier components are resolved as usual); a missing one is -ENOENT
 * and something that is not a directory -ENOTDIR. Trailing slashes name what the path
 * without them names, as for mount(8): "/x/m/" is "/x/m" (a symlink there still refused).
 */
int dvol_open_dir(const char *path, int *ret_fd);

/*
 * Make PATH and its missing parents, walking with directory fds and never following a
 * symlink in what it creates. The last component gets MODE, UID and GID (-1: unchanged)
 * when it is made here; an existing one is left as it is. *ret_created says which.
 */
int dvol_mkdir_p(const char *path, mode_t mode, uid_t uid, gid_t gid, bool *ret_created);

/* Bind the tree at SRC_FD onto TARGET_FD (both O_PATH); MS_RDONLY, MS_NOSUID, MS_NODEV,
 * MS_NOEXEC, MS_NOATIME... in MFLAGS are applied before the mount is attached, so it
 * never appears writable for an instant. */
int dvol_bind_fd(int src_fd, int target_fd, unsigned long mflags);

/* What is mounted at a mount point (from /proc/self/mountinfo through libmount). */
struct dvol_mount_info {
	char *source; /* device or server:/path */
	char *root;   /* the folder of the source filesystem that is mounted */
	char *fstype;
	char *options;	  /* VFS options */
	char *fs_options; /* the superblock's options */
	dev_t devno;	  /* the superblock's device number */
	bool ro;
};
void dvol_mount_info_done(struct dvol_mount_info *mi);

/* Is FD the root of a mount? 1 with *ret filled (may be NULL), 0 if not (an autofs
 * automount point counts as not: the real mount goes over it), or -errno. */
int dvol_mount_info_at(int fd, struct dvol_mount_info *ret);

/* The same for the top mount at the path TARGET (normalized), found by its spelling in
 * mountinfo, without a look at TARGET itself: for a mount that may not answer. 1 with *ret
 * filled, 0 if nothing is mounted there, or -errno. */
int dvol_mount_info_top(const char *target, struct dvol_mount_info *ret);

/*
 * Is a folder fit to be bound as an instance volume? A "safe bind of a host folder" must not
 * hand a container the host's root filesystem, its device nodes or the kernel's own state:
 * decided from the opened folder (its inode and statfs f_type), never from its spelling, so
 * "/./", "//" and links to them are the same folder.
 */
/* Which of the folders the source is compared with could be looked at (not, e.g., /sys in
 * a chroot that has none): one that could not is compared with nothing. */
enum {
	DVOL_BIND_HAVE_ROOT = 1 << 0,
	DVOL_BIND_HAVE_DEV = 1 << 1,
	DVOL_BIND_HAVE_PROC = 1 << 2,
	DVOL_BIND_HAVE_SYS = 1 << 3,
};
struct dvol_bind_src_facts {
	struct dvol_file_id src;
	uint64_t f_type; /* statfs(2) of the source */
	/* this mount namespace's / and the folders whose filesystems are the kernel's */
	struct dvol_file_id root, dev, proc, sys;
	unsigned have; /* DVOL_BIND_HAVE_*: which of root, dev, proc, sys are set */
};
enum dvol_bind_src_why {
	DVOL_BIND_SRC_OK,
	DVOL_BIND_SRC_ROOT,	 /* the root folder: the whole root filesystem */
	DVOL_BIND_SRC_KERNEL_FS, /* on proc, sysfs, devpts, cgroup...: kernel state, not data */
	DVOL_BIND_SRC_SYSTEM,	 /* /dev, /proc or /sys, or on the filesystem mounted there */
};
/* The first reason the source in F is refused, or DVOL_BIND_SRC_OK; *ret_what (static)
 * names the filesystem or folder at fault. Pure. */
enum dvol_bind_src_why dvol_bind_src_decide(const struct dvol_bind_src_facts *f,
					    const char **ret_what);
/* The facts about the opened folder SRC_FD (O_PATH) for dvol_bind_src_decide(). 0 or
 * -errno (only the source itself must be readable). */
int dvol_bind_src_facts(int src_fd, struct dvol_bind_src_facts *ret);

/* Do the two fds name the same inode on the same device? */
bool dvol_same_inode(int a, int b);

/* Is what MI shows mounted the mount that was asked for? SAME_DEV: the caller found it to
 * be the same source (device, folder, server export); ROOT: the folder of that source
 * that must be mounted ("/" for a whole filesystem; NULL: any); WANT_RO: read-only asked.
 * One check for every kind of volume. Pure. */
enum dvol_mount_match {
	DVOL_MOUNT_OTHER,	/* something else is mounted there */
	DVOL_MOUNT_SAME,	/* the same, nothing to do */
	DVOL_MOUNT_SAME_BUT_RO, /* the same, but read-only where read-write was asked, or back */
};
enum dvol_mount_match dvol_mount_same(const struct dvol_mount_info *mi, bool same_dev,
				      const char *root, bool want_ro);

/*
 * Mount the filesystem FSTYPE on the block device NODE (fsopen, fsconfig, fsmount), with
 * the comma-separated filesystem options FSOPTS (may be NULL), as a detached mount in
 * *ret_mfd, its superblock read-only if RO. Nothing is visible until dvol_mount_attach().
 */
int dvol_mount_dev(const char *fstype, const char *node, const char *fsopts, bool ro, int *ret_mfd);

/* Make the superblock of the detached mount MFD read-only (fspick, reconfigure). */
int dvol_mount_set_sb_ro(int mfd);

/* Set MODE, UID, GID (-1: unchanged) on the root of the detached mount MFD. */
int dvol_mount_chmod_root(int mfd, mode_t mode, uid_t uid, gid_t gid);

/* Apply the MS_* flags in MFLAGS to MFD, then attach it on TARGET_FD (O_PATH). */
int dvol_mount_attach(int mfd, int target_fd, unsigned long mflags);

/*
 * Put the detached mount TREE in the place of the top mount at TARGET (a path), which is
 * then detached lazily: whoever holds files open on the old mount keeps them, new opens
 * see TREE. Where the kernel can (MOVE_MOUNT_BENEATH, Linux 6.5) and BENEATH allows it,
 * TREE goes beneath the old mount first, so that TARGET is never without one of the two;
 * otherwise the old mount is detached first, and for an instant TARGET is the folder
 * beneath. *ret_atomic says which was done. On an error nothing was changed, except
 * -EREMCHG: the old mount is detached and TREE is not in its place.
 */
int dvol_mount_replace(int tree, const char *target, bool beneath, bool *ret_atomic);

/* The MS_* flags of MFLAGS that a detached mount takes (ro, nosuid, nodev, noexec,
 * nodiratime, an atime mode) as mount_setattr(2)'s attributes. Pure. */
struct mount_attr;
void dvol_mount_attr_from_flags(unsigned long mflags, struct mount_attr *ret);
