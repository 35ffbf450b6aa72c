/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "gcconf.h"

/*
 * The walk, the budget and the eviction of one cache root, in memory that does not grow
 * with the number of files:
 *
 *   pass 1  walks the tree once and adds every evictable file's bytes to an age histogram
 *           of DVOL_GC_HIST_BUCKETS buckets (log-linear: 64 per power of two, so a bucket
 *           spans at most 1/64 of the ages in it);
 *   cutoff  from the oldest bucket down, the first age at which the bytes older than it
 *           meet the budget;
 *   pass 2  walks again and evicts what is older than the cutoff (or than max-age),
 *           re-checking each file just before it goes; then removes the folders it left
 *           empty.
 *
 * Everything is done relative to directory fds opened beneath the root fd, never
 * following a symlink and never crossing into another mount.
 */

#define DVOL_GC_HIST_SUB     64 /* buckets per power of two */
#define DVOL_GC_HIST_BITS    40 /* ages up to 2^40 s (35 000 years) */
#define DVOL_GC_HIST_BUCKETS ((DVOL_GC_HIST_BITS - 5) * DVOL_GC_HIST_SUB)
#define DVOL_GC_MAX_DEPTH    256

struct dvol_gc_hist {
	uint64_t bytes[DVOL_GC_HIST_BUCKETS];
	uint64_t files[DVOL_GC_HIST_BUCKETS];
};

unsigned dvol_gc_hist_bucket(uint64_t age_s);
/* The youngest age that falls in bucket B. */
uint64_t dvol_gc_hist_floor(unsigned b);
void dvol_gc_hist_add(struct dvol_gc_hist *h, uint64_t age_s, uint64_t bytes);
/*
 * The cutoff age: evicting every file at least this old frees at least NEED bytes. NEED
 * of 0 gives UINT64_MAX (nothing). When the histogram cannot cover NEED, the floor of
 * the youngest non-empty bucket (everything goes). *ret_bytes (may be NULL) is what the
 * cutoff frees, by the histogram.
 */
uint64_t dvol_gc_hist_cutoff(const struct dvol_gc_hist *h, uint64_t need, uint64_t *ret_bytes);

struct statx;
/*
 * Within grace: the newest of atime, mtime and ctime is less than GRACE_S before NOW. The
 * ctime counts because a file copied in with `cp -p` or unpacked from an archive arrives
 * with old atime and mtime, and only its ctime says that it just arrived.
 */
bool dvol_gc_young(const struct statx *sx, uint64_t now, uint64_t grace_s);
/* What unlinking this name gives back to the filesystem: all, if it is the file's last. */
uint64_t dvol_gc_bytes_freed(const struct statx *sx);

enum dvol_gc_skip {
	DVOL_GC_SKIP_YOUNG,   /* younger than grace */
	DVOL_GC_SKIP_KEEP,    /* inside a folder with .dvol-keep */
	DVOL_GC_SKIP_LOCKED,  /* someone holds a flock on it */
	DVOL_GC_SKIP_SPECIAL, /* socket, FIFO, device */
	DVOL_GC_SKIP_MOUNT,   /* another mount (st_dev or mount id differs, or a mount root) */
	DVOL_GC_SKIP_CHANGED, /* changed between the scan and the removal */
	DVOL_GC_SKIP_DEPTH,   /* deeper than DVOL_GC_MAX_DEPTH or a path too long */
	DVOL_GC_SKIP_ERROR,   /* could not be looked at or removed */
	_DVOL_GC_SKIP_MAX,
};
const char *dvol_gc_skip_to_string(enum dvol_gc_skip s);

enum dvol_gc_event {
	DVOL_GC_EVICT, /* a file or symlink removed (or, dry run, to be) */
	DVOL_GC_RMDIR, /* a folder left empty, removed */
	DVOL_GC_SKIP,  /* skipped, with a reason; only for reasons worth a line */
};

/* PATH is relative to the root. ERR is the -errno behind DVOL_GC_SKIP_ERROR. */
typedef void (*dvol_gc_event_fn)(void *userdata, enum dvol_gc_event ev, enum dvol_gc_skip why,
				 const char *path, uint64_t bytes, int err);

struct dvol_gc_stats {
	uint64_t files;	  /* files and symlinks seen (pass 1) */
	uint64_t bytes;	  /* their allocated bytes, hard links shared between names */
	uint64_t dirs;	  /* folders walked (pass 1) */
	uint64_t evicted; /* files and symlinks removed (or to be) */
	uint64_t freed;	  /* bytes given back: a file's, when its last name went */
	uint64_t dirs_removed;
	uint64_t skipped[_DVOL_GC_SKIP_MAX];
	uint64_t need;	     /* bytes the size and free-space budgets asked for */
	uint64_t cutoff_age; /* seconds; UINT64_MAX: no budget eviction */
	uint64_t fs_size, fs_avail_before;
	uint64_t not_walked; /* entries too deep or that could not be looked at: a failure */
	unsigned passes;     /* eviction walks (pass 2 and its repeats) */
	bool budget_met;     /* false, too, when something could not be walked */
};

struct dvol_gc_opts {
	const struct dvol_gc_budget *budget;
	bool dry_run;
	uint64_t now_s; /* 0: now */
	dvol_gc_event_fn event;
	void *userdata;
};

/*
 * Run the policy on the tree at ROOT_FD (O_RDONLY|O_DIRECTORY). 0 with *ret filled, or
 * -errno when the root itself could not be walked. Trouble with single entries is
 * counted in ret->skipped, not returned.
 */
int dvol_gc_root_run(int root_fd, const struct dvol_gc_opts *o, struct dvol_gc_stats *ret);
