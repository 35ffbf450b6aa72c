/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tmpdir.h"

#include "fresh.h"

static void test_mark_take(void **state)
{
	static const char uuid[] = "1ecd8dbd-fed2-47b8-9c4a-7f120b63c8a5";
	char d[128], p[192];
	struct stat st;

	/* The folder and its parent are made, root-only. */
	snprintf(d, sizeof(d), "%s/dvol/fresh", dir);
	snprintf(p, sizeof(p), "%s/%s", d, uuid);
	assert_int_equal(dvol_fresh_take(d, uuid), 0);
	assert_int_equal(dvol_fresh_mark(d, uuid), 0);
	assert_int_equal(stat(d, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(dvol_fresh_mark(d, uuid), 0); /* twice is once */
	assert_int_equal(dvol_fresh_take(d, "0000-1111"), 0);
	assert_int_equal(dvol_fresh_take(d, uuid), 1);
	assert_int_equal(dvol_fresh_take(d, uuid), 0);
	assert_int_equal(stat(p, &st), -1);
}

static void test_bad_uuid(void **state)
{
	static const char *const bad[] = {
	    "", "../x", "a/b", "abc def", ".", "..", "0123456789abcdef0123456789abcdef0123456789"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (dvol_fresh_mark(dir, bad[i]) != -EINVAL)
			fail_msg("mark '%s' was not refused", bad[i]);
		if (dvol_fresh_take(dir, bad[i]) != -EINVAL)
			fail_msg("take '%s' was not refused", bad[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mark_take),
	    cmocka_unit_test(test_bad_uuid),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
