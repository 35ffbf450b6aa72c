/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "timeutil.h"

static void test_backoff(void **state)
{
	/* now, deadline -> the pause taken (0: none), as the same backoff goes on */
	static const struct {
		uint64_t now, deadline, want;
	} t[] = {
	    {0, 100000, 500},	   {0, 100000, 1000}, {0, 100000, 2000},
	    {0, 100000, 4000},	   {0, 100000, 8000}, {0, 100000, 8000}, /* capped */
	    {95000, 100000, 5000}, /* 8 s would pass the deadline: the last try is on it */
	    {91999, 100000, 8000}, /* ends before it */
	    {92000, 100000, 8000}, /* ends on it */
	    {99999, 100000, 1},	   /* the last millisecond */
	    {100000, 100000, 0},   /* on the deadline: no more */
	    {100001, 100000, 0},   /* past it */
	};
	struct dvol_backoff b = DVOL_BACKOFF_INIT(500, 8000);

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(dvol_backoff_next(&b, t[i].now, t[i].deadline), t[i].want);

	/* No deadline (no retry= asked): never a pause, and nothing changes. */
	b = DVOL_BACKOFF_INIT(250, 2000);
	assert_int_equal(dvol_backoff_next(&b, 1000, 0), 0);
	assert_int_equal(dvol_backoff_next(&b, 0, 1000), 250);
	assert_int_equal(dvol_backoff_next(&b, 250, 1000), 500);
	assert_int_equal(dvol_backoff_next(&b, 750, 1000), 250); /* cut to the deadline */
	assert_int_equal(dvol_backoff_next(&b, 1000, 1000), 0);
}

static void test_clock(void **state)
{
	uint64_t a = dvol_now_us(), b;

	dvol_sleep_ms(2);
	b = dvol_now_us();
	assert_true(b >= a + 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backoff),
	    cmocka_unit_test(test_clock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
