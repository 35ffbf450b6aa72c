/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "strv.h"

/*
 * Format commands for the filesystems dvol makes, fast on big NVMe: no discard pass (a
 * new or wiped device reads as zeros already), lazy inode-table and journal init for
 * ext4. A label and a UUID chosen here let the volume be found again (LABEL=, UUID=).
 */
struct dvol_mkfs {
	const char *fstype; /* "xfs" or "ext4" */
	const char *device;
	const char *label; /* may be NULL */
	const char *uuid;  /* may be NULL */
	/* Overwrite a signature (only for a format of dvol's own that was interrupted):
	 * otherwise mkfs itself refuses a device with a filesystem on it, a second guard. */
	bool force;
};

/* The command line, NULL-terminated, argv[0] the program's name. Pure; -EINVAL for an
 * unknown fstype. Free with dvol_strv_free(). */
int dvol_mkfs_argv(const struct dvol_mkfs *m, char ***ret_argv);

/* A label from the mount point: its last component, letters, digits, '-' and '_' only,
 * at most 12 characters (xfs's limit), "dvol" when nothing is left. Pure. */
void dvol_mkfs_label_from_path(const char *path, char ret[13]);

/* A random (version 4) UUID as text. */
int dvol_mkfs_new_uuid(char ret[37]);

/*
 * Run ARGV (argv[0] looked up in /usr/sbin, /sbin) with stdin from /dev/null and its
 * output captured into *ret_output (caller frees). KEEP_FD (or -1) is passed on, so that
 * a lock held on it lasts as long as the program does. Killed after TIMEOUT_MS
 * (-ETIMEDOUT). 0 when it exited 0; -EPROTO when it exited otherwise, *ret_status
 * holding the wait status.
 */
int dvol_mkfs_run(char *const *argv, int keep_fd, uint64_t timeout_ms, char **ret_output,
		  int *ret_status);

/* mkfs of a multi-TiB device with these options takes seconds; a hung one is killed. */
#define DVOL_MKFS_TIMEOUT_MS 600000u
