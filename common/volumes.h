/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "spec.h"

/*
 * /etc/dvol/volumes: what dvol prepares when a device appears. fstab syntax, read with
 * libmount's table parser, type dvol, mount.dvol's own SOURCE grammar and options:
 *
 *   nvme:instance-store          /var/lib/dvol/scratch  dvol  mkfs=xfs,mode=1777  0 0
 *   /var/lib/dvol/scratch/cache  /root/.cache           dvol  create,mode=0755    0 0
 *
 * A local line (a block device) is brought up when its device appears; a bind line whose
 * source lies under another line's target is bound only after that volume is mounted,
 * never on the bare folder beneath it. A bind line beneath no device line binds a folder
 * of a volume that fstab mounts (an NFS share): dvol-generator makes it a mount unit,
 * ordered after the mounts its source lies on.
 */

#define DVOL_VOLUMES_FILE DVOL_SYSCONFDIR "/dvol/volumes"

struct dvol_volume {
	char *source; /* as written (unescaped) */
	struct dvol_spec spec;
	char *target;	/* normalized */
	char *options;	/* NULL: none */
	bool local;	/* a block device; else a bind of a folder */
	bool on_device; /* local, or a bind beneath a device line's TARGET (maybe through
			 * binds): brought up when the device appears; else at boot, by the
			 * mount unit dvol-generator writes */
	unsigned line;
	dev_t devno; /* local PATH lines: the device the path names now (0: none); the caller
		      * resolves it before planning, as that is I/O */
};

struct dvol_volumes {
	struct dvol_volume *v;
	size_t n;
};

/* Parse PATH (appending). -ENOENT if it does not exist; -EINVAL with *ret_line (0: the
 * whole file) and *ret_why (static) for a line dvol cannot use. */
int dvol_volumes_load(struct dvol_volumes *vs, const char *path, unsigned *ret_line,
		      const char **ret_why);
void dvol_volumes_done(struct dvol_volumes *vs);

/* What is known of a device that appeared, read by the caller from sysfs and libblkid. */
struct dvol_vol_device {
	dev_t devno;
	const char *serial; /* trimmed; NULL if none */
	const char *model;  /* trimmed; NULL if none */
	bool instance_store;
	const char *uuid, *label, *partuuid, *partlabel; /* NULL if none */
};

/* Does local line V name device D? Pure. (nvme:model=M,index=N matches every namespace of
 * model M: which one is the N-th is mount.dvol's to decide.) */
bool dvol_volume_names_device(const struct dvol_volume *v, const struct dvol_vol_device *d);

/* Is folder PATH under (or the same as) TARGET? Pure. */
bool dvol_path_under(const char *path, const char *target);

/*
 * Which lines concern device D, in the order to bring them up: each local line that names
 * D, then the bind lines whose source lies under a target already in the plan (so a bind
 * beneath a bind comes after it). RET_IDX holds at least vs->n entries. Pure; returns the
 * number of lines planned.
 */
size_t dvol_volumes_plan(const struct dvol_volumes *vs, const struct dvol_vol_device *d,
			 size_t *ret_idx);

/* The index of a line that holds folder PATH beneath its target, or -1: a bind line with
 * such a source waits for that volume. Pure. */
ssize_t dvol_volumes_holder(const struct dvol_volumes *vs, const char *path);
