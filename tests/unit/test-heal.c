/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "heal.h"
#include "rootdir.h"
#include "tmpdir.h"

/* heal's pauses: none before a failure, then 30 s doubling, at most 30 min. */
static void test_heal_pause(void **state)
{
	static const struct {
		unsigned failures;
		uint64_t ms;
	} t[] = {
	    {0, 0},	  {1, 30000},	{2, 60000},    {3, 120000},	      {6, 960000},
	    {7, 1800000}, {8, 1800000}, {64, 1800000}, {UINT32_MAX, 1800000},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++)
		assert_int_equal(dvol_heal_pause_ms(t[i].failures), t[i].ms);
}

/* What a look found, from dvol_mount_check_live()'s answer. */
static void test_look_of(void **state)
{
	static const struct {
		int r;
		enum dvol_heal_look look;
	} t[] = {
	    {0, DVOL_HEAL_LOOK_LIVE},	       {-ESTALE, DVOL_HEAL_LOOK_STALE},
	    {-ETIMEDOUT, DVOL_HEAL_LOOK_HUNG}, {-ENOENT, DVOL_HEAL_LOOK_ERROR},
	    {-EIO, DVOL_HEAL_LOOK_ERROR},      {-EACCES, DVOL_HEAL_LOOK_ERROR},
	    {-ENOTCONN, DVOL_HEAL_LOOK_ERROR},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++)
		assert_int_equal(dvol_heal_look_of(t[i].r), t[i].look);
}

/* The watchdog's decision: only a stale mount with heal, out of its pause, is healed. */
static void test_decide(void **state)
{
	static const struct {
		enum dvol_heal_look look;
		bool heal;
		unsigned failures;
		uint64_t not_before_ms, now_ms;
		enum dvol_heal_action action;
	} t[] = {
	    {DVOL_HEAL_LOOK_LIVE, true, 0, 0, 1000, DVOL_HEAL_LIVE},
	    {DVOL_HEAL_LOOK_LIVE, true, 3, 99999, 1000, DVOL_HEAL_LIVE}, /* mended: pause goes */
	    {DVOL_HEAL_LOOK_LIVE, false, 0, 0, 1000, DVOL_HEAL_LIVE},
	    {DVOL_HEAL_LOOK_HUNG, true, 0, 0, 1000, DVOL_HEAL_HUNG},
	    {DVOL_HEAL_LOOK_HUNG, false, 0, 0, 1000, DVOL_HEAL_HUNG},
	    {DVOL_HEAL_LOOK_ERROR, true, 0, 0, 1000, DVOL_HEAL_UNKNOWN},
	    {DVOL_HEAL_LOOK_STALE, false, 0, 0, 1000, DVOL_HEAL_NOT_ASKED},
	    {DVOL_HEAL_LOOK_STALE, false, 2, 99999, 1000, DVOL_HEAL_NOT_ASKED},
	    {DVOL_HEAL_LOOK_STALE, true, 0, 0, 1000, DVOL_HEAL_RUN},
	    {DVOL_HEAL_LOOK_STALE, true, 1, 31000, 1000, DVOL_HEAL_PAUSED},
	    {DVOL_HEAL_LOOK_STALE, true, 1, 31000, 30999, DVOL_HEAL_PAUSED},
	    {DVOL_HEAL_LOOK_STALE, true, 1, 31000, 31000, DVOL_HEAL_RUN}, /* pause over */
	    {DVOL_HEAL_LOOK_STALE, true, 0, 31000, 1000, DVOL_HEAL_RUN},  /* no failure yet */
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		struct dvol_heal_facts f = {
		    .look = t[i].look,
		    .heal = t[i].heal,
		    .failures = t[i].failures,
		    .not_before_ms = t[i].not_before_ms,
		    .now_ms = t[i].now_ms,
		};

		assert_int_equal(dvol_heal_decide(&f), t[i].action);
	}
}

/* The names of a target's files: its path escaped, as the unit of its mount is named. */
static void test_file_name(void **state)
{
	static const struct {
		const char *target, *suffix;
		int r;
		const char *want;
	} t[] = {
	    {"/mnt/models", ".lock", 0, "mnt-models.lock"},
	    {"/mnt/dvol-heal", ".backoff", 0, "mnt-dvol\\x2dheal.backoff"},
	    {"/", ".lock", 0, "-.lock"},
	    {"/mnt/a b", ".lock", 0, "mnt-a\\x20b.lock"},
	    /* A path that is not normalized has no name (mount.dvol normalizes first). */
	    {"/a/../b", ".lock", -EINVAL, NULL},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		_cleanup_free_ char *n = NULL;

		assert_int_equal(dvol_heal_file_name(t[i].target, t[i].suffix, &n), t[i].r);
		if (!t[i].want)
			continue;
		assert_string_equal(n, t[i].want);
		assert_null(strchr(n, '/'));
	}
}

/* The folder is made 0700 and opened without following a link anywhere on the way; one
 * of someone else's, or a link planted in its place, is refused. */
static void test_dir_open(void **state)
{
	char path[128], link[128], other[128];
	_cleanup_close_ int fd = -EBADF;
	struct stat st;

	snprintf(path, sizeof(path), "%s/run/dvol/heal", dir);
	assert_int_equal(dvol_rootdir_private(path, 0700, &fd, NULL), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	fd = safe_close(fd);

	/* Too wide: narrowed. */
	assert_int_equal(chmod(path, 0777), 0);
	assert_int_equal(dvol_rootdir_private(path, 0700, &fd, NULL), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	fd = safe_close(fd);

	/* A link in its place, and one above it. */
	snprintf(other, sizeof(other), "%s/elsewhere", dir);
	assert_int_equal(mkdir(other, 0755), 0);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(symlink(other, path), 0);
	assert_int_equal(dvol_rootdir_private(path, 0700, &fd, NULL), -ELOOP);
	assert_int_equal(unlink(path), 0);
	snprintf(link, sizeof(link), "%s/run2", dir);
	assert_int_equal(symlink("run", link), 0);
	snprintf(path, sizeof(path), "%s/run2/dvol/heal", dir);
	assert_int_equal(dvol_rootdir_private(path, 0700, &fd, NULL), -ELOOP);
	/* Nothing was made through either link. */
	snprintf(path, sizeof(path), "%s/elsewhere", dir);
	assert_int_equal(rmdir(path), 0);

	/* Someone else's: refused (only root can make one to try). */
	if (geteuid() == 0) {
		snprintf(path, sizeof(path), "%s/run/dvol/heal", dir);
		assert_int_equal(mkdir(path, 0700), 0);
		assert_int_equal(chown(path, 1234, 1234), 0);
		assert_int_equal(dvol_rootdir_private(path, 0700, &fd, NULL), -EPERM);
	}
	assert_int_equal(dvol_rootdir_private("relative/heal", 0700, &fd, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_heal_pause), cmocka_unit_test(test_look_of),
	    cmocka_unit_test(test_decide),     cmocka_unit_test(test_file_name),
	    cmocka_unit_test(test_dir_open),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
