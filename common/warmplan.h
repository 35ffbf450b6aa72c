/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "warm.h"

/*
 * dvol-warm's plan: a manifest's patterns matched beneath a volume's root fd, and each file
 * opened again for reading by the same walk. Every component is opened with O_NOFOLLOW
 * from the folder before it, never as a path string: a symbolic link is never followed,
 * neither to a file nor to a folder, wherever it is and wherever it points (a link
 * swapped in between the plan and the read is caught there as well). Reads beneath, stats,
 * and nothing else; no logging.
 */

struct dvol_warm_file {
	char *path; /* relative to the root */
	uint64_t size;
	dev_t dev;
	ino_t ino;
	unsigned pattern; /* the index of the first pattern that matched it */
};

/* What a pattern met that is not a file to read. */
enum dvol_warm_skip {
	DVOL_WARM_SKIP_SYMLINK, /* a symbolic link: not followed (not an error) */
	DVOL_WARM_SKIP_DIR,	/* a folder matched by the last component (not an error) */
	DVOL_WARM_SKIP_SPECIAL, /* a FIFO, socket or device: never read (an error) */
	DVOL_WARM_SKIP_ERROR,	/* could not be looked at (an error), with -errno */
	_DVOL_WARM_SKIP_MAX,
};
const char *dvol_warm_skip_to_string(enum dvol_warm_skip s);

typedef void (*dvol_warm_skip_fn)(void *userdata, const struct dvol_warm_pattern *p,
				  enum dvol_warm_skip why, const char *path, int err);

struct dvol_warm_plan {
	struct dvol_warm_file *f;
	size_t n;
	uint64_t bytes;
	size_t dups;  /* files matched again by a later pattern, read once */
	size_t *seen; /* open addressing over (dev, ino): index + 1 into f, 0 empty */
	size_t seen_cap;
};
void dvol_warm_plan_done(struct dvol_warm_plan *plan);

/*
 * Match pattern P (index IDX) beneath ROOT_FD and add the regular files it names to PLAN,
 * in name order within each folder; a file already in the plan (same device and inode) is
 * not added again. Entries that are not regular files are told to SKIP. 0 with *ret_matched
 * the number of entries the pattern matched (files, skips and duplicates), or -ENOMEM.
 */
int dvol_warm_plan_add(int root_fd, const struct dvol_warm_pattern *p, unsigned idx,
		       struct dvol_warm_plan *plan, dvol_warm_skip_fn skip, void *userdata,
		       size_t *ret_matched);

/*
 * Open F for reading, walking its path again beneath ROOT_FD without following a link:
 * 0 with *ret_fd, or -ELOOP (a link on the way), -EMEDIUMTYPE (not a regular file; never
 * opened blocking), -EXDEV (another file than the one planned: replaced since) or -errno.
 */
int dvol_warm_open(int root_fd, const struct dvol_warm_file *f, int *ret_fd);
