/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * dvol-gc's roots and budgets. The files are read with libmount's table parser (the
 * fstab format), one root a line:
 *
 *   # ROOT              NAME     OPTIONS
 *   /var/cache/models   models   max-size=200G,max-age=30d,min-free=10%,grace=1h
 *
 * ROOT is an absolute folder (\040 for a space, as in fstab), NAME a label for reports
 * ("-": none), OPTIONS a comma list read with libmount's optstr functions.
 */

struct dvol_gc_budget {
	uint64_t max_size; /* bytes */
	bool has_max_size;
	uint64_t max_age_s;
	bool has_max_age;
	uint64_t min_free; /* bytes, or parts per million of the filesystem with min_free_ppm */
	bool has_min_free;
	bool min_free_ppm;
	uint64_t grace_s;
};

#define DVOL_GC_GRACE_S_DEFAULT 3600

struct dvol_gc_root_conf {
	char *path;
	char *name; /* NULL: none */
	struct dvol_gc_budget budget;
	char *file; /* where it was configured; NULL for the command line */
	unsigned line;
};

struct dvol_gc_conf {
	struct dvol_gc_root_conf *roots;
	size_t n_roots;
};

/* Where a configuration error is: file, line (0: the whole file), key (may be NULL). */
struct dvol_gc_conf_error {
	char *file;
	unsigned line;
	char *key;
	const char *why; /* static */
};
void dvol_gc_conf_error_done(struct dvol_gc_conf_error *e);

void dvol_gc_budget_init(struct dvol_gc_budget *b);
/* Set one budget key ("max-size", "max-age", "min-free", "grace") from its text.
 * 0, or -EINVAL/-ERANGE with *ret_why; -ENOENT for an unknown key. */
int dvol_gc_budget_set(struct dvol_gc_budget *b, const char *key, const char *value,
		       const char **ret_why);
/* Does the budget ask for anything at all? */
bool dvol_gc_budget_any(const struct dvol_gc_budget *b);

/* Parse one file into C (appending). -errno; on -EINVAL *err says where and why. */
int dvol_gc_conf_load_file(struct dvol_gc_conf *c, const char *path,
			   struct dvol_gc_conf_error *err);
/* CONFDIR/gc.conf (if present), then CONFDIR/gc.d/[*].conf in name order. */
int dvol_gc_conf_load_dir(struct dvol_gc_conf *c, const char *confdir,
			  struct dvol_gc_conf_error *err);
/* Append a root from the command line; -EEXIST if it is there already. */
int dvol_gc_conf_add(struct dvol_gc_conf *c, const char *path, const struct dvol_gc_budget *b);
void dvol_gc_conf_done(struct dvol_gc_conf *c);
