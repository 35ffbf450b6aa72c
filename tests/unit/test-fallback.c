/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cleanup.h"
#include "fallback.h"

#define TMPFS DVOL_FALLBACK_TMPFS
#define DISK  DVOL_FALLBACK_DISK
#define NONE  DVOL_FALLBACK_ON_NOTHING
#define OURS  DVOL_FALLBACK_ON_OURS
#define OTHER DVOL_FALLBACK_ON_OTHER

/* Which failures optional covers, and what goes on the target then: one row a case. */
static void test_decide(void **state)
{
	static const struct {
		bool optional;
		enum dvol_fail stage;
		bool format_only;
		int r;
		enum dvol_fallback want;
		enum dvol_fallback_on on;
		bool named;
		enum dvol_fallback_action action;
	} t[] = {
	    /* Without optional, nothing: the failure stands. */
	    {false, DVOL_FAIL_MOUNT, false, -EHOSTUNREACH, TMPFS, NONE, true, DVOL_FALLBACK_NO},
	    /* A volume that is not ready: each kind of "not there". */
	    {true, DVOL_FAIL_MOUNT, false, -EHOSTUNREACH, TMPFS, NONE, true,
	     DVOL_FALLBACK_MOUNT_TMPFS},
	    {true, DVOL_FAIL_MOUNT, false, -ETIMEDOUT, TMPFS, NONE, true,
	     DVOL_FALLBACK_MOUNT_TMPFS},
	    {true, DVOL_FAIL_MOUNT, false, -ENOENT, DISK, NONE, true, DVOL_FALLBACK_MOUNT_DISK},
	    {true, DVOL_FAIL_MOUNT, false, -EMEDIUMTYPE, DISK, NONE, true,
	     DVOL_FALLBACK_MOUNT_DISK},
	    {true, DVOL_FAIL_MOUNT, false, -EREMOTEIO, TMPFS, NONE, false,
	     DVOL_FALLBACK_MOUNT_TMPFS}, /* a tmpfs needs no name */
	    /* Not a missing volume: a usage error, the system, the record, a bug. */
	    {true, DVOL_FAIL_USAGE, false, -EINVAL, TMPFS, NONE, true, DVOL_FALLBACK_NO},
	    {true, DVOL_FAIL_SYSTEM, false, -EPERM, TMPFS, NONE, true, DVOL_FALLBACK_NO},
	    {true, DVOL_FAIL_RECORD, false, -EIO, TMPFS, NONE, true, DVOL_FALLBACK_NO},
	    {true, DVOL_FAIL_BUG, false, -EPROTO, TMPFS, NONE, true, DVOL_FALLBACK_NO},
	    /* Busy (the lock, something else mounted there), out of memory, interrupted. */
	    {true, DVOL_FAIL_MOUNT, false, -EBUSY, TMPFS, NONE, true, DVOL_FALLBACK_NO},
	    {true, DVOL_FAIL_MOUNT, false, -ENOMEM, TMPFS, NONE, true, DVOL_FALLBACK_NO},
	    {true, DVOL_FAIL_MOUNT, false, -EINTR, DISK, NONE, true, DVOL_FALLBACK_NO},
	    /* The format step mounts nothing, a fallback neither. */
	    {true, DVOL_FAIL_MOUNT, true, -EMEDIUMTYPE, TMPFS, NONE, true, DVOL_FALLBACK_NO},
	    /* Success is no failure. */
	    {true, DVOL_FAIL_MOUNT, false, 0, TMPFS, NONE, true, DVOL_FALLBACK_NO},
	    /* Something else on the target: never stacked on. */
	    {true, DVOL_FAIL_MOUNT, false, -ENOENT, TMPFS, OTHER, true, DVOL_FALLBACK_NO_OTHER},
	    {true, DVOL_FAIL_MOUNT, false, -ENOENT, DISK, OTHER, false, DVOL_FALLBACK_NO_OTHER},
	    /* fallback=disk with no name for the target's folder, before anything else. */
	    {true, DVOL_FAIL_MOUNT, false, -ENOENT, DISK, NONE, false, DVOL_FALLBACK_NO_NAME},
	    {true, DVOL_FAIL_MOUNT, false, -ENOENT, DISK, OURS, false, DVOL_FALLBACK_NO_NAME},
	    /* An earlier fallback stays, whichever kind is asked now. */
	    {true, DVOL_FAIL_MOUNT, false, -ENOENT, TMPFS, OURS, true, DVOL_FALLBACK_KEEP},
	    {true, DVOL_FAIL_MOUNT, false, -ENOENT, DISK, OURS, true, DVOL_FALLBACK_KEEP},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		struct dvol_fallback_facts f = {
		    .optional = t[i].optional,
		    .stage = t[i].stage,
		    .format_only = t[i].format_only,
		    .r = t[i].r,
		    .want = t[i].want,
		    .on = t[i].on,
		    .named = t[i].named,
		};

		assert_int_equal(dvol_fallback_decide(&f), t[i].action);
		assert_int_equal(dvol_fallback_wanted(&f), t[i].action != DVOL_FALLBACK_NO);
	}
}

/* The target's folder: named as systemd names its mount unit, below the one folder. */
static void test_dir(void **state)
{
	static const struct {
		const char *target, *dir;
	} t[] = {
	    {"/data", DVOL_FALLBACK_DIR "/data"},
	    {"/root/.cache", DVOL_FALLBACK_DIR "/root-.cache"},
	    {"/mnt/a-b", DVOL_FALLBACK_DIR "/mnt-a\\x2db"},
	    {"/mnt/a b", DVOL_FALLBACK_DIR "/mnt-a\\x20b"},
	    {"/", DVOL_FALLBACK_DIR "/-"},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		_cleanup_free_ char *d = NULL;

		assert_int_equal(dvol_fallback_dir(t[i].target, &d), 0);
		assert_string_equal(d, t[i].dir);
		/* No name may climb out of the folder. */
		assert_null(strstr(d + strlen(DVOL_FALLBACK_DIR "/"), "/"));
	}
}

/* A bind's root that could be the folder: only a candidate, the inode decides. */
static void test_root_matches(void **state)
{
	static const char dir[] = DVOL_FALLBACK_DIR "/data";
	static const struct {
		const char *root, *dir;
		bool match;
	} t[] = {
	    {"/dvol/fallback/data", dir, true},		/* /var/lib its own filesystem */
	    {"/fallback/data", dir, true},		/* /var/lib/dvol its own */
	    {"/var/lib/dvol/fallback/data", dir, true}, /* on the root filesystem */
	    {"/", dir, false},				/* a whole filesystem */
	    {NULL, dir, false},
	    {"/var/lib/dvol/fallback/data2", dir, false},
	    {"/var/lib/dvol/fallback/xdata", dir, false},
	    {"/var/lib/dvol/fallback/data/", dir, false},
	    {"/var/lib/dvol/fallback", dir, false},
	    {"/data", dir, false},
	    {"/fallback/data", "/elsewhere/fallback/data", false}, /* not dvol's folder */
	    {"/fallback/data", NULL, false},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++)
		assert_int_equal(dvol_fallback_root_matches(t[i].root, t[i].dir), t[i].match);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decide),
	    cmocka_unit_test(test_dir),
	    cmocka_unit_test(test_root_matches),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
