/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * dvol-warm's manifests and the words of its progress line. Pure: no I/O.
 *
 * A manifest is text, one pattern a line; blank lines and lines whose first non-blank is
 * '#' are ignored, and blanks around a line are dropped. "root /abs/dir" (the word root,
 * blanks, an absolute folder) names the volume the patterns are relative to, at most once.
 * A pattern is a relative path whose components may each be an fnmatch(3) glob; "." and
 * empty components are dropped; it may not be absolute, hold "..", or "**", or be empty.
 */

#define DVOL_WARM_LINE_MAX 4096

struct dvol_warm_pattern {
	char *text;   /* as written (trimmed) */
	char **comps; /* its components, NULL-terminated; "." and empty ones dropped */
	unsigned line;
};

struct dvol_warm_manifest {
	char *root; /* NULL: no root line */
	unsigned root_line;
	struct dvol_warm_pattern *p;
	size_t n;
};

void dvol_warm_manifest_done(struct dvol_warm_manifest *m);

/*
 * Check PATTERN and split it into components: 0 with *ret_comps (NULL-terminated; free
 * with dvol_warm_comps_free()), -EINVAL with *ret_why, or -ENOMEM.
 */
int dvol_warm_pattern_split(const char *pattern, char ***ret_comps, const char **ret_why);
void dvol_warm_comps_free(char **comps);

/* Add PATTERN (from line LINE, or argument LINE) to M. 0, -EINVAL with *ret_why, -ENOMEM. */
int dvol_warm_manifest_add(struct dvol_warm_manifest *m, const char *pattern, unsigned line,
			   const char **ret_why);

/*
 * Parse the LEN bytes of TEXT into M (empty, or holding patterns already: they are kept).
 * 0; -EINVAL with *ret_line and *ret_why for the first line that is not right; -ENOMEM.
 */
int dvol_warm_manifest_parse(const char *text, size_t len, struct dvol_warm_manifest *m,
			     unsigned *ret_line, const char **ret_why);

/* Does the component hold a glob character ('*', '?', '[') not escaped by '\\'? */
bool dvol_warm_is_glob(const char *comp);
/* A component without glob characters, its '\\' escapes undone, into BUF (at least as long
 * as COMP). */
void dvol_warm_unescape(const char *comp, char *buf);

/* "0 B", "512 B", "1.5 KiB", "37.2 GiB". */
void dvol_warm_format_bytes(uint64_t bytes, char *buf, size_t size);
/* BYTES over SECONDS as "412.0 MiB/s"; "-" for no time yet. */
void dvol_warm_format_rate(uint64_t bytes, double seconds, char *buf, size_t size);
/* "0:07", "12:34", "1:02:03"; "--:--" for unknown (SECONDS < 0) or past 99 hours. */
void dvol_warm_format_eta(double seconds, char *buf, size_t size);

struct dvol_warm_progress {
	uint64_t bytes_done, bytes_total;
	uint64_t files_done, files_total;
	double seconds; /* since the start */
};

/* The progress line, without '\r' or '\n': "1.2 GiB / 8.0 GiB  15%  412.0 MiB/s  ETA 0:17
 * files 3/12". */
void dvol_warm_progress_line(const struct dvol_warm_progress *p, char *buf, size_t size);

/* The time left at the rate so far; -1 when it cannot be told yet. */
double dvol_warm_eta(uint64_t bytes_done, uint64_t bytes_total, double seconds);

/*
 * --check: the offsets of at most N samples of LEN bytes in a file of SIZE bytes, evenly
 * spaced from its start to its end, each on a 4 KiB boundary, none overlapping the one
 * before it (a small file has fewer). Returns how many were written to OFFS (room for N).
 */
unsigned dvol_warm_sample_offsets(uint64_t size, unsigned n, uint64_t len, uint64_t *offs);

enum dvol_warm_sample {
	DVOL_WARM_SAMPLE_MEMORY, /* in the page cache: read without waiting */
	DVOL_WARM_SAMPLE_LOCAL,	 /* read within the threshold: from a local cache */
	DVOL_WARM_SAMPLE_REMOTE, /* slower: from the server */
	_DVOL_WARM_SAMPLE_MAX,
};
const char *dvol_warm_sample_to_string(enum dvol_warm_sample s);
/* A timed read of US microseconds against THRESHOLD_US. */
enum dvol_warm_sample dvol_warm_sample_classify(uint64_t us, uint64_t threshold_us);
