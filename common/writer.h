/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <stdint.h>

#include "lease.h"

/*
 * The I/O of the one writer's lease (lease.h is its pure part): this host's identity, the
 * lock file reached through a private copy of the volume's mount, the lock, the record,
 * the mount table, and the fence. No logging: each -errno goes to the helper.
 */

/*
 * This host as a record names it: machine id (/etc/machine-id), boot id, host name (this
 * UTS namespace's), and the NFS client's identity where the kernel shows it (empty
 * otherwise). The other fields of *RET are zeroed. 0; -EBADMSG when the machine id or
 * boot id is not one; -errno when one cannot be read.
 */
int dvol_writer_identity(struct dvol_lease_record *ret);

/*
 * A mount, as the holder knows it. Its id is used again once it is gone (even while a
 * holder runs: it holds no reference to the mount, so as not to keep it busy), so the rest
 * tells it from a mount that took the id and the place, another folder bound there.
 */
struct dvol_writer_mount {
	uint64_t id;	    /* statx's STATX_MNT_ID, mountinfo's first field */
	uint64_t unique_id; /* STATX_MNT_ID_UNIQUE (Linux 6.8), never used again; 0: none */
	dev_t dev;	    /* its root folder's st_dev */
	ino_t ino;	    /* and st_ino */
};

/* Are A and B the same mount: same id and root folder, and same unique id where both have
 * one? Pure. */
bool dvol_writer_mount_same(const struct dvol_writer_mount *a, const struct dvol_writer_mount *b);

/*
 * The mount TARGET_FD (O_PATH) is the root of (*ret) and its mount point as mountinfo
 * spells it (caller frees). -EREMOTEIO when TARGET_FD is not the root of a mount; -errno.
 */
int dvol_writer_mount_of(int target_fd, struct dvol_writer_mount *ret, char **ret_path);

/*
 * The server's lease for the NFSv4 mount at PATH (as mountinfo spells it), as this client
 * learned it, from /proc/self/mountstats (lease.h). 0 with *ret_ms; -ENOENT when PATH is
 * not an NFSv4 mount; -errno.
 */
int dvol_writer_server_lease(const char *path, uint64_t *ret_ms);

/* Does FD lie on NFS (any version)? 1, 0, or -errno. */
int dvol_writer_on_nfs(int fd);

/*
 * Is the mount M still mounted at PATH in this mount namespace (mountinfo, and what PATH
 * opens to when nothing is mounted over it)? 1, 0, or -errno.
 */
int dvol_writer_mount_present(const struct dvol_writer_mount *m, const char *path);

/*
 * A private, detached copy of the mount TARGET_FD is the root of (open_tree(2),
 * OPEN_TREE_CLONE, without submounts), read-write (the superblock allowing), with nodev,
 * nosuid and noexec: the lock file is
 * reached through it, so that the user's mount is never held busy (umount(8) works as
 * ever) and nothing mounted or planted in the volume can lead elsewhere. 0 or -errno.
 */
int dvol_writer_clone_tree(int target_fd, int *ret_tree);

/*
 * Open .dvol/writer.lock under TREE (a dvol_writer_clone_tree()): read-write, made (the
 * folder 0755, the file 0644) where missing, if CREATE; read-only and never made if not.
 * A symbolic link at either is -ELOOP and nothing is made or opened through it;
 * .dvol that is not a folder is -ENOTDIR; a lock file that is not a regular file
 * -EBADFD, or one with other hard links (it could be another file of the volume) -EMLINK.
 * 0 with *ret_fd; -ENOENT when !CREATE and either is missing.
 */
int dvol_writer_open_lock(int tree, bool create, int *ret_fd);

/* Take the lease: the write lock on its byte (lease.h), an open file description lock,
 * without waiting. 0; -EBUSY when someone else holds it; -errno. */
int dvol_writer_lock(int fd);

/* Does someone hold the lease (F_OFD_GETLK, which takes nothing)? 1, 0, or -errno. */
int dvol_writer_lock_held(int fd);

/*
 * The record in the file FD. 0 with *ret; -ENODATA for an empty file (never held);
 * -EBADMSG for a record that is not one (lease.h), oversized included; -errno.
 */
int dvol_writer_read_record(int fd, struct dvol_lease_record *ret);

/* Write R whole at offset 0 and fsync, so that it has reached the server. 0 or -errno. */
int dvol_writer_write_record(int fd, const struct dvol_lease_record *r);

