/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "fileid.h"

/*
 * Opening a folder that a program will delete beneath, from a path that other parties may
 * have had a hand in: walked from "/" one component at a time, never through a symbolic
 * link in any component, and then told apart from "/" and the system's own folders by
 * what it is (device and inode), not by how its path is spelled ("//", "/etc/..").
 */

/*
 * Open the absolute PATH as O_RDONLY|O_DIRECTORY without following a symbolic link in
 * any of its components. 0 with *ret_fd, or -errno; for -ELOOP (a component is a
 * symbolic link), -ENOENT and -ENOTDIR, *ret_at (may be NULL) is the path up to and
 * including the component at fault, to be freed. openat2(2) with RESOLVE_NO_SYMLINKS
 * where the kernel (and the seccomp stage) allow it; otherwise the same walk by hand.
 */
int dvol_rootdir_open(const char *path, int *ret_fd, char **ret_at);
/* The same, always by hand: what runs where openat2 cannot. */
int dvol_rootdir_open_walk(const char *path, int *ret_fd, char **ret_at);

/*
 * Make the folder NAME (one component) in the folder DFD unless it is there, and open it
 * O_RDONLY|O_DIRECTORY without following a symbolic link: one step of a walk from "/"
 * that dvol_rootdir_open() began. A folder made here gets MODE, UID and GID (-1:
 * unchanged), set on the opened fd, never wider than MODE in between; one already there is
 * left as it is. 1 (made) or 0 (already there) with *ret_fd; -ELOOP for a symbolic link,
 * -ENOTDIR for something else, or -errno.
 */
int dvol_rootdir_mkdirat(int dfd, const char *name, mode_t mode, uid_t uid, gid_t gid, int *ret_fd);

/*
 * A folder for dvol's own state: open the absolute PATH, making it and its missing parents
 * (PARENTS_MODE; the folder itself 0700), without following a symbolic link in any
 * component; the folder must be this user's, and is left 0700. 0 with *ret_fd
 * (O_RDONLY|O_DIRECTORY), or -ELOOP (a link on the way), -EPERM (someone else's folder),
 * -EINVAL (not absolute) or -errno, with *ret_at (may be NULL; caller frees) the path up
 * to the component at fault.
 */
int dvol_rootdir_private(const char *path, mode_t parents_mode, int *ret_fd, char **ret_at);

/* The folders no root may be: "/" first, then the system's and the kernel's own. */
extern const char *const dvol_rootdir_system[];
extern const size_t dvol_rootdir_n_system;

/* The index in IDS[N] of the folder that ID is, or -1. */
int dvol_rootdir_match(const struct dvol_file_id *id, const struct dvol_file_id *ids, size_t n);

/*
 * Is the folder at FD "/" or one of dvol_rootdir_system[] (followed through symbolic
 * links: on a merged-/usr system /bin is /usr/bin)? 1 with *ret_which set to its name,
 * 0 if not, -errno. The same device and inode is the same folder, whichever mount or
 * spelling it is reached through.
 */
int dvol_rootdir_is_system(int fd, const char **ret_which);
