/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The exit codes of every dvol helper: one table. mount.dvol speaks mount(8)'s, all of
 * them; dvol-gc and dvol-nfs-probe use its first three (0 ok, 1 usage, 2 failed), as their
 * man pages say.
 */
enum {
	DVOL_EX_OK = 0,
	DVOL_EX_USAGE = 1,    /* bad invocation, bad option, refused privilege */
	DVOL_EX_SYSERR = 2,   /* out of memory, a system call that should not fail; for the
				 tools: some target or root failed */
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
	DVOL_FAIL_TARGET,     /* dvol-gc, dvol-nfs-probe: a root or a target failed */
	DVOL_FAIL_INCOMPLETE, /* dvol-gc: a root was not walked whole */
};

/*
 * The one mapping from an internal failure to an exit code (util-linux mk_exit_code()):
 * the stage decides, except that running out of memory is always a system error and an
 * interruption is always 8. R >= 0 is success.
 */
int dvol_exit_code(enum dvol_fail stage, int r);
