/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * heal's own state, in a folder of root's: a lock a target (one run at a time heals it),
 * the folders its fresh mounts are made on, and the pause after failed heals.
 */
#define DVOL_HEAL_DIR "/run/dvol/heal"

/* The folder is opened with dvol_rootdir_private(DVOL_HEAL_DIR, 0700, ...). */

/* TARGET's file in that folder: TARGET escaped as `systemd-escape -p` does, then SUFFIX
 * (".lock", ".backoff"). 0 with *ret (caller frees), or -ENOMEM/-EINVAL. */
int dvol_heal_file_name(const char *target, const char *suffix, char **ret);

/* heal's pause after FAILURES failed heals in a row: 30 s, doubling, at most 30 min. 0
 * for none. Pure. */
uint64_t dvol_heal_pause_ms(unsigned failures);

/* What a look at a mount (dvol_mount_check_live()) found. */
enum dvol_heal_look {
	DVOL_HEAL_LOOK_LIVE,  /* it answers */
	DVOL_HEAL_LOOK_STALE, /* ESTALE: its server no longer knows its file handle */
	DVOL_HEAL_LOOK_HUNG,  /* no answer in time: its server is not answering */
	DVOL_HEAL_LOOK_ERROR, /* any other error: the look itself failed */
};

/* dvol_mount_check_live()'s R, as a look. Pure. */
enum dvol_heal_look dvol_heal_look_of(int r);

/* What the watchdog knows of one of dvol's NFS mounts. */
struct dvol_heal_facts {
	enum dvol_heal_look look;
	bool heal;		/* mounted with -o heal */
	unsigned failures;	/* heals that failed in a row (the backoff file) */
	uint64_t not_before_ms; /* ...and when the next may run, monotonic */
	uint64_t now_ms;
};

enum dvol_heal_action {
	DVOL_HEAL_LIVE,	     /* it answers: nothing to do, and no more pause */
	DVOL_HEAL_HUNG,	     /* warn: a fresh mount cannot mend a server that does not answer */
	DVOL_HEAL_UNKNOWN,   /* warn: the look failed */
	DVOL_HEAL_NOT_ASKED, /* stale, without heal: warn, and leave it */
	DVOL_HEAL_PAUSED,    /* stale, in its pause after failed heals */
	DVOL_HEAL_RUN,	     /* stale: mount.dvol mounts it again */
};

/* The watchdog's decision for one mount. Pure. */
enum dvol_heal_action dvol_heal_decide(const struct dvol_heal_facts *f);
