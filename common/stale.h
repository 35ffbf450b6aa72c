/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* A volume that mount.dvol recorded in utab (SRC=, TARGET=, and its dvol.* ATTRS=). */
struct dvol_utab_volume {
	char *source; /* SRC=: the SOURCE as mount.dvol was given it */
	char *target;
	char *kind;	/* dvol.kind= */
	char *degraded; /* dvol.degraded=: why optional's fallback is there; NULL if not */
	char *fallback; /* dvol.fallback=: tmpfs or disk; NULL if not degraded */
	char *writer;	/* dvol.writer=: held or ro (writer=exclusive); NULL without it */
};
void dvol_utab_volume_done(struct dvol_utab_volume *v);
void dvol_utab_volumes_free(struct dvol_utab_volume *v, size_t n);

/*
 * The dvol attributes of ATTRS into V's kind, degraded, fallback and writer. -ENOENT without
 * dvol.kind= (not dvol's), -ENOMEM. A degraded entry of a mount.dvol from before
 * dvol.fallback= was recorded had a tmpfs: "tmpfs". Pure.
 */
int dvol_utab_attrs(const char *attrs, struct dvol_utab_volume *v);

/*
 * Every dvol entry of utab whose target is mounted now (a stale one is dvol-gc's), in
 * utab's order: *ret (dvol_utab_volumes_free()) and *ret_n. No utab: none. 0 or -errno.
 */
int dvol_utab_volumes(struct dvol_utab_volume **ret, size_t *ret_n);
/*
 * Does the mount at PATH answer? statfs and a forced statx, which an NFS client sends to
 * its server, in a child process, so that a server that does not answer costs TIMEOUT_MS
 * and no more: 0; -ESTALE, the server no longer knows the mount's file handle (it was
 * restarted onto other storage, or the export changed); -ETIMEDOUT, no answer in time;
 * or the -errno the calls gave.
 */
int dvol_mount_check_live(const char *path, uint64_t timeout_ms);

/* Remove TARGET's entry from utab (the first, if there are several), under libmount's
 * lock. 0 or -errno; -EROFS if libmount sees no writable utab. */
int dvol_utab_remove(const char *target);

/* One of dvol's utab entries (ATTRS holds dvol.kind=). */
struct dvol_utab_entry {
	char *source, *target, *attrs;
	bool mounted; /* TARGET is a mount point now (mountinfo) */
};
typedef int (*dvol_utab_fn)(const struct dvol_utab_entry *e, void *userdata);

/* Call FN for each of dvol's entries in utab, in order; a negative return of FN stops the
 * walk and is returned. 0, or -errno when utab or mountinfo could not be read (no utab:
 * 0). */
int dvol_utab_foreach(dvol_utab_fn fn, void *userdata);

/* The value of the attribute NAME in ATTRS ("a=1,b=\"x,y\""), double quotes taken off:
 * 1 with *ret (caller frees; "" for a flag), 0 if there is none, -ENOMEM. */
int dvol_attr_get(const char *attrs, const char *name, char **ret);
