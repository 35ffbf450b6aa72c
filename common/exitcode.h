/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* mount(8)'s exit codes: mount.dvol speaks them, and so do the other helpers where they fit. */
enum {
	DVOL_EX_OK = 0,
	DVOL_EX_USAGE = 1,    /* bad invocation, bad option, refused privilege */
	DVOL_EX_SYSERR = 2,   /* out of memory, a system call that should not fail */
	DVOL_EX_SOFTWARE = 4, /* internal bug */
	DVOL_EX_USER = 8,     /* interrupted */
	DVOL_EX_FILEIO = 16,  /* utab or lock problem */
	DVOL_EX_FAIL = 32,    /* the mount (or what it needs) failed */
};

/* What the helper was doing when an -errno came back. */
enum dvol_fail {
	DVOL_FAIL_USAGE,
	DVOL_FAIL_SYSTEM,
	DVOL_FAIL_MOUNT,
	DVOL_FAIL_RECORD,
	DVOL_FAIL_BUG,
};

/*
 * The one mapping from an internal failure to an exit code (util-linux mk_exit_code()):
 * the stage decides, except that running out of memory is always a system error and an
 * interruption is always 8.
 */
int dvol_exit_code(enum dvol_fail stage, int r);
