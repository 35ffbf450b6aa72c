/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * writer=exclusive: one writer at a time on a shared volume. The lease is a byte-range
 * lock on <volume>/.dvol/writer.lock, which the NFS server enforces across hosts and
 * expires when its holder stops renewing it; the file itself holds the holder's record,
 * so that others can name who holds it. This module is the record, the timing and the
 * option check: pure, no I/O (common/writer.c does the I/O).
 */

#define DVOL_LEASE_DIR	".dvol"
#define DVOL_LEASE_FILE "writer.lock"

/*
 * The record is written whole, in place, at offset 0, always this many bytes (padded with
 * spaces and a final newline), so that a rewrite never leaves a stale tail and a reader
 * can tell an oversized file from a record. One page: one NFS WRITE, and room for any
 * mount point a record is likely to carry.
 */
#define DVOL_LEASE_RECORD_SIZE 4096

/*
 * The lock covers one byte just past the record, never the record itself: NFSv4 lets a
 * server enforce byte-range locks against READ and WRITE, and there a holder's lock over
 * the record would keep everybody else from reading who holds it. Locks past the end of a
 * file are valid, and every writer locks this same byte, so they still exclude each other.
 */
#define DVOL_LEASE_LOCK_START DVOL_LEASE_RECORD_SIZE
#define DVOL_LEASE_LOCK_LEN   1

/* The NFS server's lease: Linux nfsd's default, and the bounds lease-time= accepts. */
#define DVOL_LEASE_TIME_MS_DEFAULT 90000
#define DVOL_LEASE_TIME_MS_MIN	   2000
#define DVOL_LEASE_TIME_MS_MAX	   3600000
/* on-conflict=wait: how long, by default. */
#define DVOL_LEASE_WAIT_MS_DEFAULT 60000

#define DVOL_LEASE_MACHINE_ID_LEN 32 /* hex digits, as /etc/machine-id */
#define DVOL_LEASE_BOOT_ID_LEN	  36 /* a UUID, as /proc/sys/kernel/random/boot_id */
#define DVOL_LEASE_HOSTNAME_MAX	  64 /* HOST_NAME_MAX */
#define DVOL_LEASE_NFS_CLIENT_MAX 255

/* Who holds (or held) the lease: one JSON object in the file. */
struct dvol_lease_record {
	char machine_id[DVOL_LEASE_MACHINE_ID_LEN + 1];
	char boot_id[DVOL_LEASE_BOOT_ID_LEN + 1];
	char hostname[DVOL_LEASE_HOSTNAME_MAX + 1];
	char nfs_client[DVOL_LEASE_NFS_CLIENT_MAX + 1]; /* "" when it could not be read */
	char mount_point[PATH_MAX];
	int64_t pid;
	uint64_t since;	     /* unix seconds: when this holder took the lease */
	uint64_t heartbeat;  /* unix seconds: its last write that reached the server */
	uint64_t generation; /* 1 .. DVOL_LEASE_GENERATION_MAX */
};

/* Integers stay within JSON's safe signed range for any reader. */
#define DVOL_LEASE_GENERATION_MAX INT64_MAX

/*
 * The record R as the file's bytes: BUF (SIZE, at least DVOL_LEASE_RECORD_SIZE) holds
 * exactly DVOL_LEASE_RECORD_SIZE bytes, the JSON object padded with spaces and ending in a
 * newline. 0; -EINVAL for a record that parse would refuse (so that nothing is written
 * that could not be read back); -ENAMETOOLONG when it does not fit; -ENOMEM.
 */
int dvol_lease_record_encode(const struct dvol_lease_record *r, char *buf, size_t size);

/* The shapes of a record in JSON. */
enum dvol_lease_json {
	DVOL_LEASE_JSON_FILE,	/* the file's: "format" first, then machine_id, boot_id, hostname */
	DVOL_LEASE_JSON_HOLDER, /* a holder as status shows it: hostname first, no format */
};

/*
 * The record R as a JSON object in *ret (the caller puts it): the one place its keys are
 * spelled, for the file and for both status commands. nfs_client only when it is known;
 * HEARTBEAT_AGE (NULL: none), in seconds, right after heartbeat, where status knows how
 * old it is. 0 or -ENOMEM.
 */
struct json_object;
int dvol_lease_record_to_json(const struct dvol_lease_record *r, enum dvol_lease_json shape,
			      const uint64_t *heartbeat_age, struct json_object **ret);

/*
 * Read a record back from the first LEN bytes of the file (as read; anyone can write
 * anything there). 0 with *ret filled; -EBADMSG for anything else: not one JSON object and
 * blanks, a NUL byte, more than DVOL_LEASE_RECORD_SIZE bytes, a missing field, a field of
 * the wrong type or out of range, an identity that is not one, a mount point that is not
 * an absolute path, control characters. Keys it does not know are ignored. -ENOMEM.
 */
int dvol_lease_record_parse(const char *buf, size_t len, struct dvol_lease_record *ret);

