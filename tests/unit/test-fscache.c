/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cleanup.h"
#include "fscache.h"

#define G (1ULL << 30)

/* The kernel's list of caches (fs/fscache/proc.c's layout). */
static void test_active(void **state)
{
	static const char head[] = "CACHE    REF   VOLS  OBJS  ACCES S NAME\n"
				   "======== ===== ===== ===== ===== = ===============\n";
	static const struct {
		const char *body; /* after the heading; NULL: no file at all */
		bool active;
		const char *name;
	} t[] = {
	    {NULL, false, NULL},
	    {"", false, NULL},
	    {"00000001     2     1     0     0 A dvol\n", true, "dvol"},
	    {"00000001     2     1     0     0 A CacheFiles", true, "CacheFiles"},
	    {"00000001     1     0     0     0 - dvol\n", false, NULL},
	    {"00000001     1     0     0     0 P dvol\n", false, NULL},
	    {"00000001     1     0     0     0 W dvol\n", false, NULL},
	    {"00000002     1     0     0     0 W old\n00000003     3     2     5     1 A new\n",
	     true, "new"},
	    {"garbage A\n", false, NULL},
	    {"00000001 2 1 0 0\n", false, NULL},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		_cleanup_free_ char *text = NULL, *name = NULL;

		if (t[i].body)
			assert_true(asprintf(&text, "%s%s", head, t[i].body) > 0);
		print_message("case %zu\n", i);
		assert_int_equal(dvol_fscache_active(text, &name), t[i].active);
		if (t[i].name)
			assert_string_equal(name, t[i].name);
		else
			assert_null(name);
		assert_false(dvol_fscache_active(t[i].body ? t[i].body + 0 : NULL, NULL) &&
			     !t[i].active);
	}
}

static void test_limits(void **state)
{
	static const struct {
		struct dvol_fscache_in in;
		int r;
		unsigned run, cull, stop;
	} t[] = {
	    /* no share given: cachefilesd's usual limits */
	    {{.fs_bytes = 100 * G}, 0, 10, 7, 4},
	    /* half of the volume: culling starts with half of it free */
	    {{.fs_bytes = 100 * G, .cache_size = 50 * G}, 0, 54, 51, 48},
	    {{.fs_bytes = 100 * G, .cache_size = 50, .cache_size_pct = true}, 0, 54, 51, 48},
	    /* dvol-gc's budgets on the same filesystem come off the free share */
	    {{.fs_bytes = 100 * G,
	      .cache_size = 80,
	      .cache_size_pct = true,
	      .budgets_bytes = 10 * G},
	     0,
	     14,
	     11,
	     8},
	    {{.fs_bytes = 100 * G, .cache_size = 95, .cache_size_pct = true}, 0, 9, 6, 3},
	    /* min-free=: the cache gives way first */
	    {{.fs_bytes = 100 * G, .gc_min_free_pct = 10}, 0, 14, 11, 8},
	    {{.fs_bytes = 100 * G, .cache_size = 95, .cache_size_pct = true, .gc_min_free_pct = 20},
	     0,
	     24,
	     21,
	     18},
	    /* what does not fit */
	    {{.fs_bytes = 100 * G, .cache_size = 90 * G, .budgets_bytes = 10 * G},
	     -ERANGE,
	     0,
	     0,
	     0},
	    {{.fs_bytes = 100 * G, .budgets_bytes = 96 * G}, -ERANGE, 0, 0, 0},
	    {{.fs_bytes = 100 * G, .budgets_bytes = 200 * G}, -ERANGE, 0, 0, 0},
	    {{.fs_bytes = 100 * G, .cache_size = 101 * G}, -ERANGE, 0, 0, 0},
	    {{.fs_bytes = 100 * G, .gc_min_free_pct = 95}, -ERANGE, 0, 0, 0},
	    {{.fs_bytes = 0}, -ERANGE, 0, 0, 0},
	    /* tiny filesystems do not divide by zero */
	    {{.fs_bytes = 10}, 0, 10, 7, 4},
	    {{.fs_bytes = 10, .cache_size = 1}, -ERANGE, 0, 0, 0},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		struct dvol_fscache_limits l;
		const char *why = NULL;
		int r = dvol_fscache_limits(&t[i].in, &l, &why);

		print_message("case %zu: %u/%u/%u\n", i, l.run, l.cull, l.stop);
		assert_int_equal(r, t[i].r);
		if (r < 0) {
			assert_non_null(why);
			continue;
		}
		assert_int_equal(l.run, t[i].run);
		assert_int_equal(l.cull, t[i].cull);
		assert_int_equal(l.stop, t[i].stop);
		assert_true(l.stop >= 1 && l.stop < l.cull && l.cull < l.run && l.run < 100);
	}
}

static void test_conf(void **state)
{
	const struct dvol_fscache_limits l = {.run = 10, .cull = 7, .stop = 4};
	_cleanup_free_ char *c = NULL;
	char *bad = (char *)"unset";

	assert_int_equal(dvol_fscache_conf("/mnt/scratch/fscache", &l, &c), 0);
	assert_non_null(strstr(c, "\ndir /mnt/scratch/fscache\n"));
	assert_non_null(strstr(c, "\nbrun 10%\nbcull 7%\nbstop 4%\n"));
	assert_non_null(strstr(c, "\nfrun 10%\nfcull 7%\nfstop 4%\n"));
	/* every line a comment or a command of cachefilesd.conf(5) */
	for (const char *p = c; *p; p = strchr(p, '\n') + 1)
		assert_true(*p == '#' || !strncmp(p, "dir ", 4) || !strncmp(p, "tag ", 4) ||
			    strchr("bf", *p));
	assert_int_equal(dvol_fscache_conf("relative", &l, &bad), -EINVAL);
	assert_int_equal(dvol_fscache_conf("/a\nbstop 99%", &l, &bad), -EINVAL);
	assert_int_equal(dvol_fscache_conf(NULL, &l, &bad), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_active),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_conf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
