/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * cache=local: NFS read through the kernel's FS-Cache, whose backing store (cachefiles) is
 * a folder on a local volume that cachefilesd(8) manages. One cache serves the host.
 * cachefilesd keeps a share of that filesystem free (its culling limits, in per cent of
 * the filesystem's blocks and files): dvol sets those limits from cache-size= and from the
 * budgets dvol-gc keeps on the same filesystem, so that the two never fight over it.
 * Pure functions: no I/O.
 */

/* Where the cache lives when cache-dir= is not given: a folder of the instance store. */
#define DVOL_FSCACHE_SUBDIR "fscache"
/* The configuration dvol-cachefilesd.service starts cachefilesd with. */
#define DVOL_FSCACHE_CONF "/run/dvol/cachefilesd.conf"
/* The kernel's list of caches. */
#define DVOL_FSCACHE_PROC "/proc/fs/fscache/caches"

/*
 * Is a cache active, by TEXT (the contents of /proc/fs/fscache/caches, may be NULL for a
 * file that is not there: no fscache module)? Each cache is a line "ID REF VOLS OBJS ACCES
 * S NAME", S 'A' when it is active. *ret_name (may be NULL): the first active cache's
 * name (caller frees), if any.
 */
bool dvol_fscache_active(const char *text, char **ret_name);

/* What the limits are made from. */
struct dvol_fscache_in {
	uint64_t fs_bytes;	  /* the cache filesystem's size */
	uint64_t cache_size;	  /* cache-size=: bytes, or per cent with cache_size_pct */
	bool cache_size_pct;	  /* 0 cache_size: none given */
	uint64_t budgets_bytes;	  /* dvol-gc's max-size= of its roots on this filesystem */
	unsigned gc_min_free_pct; /* the largest min-free= of those roots, rounded up */
};

/* cachefilesd's limits (brun, bcull, bstop), in per cent of the filesystem kept free. */
struct dvol_fscache_limits {
	unsigned run;	      /* culling stops above this much free */
	unsigned cull;	      /* culling starts below this */
	unsigned stop;	      /* no new cache files below this */
	uint64_t cache_bytes; /* the cache's own share, as asked (0: the rest of the volume) */
};

/*
 * The limits from IN: culling starts where the cache would pass its share (cache-size=, or
 * by default everything the budgets leave), and never below dvol-gc's min-free= plus one,
 * so that the cache gives way before dvol-gc removes budgeted files. 0, or -ERANGE with
 * *ret_why (static) when the share and the budgets do not fit the filesystem.
 */
int dvol_fscache_limits(const struct dvol_fscache_in *in, struct dvol_fscache_limits *ret,
			const char **ret_why);

/* cachefilesd.conf(5) text for a cache in DIR with limits L: 0 or -ENOMEM. DIR must be an
 * absolute path without newlines (-EINVAL otherwise). */
int dvol_fscache_conf(const char *dir, const struct dvol_fscache_limits *l, char **ret);
