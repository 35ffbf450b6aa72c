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

#include "gcconf.h"

static void test_good_file(void **state)
{
	struct dvol_gc_conf c = {0};
	struct dvol_gc_conf_error e = {0};
	char *p = write_file("good.conf", "# cache roots\n"
					  "\n"
					  "/var/cache/models  models  max-size=200G,max-age=30d\n"
					  "  # the next one has a space in its name\n"
					  "/srv/hf\\040cache  -  min-free=12.5%,grace=10m\n"
					  "/srv/pip pip min-free=50G\n");

	assert_int_equal(dvol_gc_conf_load_file(&c, p, &e), 0);
	assert_int_equal(c.n_roots, 3);
	assert_string_equal(c.roots[0].path, "/var/cache/models");
	assert_string_equal(c.roots[0].name, "models");
	assert_int_equal(c.roots[0].line, 3);
	assert_true(c.roots[0].budget.has_max_size);
	assert_int_equal(c.roots[0].budget.max_size, 200ULL << 30);
	assert_int_equal(c.roots[0].budget.max_age_s, 30 * 86400);
	assert_int_equal(c.roots[0].budget.grace_s, DVOL_GC_GRACE_S_DEFAULT);
	assert_false(c.roots[0].budget.has_min_free);

	assert_string_equal(c.roots[1].path, "/srv/hf cache");
	assert_null(c.roots[1].name);
	assert_int_equal(c.roots[1].line, 5);
	assert_true(c.roots[1].budget.min_free_ppm);
	assert_int_equal(c.roots[1].budget.min_free, 125000);
	assert_int_equal(c.roots[1].budget.grace_s, 600);

	assert_int_equal(c.roots[2].line, 6);
	assert_false(c.roots[2].budget.min_free_ppm);
	assert_int_equal(c.roots[2].budget.min_free, 50ULL << 30);
	dvol_gc_conf_done(&c);
	free(p);
}

/* load P and expect -EINVAL at LINE with KEY (NULL: a line error). */
static void expect_error(const char *text, unsigned line, const char *key, const char *why_part)
{
	struct dvol_gc_conf c = {0};
	struct dvol_gc_conf_error e = {0};
	char *p = write_file("bad.conf", text);

	assert_int_equal(dvol_gc_conf_load_file(&c, p, &e), -EINVAL);
	assert_string_equal(e.file, p);
	assert_int_equal(e.line, line);
	if (key)
		assert_string_equal(e.key, key);
	else
		assert_null(e.key);
	assert_non_null(e.why);
	assert_non_null(strstr(e.why, why_part));
	dvol_gc_conf_error_done(&e);
	dvol_gc_conf_done(&c);
	free(p);
}

static void test_errors(void **state)
{
	expect_error("# x\n/a a max-size=200G\n\n/b b max-size=lots\n", 4, "max-size", "size");
	expect_error("/a a max-age=30d,colour=blue\n", 1, "colour", "not a dvol-gc option");
	expect_error("\n\n/a a grace=soon\n", 3, "grace", "duration");
	expect_error("/a a min-free=150%\n", 1, "min-free", "percentage");
	expect_error("/a a max-size\n", 1, "max-size", "needs a value");
	expect_error("/a a grace=1h\n", 1, NULL, "no budget");
	expect_error("# c\n/a max-size=1G\n", 2, NULL, "three fields");
	expect_error("relative a max-size=1G\n", 1, NULL, "absolute");
	expect_error("/a a max-size=1G\n/a b max-size=2G\n", 2, NULL, "twice");
	expect_error("/a a max-size=1G 0 0\n", 1, NULL, "more than three");
}

static void test_dir(void **state)
{
	struct dvol_gc_conf c = {0};
	struct dvol_gc_conf_error e = {0};
	char *d, *p;

	free(write_file("gc.conf", "/one 1 max-age=1d\n"));
	assert_true(asprintf(&d, "%s/gc.d", dir) > 0);
	assert_int_equal(mkdir(d, 0755), 0);
	free(write_file("gc.d/20-b.conf", "/three 3 max-age=3d\n"));
	free(write_file("gc.d/10-a.conf", "/two 2 max-age=2d\n"));
	free(write_file("gc.d/ignored.txt", "not a config\n"));
	assert_int_equal(dvol_gc_conf_load_dir(&c, dir, &e), 0);
	assert_int_equal(c.n_roots, 3);
	assert_string_equal(c.roots[0].path, "/one");
	assert_string_equal(c.roots[1].path, "/two");
	assert_string_equal(c.roots[2].path, "/three");
	assert_non_null(strstr(c.roots[2].file, "20-b.conf"));
	dvol_gc_conf_done(&c);

	/* A root configured in two files is an error in the second. */
	p = write_file("gc.d/30-dup.conf", "/two again max-age=9d\n");
	assert_int_equal(dvol_gc_conf_load_dir(&c, dir, &e), -EINVAL);
	assert_string_equal(e.file, p);
	assert_int_equal(e.line, 1);
	dvol_gc_conf_error_done(&e);
	dvol_gc_conf_done(&c);
	free(p);
	free(d);
}

static void test_budget_set(void **state)
{
	struct dvol_gc_budget b;
	const char *why = NULL;

	dvol_gc_budget_init(&b);
	assert_false(dvol_gc_budget_any(&b));
	assert_int_equal(dvol_gc_budget_set(&b, "grace", "0", &why), 0);
	assert_int_equal(b.grace_s, 0);
	assert_false(dvol_gc_budget_any(&b));
	assert_int_equal(dvol_gc_budget_set(&b, "min-free", "0.5%", &why), 0);
	assert_int_equal(b.min_free, 5000);
	assert_true(dvol_gc_budget_any(&b));
	assert_int_equal(dvol_gc_budget_set(&b, "max-size", "-1", &why), -EINVAL);
	assert_int_equal(dvol_gc_budget_set(&b, "nope", "1", &why), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_file),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_dir),
	    cmocka_unit_test(test_budget_set),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
