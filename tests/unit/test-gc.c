/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sys/stat.h>

#include "gc.h"

static void test_bucket_edges(void **state)
{
	uint64_t prev = 0;

	/* Exact below 64 s. */
	for (uint64_t a = 0; a < 64; a++) {
		assert_int_equal(dvol_gc_hist_bucket(a), a);
		assert_int_equal(dvol_gc_hist_floor(a), a);
	}
	/* Every bucket's floor lands in that bucket, floors rise strictly, and a bucket is
	 * at most 1/64 of its ages wide. */
	for (unsigned b = 1; b < DVOL_GC_HIST_BUCKETS; b++) {
		uint64_t f = dvol_gc_hist_floor(b);

		assert_int_equal(dvol_gc_hist_bucket(f), b);
		assert_int_equal(dvol_gc_hist_bucket(f - 1), b - 1);
		assert_true(f > prev);
		if (b >= 64)
			assert_true((f - prev) * 64 <= prev + 64);
		prev = f;
	}
	/* Ages past the last bucket stay in it. */
	assert_int_equal(dvol_gc_hist_bucket(UINT64_MAX), DVOL_GC_HIST_BUCKETS - 1);
	assert_int_equal(dvol_gc_hist_bucket(30 * 86400ULL),
			 dvol_gc_hist_bucket(30 * 86400ULL + 60));
}

static void test_cutoff(void **state)
{
	struct dvol_gc_hist *h = calloc(1, sizeof(*h));
	uint64_t freed, c;

	assert_non_null(h);
	/* Nothing needed: nothing goes. */
	assert_true(dvol_gc_hist_cutoff(h, 0, &freed) == UINT64_MAX);
	/* An empty histogram cannot give anything. */
	assert_true(dvol_gc_hist_cutoff(h, 100, &freed) == UINT64_MAX);
	assert_int_equal(freed, 0);

	dvol_gc_hist_add(h, 10 * 86400, 100); /* 10 days */
	dvol_gc_hist_add(h, 5 * 86400, 200);
	dvol_gc_hist_add(h, 1 * 86400, 400);
	dvol_gc_hist_add(h, 3600, 800);

	/* 50 bytes: the oldest file alone; the cutoff lies within 1/64 below 10 days. */
	c = dvol_gc_hist_cutoff(h, 50, &freed);
	assert_int_equal(freed, 100);
	assert_true(c <= 10 * 86400 && c > 5 * 86400 && c >= 10 * 86400 - 10 * 86400 / 64);
	/* 101 bytes: the two oldest. */
	c = dvol_gc_hist_cutoff(h, 101, &freed);
	assert_int_equal(freed, 300);
	assert_true(c <= 5 * 86400 && c > 86400);
	/* Exactly 700: down to one day. */
	c = dvol_gc_hist_cutoff(h, 700, &freed);
	assert_int_equal(freed, 700);
	assert_true(c <= 86400 && c > 3600);
	/* More than there is: everything, down to the youngest bucket. */
	c = dvol_gc_hist_cutoff(h, 1 << 20, &freed);
	assert_int_equal(freed, 1500);
	assert_true(c <= 3600 && c >= 3600 - 3600 / 64);

	/* Files a second apart share a bucket only when they are old enough. */
	memset(h, 0, sizeof(*h));
	dvol_gc_hist_add(h, 40, 10);
	dvol_gc_hist_add(h, 41, 10);
	c = dvol_gc_hist_cutoff(h, 10, &freed);
	assert_int_equal(c, 41);
	assert_int_equal(freed, 10);
	free(h);
}

static void test_young(void **state)
{
	static const struct {
		int64_t atime, mtime, ctime;
		uint64_t grace;
		bool want;
	} cases[] = {
	    /* now = 1000000 */
	    {1000000 - 100, 1000000 - 100, 1000000 - 100, 3600, true},
	    {1000000 - 7200, 1000000 - 7200, 1000000 - 7200, 3600, false},
	    {1000000 - 3600, 1000000 - 3600, 1000000 - 3600, 3600, false}, /* exactly grace */
	    {1000000 - 3599, 1000000 - 9000, 1000000 - 9000, 3600, true},  /* used */
	    {1000000 - 9000, 1000000 - 3599, 1000000 - 9000, 3600, true},  /* written */
	    /* cp -p, tar, touch -d: old atime and mtime, the ctime of its arrival */
	    {1000000 - 900000, 1000000 - 900000, 1000000 - 10, 3600, true},
	    {1000000 - 900000, 1000000 - 900000, 1000000 - 3601, 3600, false},
	    {1000000 - 10, 1000000 - 10, 1000000 - 10, 0, false}, /* no grace */
	    {1000000 + 50, 0, 0, 3600, true},			  /* from the future */
	    {1000000 + 50, 0, 0, 0, false},
	    {-5, -5, 1000000 - 9000, 3600, false}, /* before 1970 */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct statx sx = {0};

		sx.stx_atime.tv_sec = cases[i].atime;
		sx.stx_mtime.tv_sec = cases[i].mtime;
		sx.stx_ctime.tv_sec = cases[i].ctime;
		assert_int_equal(dvol_gc_young(&sx, 1000000, cases[i].grace), cases[i].want);
	}
}

static void test_bytes_freed(void **state)
{
	static const struct {
		uint32_t nlink;
		uint64_t blocks, want;
	} cases[] = {
	    {1, 8, 4096}, {2, 8, 0}, {3, 2048, 0}, {0, 8, 4096}, /* open but unlinked */
	    {1, 0, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct statx sx = {0};

		sx.stx_nlink = cases[i].nlink;
		sx.stx_blocks = cases[i].blocks;
		assert_int_equal(dvol_gc_bytes_freed(&sx), cases[i].want);
	}
}

static void test_skip_names(void **state)
{
	for (int i = 0; i < _DVOL_GC_SKIP_MAX; i++)
		assert_non_null(dvol_gc_skip_to_string(i));
	assert_null(dvol_gc_skip_to_string(_DVOL_GC_SKIP_MAX));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bucket_edges), cmocka_unit_test(test_cutoff),
	    cmocka_unit_test(test_young),	 cmocka_unit_test(test_bytes_freed),
	    cmocka_unit_test(test_skip_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
