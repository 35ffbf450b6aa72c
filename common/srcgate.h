/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * The gate of a folder bind (source-mounted, source-fs=). A bind of a folder that belongs
 * on a volume (an NFS share, the instance-store disk) must never bind the bare folder on
 * the root disk beneath it when that volume is not mounted: a container would write there,
 * and its data would be gone, or fill the root disk, when the volume comes. Decided from
 * the mount that the opened folder lies on (statx's mount id, then mountinfo), never from
 * its spelling, so that no symbolic link on the way can lead it elsewhere.
 */
struct dvol_src_gate_want {
	bool mounted;	/* source-mounted: on a mount other than the root filesystem's */
	const char *at; /* source-mounted=PATH: on the one mounted at PATH (NULL: any) */
	const char *fs; /* source-fs=: on one of these '|'-separated types (NULL: any) */
};

struct dvol_src_gate_facts {
	uint64_t mnt_id;      /* the mount the folder lies on */
	char *fstype;	      /* its filesystem type (NULL: not in mountinfo) */
	char *mnt_target;     /* where it is mounted (NULL: not in mountinfo) */
	uint64_t root_mnt_id; /* the mount at / */
	uint64_t at_mnt_id;   /* the mount at PATH; 0: PATH is not the root of a mount */
};

enum dvol_src_gate_why {
	DVOL_SRC_GATE_OK,
	DVOL_SRC_GATE_ON_ROOT, /* on the root filesystem: its volume is not mounted */
	DVOL_SRC_GATE_AT_NONE, /* nothing is mounted at PATH */
	DVOL_SRC_GATE_NOT_AT,  /* on a mount other than the one at PATH */
	DVOL_SRC_GATE_FS,      /* on a filesystem type the list does not name */
};

/*
 * The reason WHY in words, for the log line of a refused bind: what was asked, what was
 * found, and what to do. PATH the source, F its facts, W what was asked. -EINVAL with
 * *ret_text (caller frees), 0 with NULL for DVOL_SRC_GATE_OK, or -ENOMEM. Pure.
 */
int dvol_src_gate_explain(enum dvol_src_gate_why why, const char *path,
			  const struct dvol_src_gate_want *w, const struct dvol_src_gate_facts *f,
			  char **ret_text);

/* Is anything asked of the source? Pure. */
bool dvol_src_gate_wanted(const struct dvol_src_gate_want *w);

/* The first reason the folder of F fails W, or DVOL_SRC_GATE_OK. Pure. */
enum dvol_src_gate_why dvol_src_gate_decide(const struct dvol_src_gate_want *w,
					    const struct dvol_src_gate_facts *f);

/* Does LIST ("nfs4|xfs") name FSTYPE? "nfs" names NFS of every version (nfs and nfs4, as
 * the kernel calls them). Pure. */
bool dvol_fs_in_list(const char *fstype, const char *list);

/* The facts for the folder FD (any open fd of it, O_PATH too) and AT (may be NULL). */
int dvol_src_gate_facts(int fd, const char *at, struct dvol_src_gate_facts *ret);
void dvol_src_gate_facts_done(struct dvol_src_gate_facts *f);

/* The deepest folder of PATH that exists, opened O_PATH: where a folder that 'create' is
 * to make would be made, to gate before anything is made. */
int dvol_open_existing_ancestor(const char *path, int *ret_fd);