/* Cut the file to one record, so that no old tail follows it. 0 or -errno. */
int dvol_writer_trim(int fd);

/*
 * Make the mount M at PATH read-write (mount_setattr(2)), once the lease is held: a
 * mount that is to be written under the lease is made read-only until then. Resolved and
 * checked as dvol_writer_fence() does: -ESTALE when PATH is not that mount any more.
 * 0 or -errno.
 */
int dvol_writer_set_rw(const char *path, const struct dvol_writer_mount *m);

/*
 * Does TEXT, the contents of a /proc/PID/fdinfo/FD file, describe a file open for writing
 * on the mount MNT_ID? Pure: its "flags:" (octal) and "mnt_id:" lines.
 */
bool dvol_writer_fdinfo_writes(const char *text, uint64_t mnt_id);

/*
 * The files open for writing on any of the mounts MNT_IDS, in every process this one can see (a
 * mount that was detached keeps its id for as long as they keep it): how many, and the
 * first process that has one in *ret_pid (may be NULL). Memory mappings are not counted.
 * -errno when /proc cannot be read.
 */
int dvol_writer_mount_writers(const uint64_t *mnt_ids, size_t n_ids, pid_t *ret_pid);

/*
 * The volume a mount shows: its filesystem (st_dev) and the folder of it that is the mount's
 * root (mountinfo's fourth field: "/" for an export, "/vol" for a bind of a folder of it),
 * read from this process's mountinfo. 0, -ENOENT when MNT_ID is not there, -errno.
 */
int dvol_writer_volume_of(uint64_t mnt_id, dev_t *ret_dev, char **ret_root);

/* Is a mount whose root is ROOT within the folder VROOT of the same filesystem? Pure. */
bool dvol_writer_root_within(const char *root, const char *vroot);

/* A mount of the volume in another mount namespace: made from it (a container's volume). */
struct dvol_writer_bind {
	uint64_t id;
	pid_t pid;    /* a process of its mount namespace */
	char *target; /* its mount point, as that namespace sees it */
	bool ro;      /* read-only already */
};

/*
 * Every mount of the folder VROOT of filesystem DEV in every mount namespace but this one
 * (one process of each, from /proc), except SKIP_ID: *ret (free with
 * dvol_writer_binds_free) and how many. This namespace's own are not counted: another
 * holder's target, or a mount of the whole export, may be among them. 0 or -errno.
 */
int dvol_writer_binds(dev_t dev, const char *vroot, uint64_t skip_id, struct dvol_writer_bind **ret,
		      size_t *ret_n);
void dvol_writer_binds_free(struct dvol_writer_bind *b, size_t n);

/*
 * Make the binds B read-only, each in its own mount namespace (a child joins it, setns),
 * resolved there afresh and checked to be that mount; one that a write keeps busy is
 * detached, as the fence does. Counts in *ret_ro, *ret_detached; those gone meanwhile
 * count in neither. 0, or the -errno of the first that could not be fenced.
 */
int dvol_writer_fence_binds(const struct dvol_writer_bind *b, size_t n, unsigned *ret_ro,
			    unsigned *ret_detached);

/* How a mount was fenced. */
enum dvol_writer_fenced {
	DVOL_WRITER_FENCED_RO,	     /* the mount is read-only */
	DVOL_WRITER_FENCED_DETACHED, /* it could not be made read-only, and was detached */
};

/*
 * Fence the mount M at PATH: resolved afresh (never following a symbolic link at
 * PATH), checked to be that same mount (dvol_writer_mount_same), made read-only (mount_setattr(2),
 * tried again for 200 ms while a write through it is under way, EBUSY); if that fails, detached
 * (umount2 MNT_DETACH). ABORT_RPCS, when the lease may be lost: before the detach, the NFS client's
 * requests in flight on that filesystem are ended with EIO (umount2 MNT_FORCE), so that a
 * write that waits for an unreachable server fails instead of landing once it is back, and
 * the mount is made read-only again if that ended the last write. 0 with *ret_how; -ESTALE when
 * PATH is not that mount any more (nothing was done); *ret_setattr_error (may be NULL) is
 * mount_setattr's -errno when it failed, 0 otherwise; -errno when both failed.
 */
int dvol_writer_fence(const char *path, const struct dvol_writer_mount *m, bool abort_rpcs,
		      enum dvol_writer_fenced *ret_how, int *ret_setattr_error);
