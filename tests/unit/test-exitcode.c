/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "exitcode.h"

static void test_exit_code(void **state)
{
	static const struct {
		enum dvol_fail stage;
		int r, want;
	} t[] = {
	    /* Success is 0 whatever the stage. */
	    {DVOL_FAIL_MOUNT, 0, 0},
	    {DVOL_FAIL_USAGE, 1, 0},
	    /* mount(8)'s table. */
	    {DVOL_FAIL_USAGE, -EINVAL, 1},
	    {DVOL_FAIL_SYSTEM, -EPERM, 2},
	    {DVOL_FAIL_BUG, -EPROTO, 4},
	    {DVOL_FAIL_RECORD, -EROFS, 16},
	    {DVOL_FAIL_MOUNT, -EBUSY, 32},
	    {DVOL_FAIL_MOUNT, -EINVAL, 32}, /* a mount's -EINVAL is not a usage error */
	    /* Whatever the stage: out of memory is a system error, an interruption 8. */
	    {DVOL_FAIL_MOUNT, -ENOMEM, 2},
	    {DVOL_FAIL_USAGE, -ENOMEM, 2},
	    {DVOL_FAIL_MOUNT, -EINTR, 8},
	    /* The tools' three. */
	    {DVOL_FAIL_TARGET, -EHOSTUNREACH, 2},
	    {DVOL_FAIL_INCOMPLETE, -EIO, 1},
	    {(enum dvol_fail)99, -EIO, 4},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(dvol_exit_code(t[i].stage, t[i].r), t[i].want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exit_code),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
