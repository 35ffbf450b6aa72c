/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * nvme:instance-store on a host with several instance-store namespaces: all of them as one
 * md RAID0, made only when every member is blank, assembled again from the members' own
 * superblocks (no mdadm.conf, no file in /etc, no "done" flag), and refused when the
 * members disagree. The decisions are here, pure, over facts gathered under the members'
 * locks (helpers/mount-dvol/stripe.c gathers and acts).
 *
 * The array is named after its members: "dvol-" and 16 hex digits of a hash of their
 * sorted controller serials and namespace ids. The same drives give the same name in
 * whatever order they come up; a drive added or removed gives another name, so a changed
 * set never passes for the old one.
 */

#define DVOL_STRIPE_NAME_MAX  22   /* "dvol-" + 16 hex digits + NUL */
#define DVOL_STRIPE_CHUNK_KIB 256u /* fits xfs's log stripe unit (at most 256 KiB) */

/* The name of the array of the members whose identities ("SERIAL/NSID") are IDS. Pure:
 * the order of IDS does not matter. -EINVAL for N == 0, -ENOMEM. */
int dvol_stripe_name(const char *const *ids, size_t n, char ret[DVOL_STRIPE_NAME_MAX]);

/* Does LABEL, the array name libblkid reads from a member's md superblock, name the
 * array NAME? mdadm keeps "HOMEHOST:NAME" unless the array was made with
 * --homehost=any; both spellings count. Pure. */
bool dvol_stripe_label_is(const char *label, const char *name);

enum dvol_member_kind {
	DVOL_MEMBER_BLANK, /* the blank verdict of a single device: nothing on it, zeros */
	DVOL_MEMBER_RAID,  /* an md RAID member (libblkid: linux_raid_member) */
	DVOL_MEMBER_FS,	   /* a filesystem */
	DVOL_MEMBER_OTHER, /* data, a partition table, anything else */
};

/* What one member holds, and which md device holds it now. */
struct dvol_stripe_member {
	enum dvol_member_kind kind;
	const char *array_uuid; /* RAID: the array's UUID */
	const char *array_name; /* RAID: its name, as libblkid reads it */
	bool held;		/* an md device holds it (sysfs holders/) */
	bool held_ours;		/* ...one whose every member is one of these members */
	bool held_active;	/* ...and it runs (array_state neither inactive nor clear) */
	bool held_all;		/* ...and it has all of these members, and no more */
};

struct dvol_stripe_facts {
	const char *name; /* dvol_stripe_name() of these members */
	size_t n;
	const struct dvol_stripe_member *m;
	bool mkfs; /* mkfs= was asked: a blank set may be made into an array */
};

enum dvol_stripe_action {
	DVOL_STRIPE_CREATE,   /* every member blank: a new array */
	DVOL_STRIPE_ASSEMBLE, /* every member is this array's: assemble it */
	DVOL_STRIPE_USE,      /* it is assembled and running already */
	DVOL_STRIPE_REFUSE,
};

enum dvol_stripe_why {
	DVOL_STRIPE_WHY_BLANK,	     /* CREATE */
	DVOL_STRIPE_WHY_OURS,	     /* ASSEMBLE, USE */
	DVOL_STRIPE_WHY_NO_MKFS,     /* every member blank, and no mkfs= */
	DVOL_STRIPE_WHY_HELD,	     /* an md device that holds other devices too holds one */
	DVOL_STRIPE_WHY_FOREIGN,     /* a member holds a filesystem or data */
	DVOL_STRIPE_WHY_OTHER_ARRAY, /* a member of an array of another name */
	DVOL_STRIPE_WHY_SPLIT,	     /* members of this name, but of two arrays */
	DVOL_STRIPE_WHY_MIXED,	     /* some members blank, the others this array's */
};

struct dvol_stripe_decision {
	enum dvol_stripe_action action;
	enum dvol_stripe_why why;
	size_t member;	 /* REFUSE: the first member at fault */
	bool stop_first; /* an md device that holds only these members is stopped first */
};

/* What to do with the members F describes. Pure. */
struct dvol_stripe_decision dvol_stripe_decide(const struct dvol_stripe_facts *f);

const char *dvol_stripe_action_to_string(enum dvol_stripe_action a);
/* The reason in words, to follow "refusing to stripe N members: ". Static. */
const char *dvol_stripe_why_to_string(enum dvol_stripe_why w);

/*
 * mdadm's command lines, NULL-terminated, free with dvol_strv_free(); DEV is
 * "/dev/md/NAME". create: RAID0 of the N MEMBERS in their order, metadata 1.2 (at 4 KiB
 * from the start: the claim and the probes of a single device still see the ends),
 * --homehost=any so that any host assembles it under its own name, a chunk of
 * DVOL_STRIPE_CHUNK_KIB. assemble: from these members only, whatever mdadm.conf says.
 */
int dvol_mdadm_create_argv(const char *name, char *const *members, size_t n, char ***ret);
int dvol_mdadm_assemble_argv(const char *name, char *const *members, size_t n, char ***ret);
int dvol_mdadm_stop_argv(const char *dev, char ***ret);