/*
 * A record's fields from the JSON object O, as `dvol-writer status --json` shows a holder
 * (the record without its format; other keys ignored), checked as parse checks them. 0
 * with *ret filled; -EBADMSG for anything else, O NULL or not an object included. Pure.
 */
int dvol_lease_record_from_json(struct json_object *o, struct dvol_lease_record *ret);

/* Is a machine id 32 lowercase hex digits, a boot id a UUID? Pure. */
bool dvol_lease_machine_id_valid(const char *s);
bool dvol_lease_boot_id_valid(const char *s);

/* The same host: the same machine id, boot (boot id) and host name; two network
 * namespaces of one machine with their own names are two hosts. Pure. */
bool dvol_lease_same_host(const struct dvol_lease_record *a, const struct dvol_lease_record *b);

/*
 * The record in words, for messages: "HOST[, this host] (machine M, pid N, mount point
 * P), since T, generation G, last heartbeat T", the host name and mount point escaped
 * (they come from the volume) and times in UTC. 0 with *ret (caller frees) or -ENOMEM.
 */
int dvol_lease_describe(const struct dvol_lease_record *r, bool this_host, char **ret);

/*
 * The generation of a takeover: PREV's + 1, or 1 when there is no readable record before
 * it (PREV NULL) or its generation is 0. -EOVERFLOW at DVOL_LEASE_GENERATION_MAX. Pure.
 */
int dvol_lease_next_generation(const struct dvol_lease_record *prev, uint64_t *ret);

/* The holder's clock, from the server's lease time. */
struct dvol_lease_timing {
	uint64_t lease_ms;
	uint64_t heartbeat_ms; /* a heartbeat every lease/6 */
	uint64_t fence_ms;     /* no heartbeat done for lease/2: fence */
};

/* The timing for LEASE_MS; -ERANGE outside DVOL_LEASE_TIME_MS_MIN..MAX. Pure. */
int dvol_lease_timing(uint64_t lease_ms, struct dvol_lease_timing *ret);

/* What a heartbeat's outcome means to the holder. */
enum dvol_lease_beat {
	DVOL_LEASE_BEAT_OK,    /* it reached the server */
	DVOL_LEASE_BEAT_RETRY, /* it failed, and the last one that did not is recent enough */
	DVOL_LEASE_BEAT_FENCE, /* EIO (the server may have given the lease away), or too long */
};

/*
 * After a heartbeat that ended with R (0 or -errno) at NOW_MS, the last successful one
 * having been at LAST_OK_MS (one clock, monotonic). Pure.
 */
enum dvol_lease_beat dvol_lease_after_beat(const struct dvol_lease_timing *t, int r,
					   uint64_t now_ms, uint64_t last_ok_ms);

/*
 * The server's lease as this client learned it, from the text of /proc/self/mountstats:
 * the "nfsv4:" line of the mount at MOUNT_POINT (as mountinfo spells it) says
 * lease_time=SECONDS. 0 with *ret_ms; -ENOENT when that mount is not there, or not NFSv4
 * (NFSv3's locks have no lease); -EBADMSG when its lease_time= is not a number. The last
 * mount at MOUNT_POINT counts, as the one on top. Pure.
 */
int dvol_lease_time_from_mountstats(const char *text, const char *mount_point, uint64_t *ret_ms);

/* Why the NFS options do not allow writer=exclusive. */
enum dvol_lease_opts_why {
	DVOL_LEASE_OPTS_OK,
	DVOL_LEASE_OPTS_NOLOCK,	    /* nolock: locks stay on this host */
	DVOL_LEASE_OPTS_LOCAL_LOCK, /* local_lock= other than none: the same */
	DVOL_LEASE_OPTS_V3,	    /* NFSv3: its locks (NLM) have no lease to bound a takeover */
};

/*
 * The NFS options FS (as the kernel gets them; may be NULL): do locks reach the server,
 * under a lease? The last of lock/nolock, of local_lock= and of the version options
 * (vers=, nfsvers=, v3, v4...) wins, as with the kernel. *ret_name (static) names the
 * option at fault. Pure.
 */
enum dvol_lease_opts_why dvol_lease_check_nfs_opts(const char *fs, const char **ret_name);

/* on-conflict=: what a second writer does. */
enum dvol_lease_on_conflict {
	DVOL_LEASE_CONFLICT_RO,	  /* mount read-only and name the holder (default) */
	DVOL_LEASE_CONFLICT_FAIL, /* fail (mount.dvol: exit 32) and name the holder */
	DVOL_LEASE_CONFLICT_WAIT, /* wait up to wait-timeout= for the lease */
};

/* "ro", "fail", "wait" and back: -EINVAL for anything else. */
int dvol_lease_on_conflict_from_string(const char *s, enum dvol_lease_on_conflict *ret);
const char *dvol_lease_on_conflict_to_string(enum dvol_lease_on_conflict c);
