/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lease.h"

/*
 * The writer's lease of volumes mounted with writer=exclusive, as a list of volumes shows
 * it. Whether the lock is held can only be asked through the volume's own mount (its
 * kernel client, F_OFD_GETLK), which dvol-writer status does; here it is run for each
 * volume, all at once and under one deadline, so that a server that does not answer costs
 * the deadline and no more, and its answer is judged into what is reported.
 */

/* How much of a run's output is kept; dvol-writer status prints far less. */
#define DVOL_LEASE_ANSWER_MAX 65536

/* What one run of `dvol-writer status --json TARGET` did. */
struct dvol_lease_answer {
	int spawn_error; /* -errno: it could not be started (nothing else is set) */
	bool timed_out;	 /* still running at the deadline: killed */
	int status;	 /* its wait status, when it ended */
	char *out;	 /* its standard output, NUL-terminated (NULL: none) */
	size_t out_len;
	char *err; /* its standard error, the same */
	size_t err_len;
};

/* One run in flight. */
struct dvol_lease_ask {
	pid_t pid;	    /* 0 once it has been reaped (or was never started) */
	int out_fd, err_fd; /* -EBADF once at their end */
	struct dvol_lease_answer answer;
};

/*
 * Start `PROG status --json TARGET`, with /dev/null as its input and DVOL_LOG=stderr (a
 * sandboxed child may be unable to open a syslog socket, and its message belongs in the
 * answer): needs fork and exec, and in the parent's sandbox whatever the child's needs.
 * A run that cannot be started gets ret->answer.spawn_error. 0, or -ENOMEM.
 */
int dvol_lease_ask_start(const char *prog, const char *target, struct dvol_lease_ask *ret);

/*
 * Wait for the N runs of ASKS, reading their output, until each has ended or DEADLINE_MS
 * (dvol_now_ms()'s clock) has come; those still running then are killed (SIGKILL) and
 * marked timed_out. A killed run that the kernel holds (a wait that no signal ends) is
 * not waited for: it is reaped with the caller. Needs only stdio, wait and kill. 0 or
 * -errno (poll failing; the runs left are killed).
 */
int dvol_lease_ask_wait(struct dvol_lease_ask *asks, size_t n, uint64_t deadline_ms);

/* Close what is open and free the answer. */
void dvol_lease_ask_done(struct dvol_lease_ask *a);

enum dvol_lease_state {
	DVOL_LEASE_STATE_UNKNOWN, /* no answer: why says why */
	DVOL_LEASE_STATE_HELD,
	DVOL_LEASE_STATE_FREE,
};

/* What the lock file holds, as dvol-writer status says ("record"). */
enum dvol_lease_rec {
	DVOL_LEASE_REC_NONE,	   /* no lease was ever taken there */
	DVOL_LEASE_REC_VALID,	   /* a record: holder below */
	DVOL_LEASE_REC_UNREADABLE, /* something that is not one */
};

struct dvol_lease_info {
	enum dvol_lease_state state;
	enum dvol_lease_rec record;	 /* held or free */
	struct dvol_lease_record holder; /* record VALID: the holder (held), the last one (free) */
	bool this_host;			 /* ...is this host, as dvol-writer judged it */
	bool this_mount;		 /* held by this host through TARGET itself */
	char why[512]; /* unknown: why, for a person (control characters escaped) */
};

/*
 * Judge the ANSWER of `dvol-writer status --json TARGET`, asked with TIMEOUT_MS: held
 * (exit 0) or free (exit 3) with the record it shows, the holder's fields checked as a
 * record's are; anything else is unknown, with the reason: not started, killed at the
 * deadline, ended by a signal, failed (its last line of standard error), or an answer
 * that is not one (bad JSON, a state that contradicts its exit status, a holder that is
 * not a record). Pure. 0 with *ret, or -ENOMEM.
 */
int dvol_lease_info_judge(const struct dvol_lease_answer *a, const char *target,
			  uint64_t timeout_ms, struct dvol_lease_info *ret);

/* "held", "free", "unknown"; "valid", "unreadable", "none". */
const char *dvol_lease_state_to_string(enum dvol_lease_state s);
const char *dvol_lease_rec_to_string(enum dvol_lease_rec r);
