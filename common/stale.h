/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/*
 * dvol's own state for volumes that are gone: utab entries that mount.dvol recorded
 * (ATTRS dvol.kind=...) for targets that are no longer mount points, and NFS mounts made
 * by dvol that answer ESTALE.
 */

enum dvol_stale_event {
	DVOL_STALE_RECORD,    /* a utab entry for a target not mounted: removed (or to be) */
	DVOL_STALE_NFS,	      /* an NFS mount of dvol's that answers ESTALE */
	DVOL_STALE_UNMOUNTED, /* ...detached (--unmount-stale) */
};

/* ERR: 0, or the -errno of the removal or unmount that failed. */
typedef void (*dvol_stale_event_fn)(void *userdata, enum dvol_stale_event ev, const char *source,
				    const char *target, const char *kind, int err);

struct dvol_stale_opts {
	bool dry_run;
	bool unmount; /* detach ESTALE NFS mounts (needs the mount sandbox set) */
	dvol_stale_event_fn event;
	void *userdata;
};

/* utab as libmount knows it: $LIBMOUNT_UTAB, or /run/mount/utab. */
const char *dvol_utab_path(void);

/* Look at every dvol entry in utab. The number of events, or -errno when utab or
 * mountinfo could not be read. */
int dvol_stale_run(const struct dvol_stale_opts *o);
