/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * optional: what goes on the target when the volume cannot be made ready, decided over
 * facts already gathered. The mounts themselves are the helper's.
 */
#include <stdbool.h>

#include "exitcode.h"
#include "options.h"

/* The empty tmpfs's source, which tells it apart from any other tmpfs. */
#define DVOL_FALLBACK_SOURCE "dvol-fallback"
/* fallback=disk: one folder a target in here, named as systemd names its mount unit. */
#define DVOL_STATE_DIR	  "/var/lib/dvol"
#define DVOL_FALLBACK_DIR DVOL_STATE_DIR "/fallback"

/* What is mounted on the target when the volume failed. */
enum dvol_fallback_on {
	DVOL_FALLBACK_ON_NOTHING, /* the bare folder */
	DVOL_FALLBACK_ON_OURS,	  /* the fallback of an earlier run */
	DVOL_FALLBACK_ON_OTHER,	  /* anything else */
};

struct dvol_fallback_facts {
	bool optional;
	enum dvol_fail stage; /* where the failure came from */
	bool format_only;     /* the format step mounts nothing, a fallback neither */
	int r;		      /* the failure, -errno */
	enum dvol_fallback want;
	enum dvol_fallback_on on; /* read only once a fallback is wanted at all */
	bool named;		  /* fallback=disk: the target's folder has a name */
};

enum dvol_fallback_action {
	DVOL_FALLBACK_NO,	   /* the failure stands, as without optional */
	DVOL_FALLBACK_NO_OTHER,	   /* ...because something else is mounted there */
	DVOL_FALLBACK_NO_NAME,	   /* ...because no folder can be named for the target */
	DVOL_FALLBACK_KEEP,	   /* the earlier fallback stays, and the warning again */
	DVOL_FALLBACK_MOUNT_TMPFS, /* an empty tmpfs of at most fallback-size= */
	DVOL_FALLBACK_MOUNT_DISK,  /* the target's folder of DVOL_FALLBACK_DIR, bound */
};

/*
 * Is a fallback wanted for this failure at all? Only with optional, only for a volume that
 * is not ready (not for a usage, system or record error), never in the format step, and
 * not when it is busy, out of memory or interrupted: none of those is a missing volume.
 */
bool dvol_fallback_wanted(const struct dvol_fallback_facts *f);

/* The one decision; F->on and F->named are read only where dvol_fallback_wanted(). */
enum dvol_fallback_action dvol_fallback_decide(const struct dvol_fallback_facts *f);

/* DVOL_FALLBACK_DIR/NAME for TARGET, NAME as `systemd-escape -p` writes it; -errno. */
int dvol_fallback_dir(const char *target, char **ret);

/*
 * Could a bind whose root (mountinfo's) is MNT_ROOT be of FALLBACK_DIR (from
 * dvol_fallback_dir())? Its root, as the filesystem that holds it sees it, ends in
 * "/fallback/NAME"; a whole filesystem ("/") never is. A match is only a candidate: the
 * caller compares inodes as well.
 */
bool dvol_fallback_root_matches(const char *mnt_root, const char *fallback_dir);
