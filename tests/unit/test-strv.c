/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "strv.h"

static void test_trim(void **state)
{
	static const struct {
		const char *in, *want;
	} t[] = {
	    {"  DVOLSER1   \n", "DVOLSER1"}, {"   ", ""}, {"", ""}, {"a b", "a b"}, {"\tx\t", "x"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *s = dvol_strdup_trim(t[i].in);

		assert_non_null(s);
		assert_string_equal(s, t[i].want);
		free(s);
	}
}

static void test_join(void **state)
{
	char *one[] = {"mkfs.xfs", NULL}, *three[] = {"a", "b c", "d", NULL}, *none[] = {NULL};
	char *s;

	s = dvol_strv_join(one);
	assert_string_equal(s, "mkfs.xfs");
	free(s);
	s = dvol_strv_join(three);
	assert_string_equal(s, "a b c d");
	free(s);
	s = dvol_strv_join(none);
	assert_string_equal(s, "");
	free(s);
}

static void test_extendf(void **state)
{
	char *s = NULL;

	assert_int_equal(dvol_strextendf(&s, "; ", "vers=%s: %s", "4.2", "refused"), 0);
	assert_string_equal(s, "vers=4.2: refused");
	assert_int_equal(dvol_strextendf(&s, "; ", "vers=%s", "3"), 0);
	assert_string_equal(s, "vers=4.2: refused; vers=3");
	assert_int_equal(dvol_strextendf(&s, NULL, "!"), 0);
	assert_string_equal(s, "vers=4.2: refused; vers=3!");
	free(s);

	/* An empty start takes no separator. */
	s = strdup("");
	assert_int_equal(dvol_strextendf(&s, "\n", "  %s", "/dev/loop0"), 0);
	assert_string_equal(s, "  /dev/loop0");
	assert_int_equal(dvol_strextendf(&s, "\n", "  %s", "/dev/loop1"), 0);
	assert_string_equal(s, "  /dev/loop0\n  /dev/loop1");
	free(s);
}

static void test_strv_free(void **state)
{
	char **v = calloc(3, sizeof(char *));
	_cleanup_strv_free_ char **w = calloc(2, sizeof(char *));

	assert_non_null(v);
	assert_non_null(w);
	v[0] = strdup("a");
	v[1] = strdup("b");
	w[0] = strdup("c");
	dvol_strv_free(v);
	dvol_strv_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_trim),
	    cmocka_unit_test(test_join),
	    cmocka_unit_test(test_extendf),
	    cmocka_unit_test(test_strv_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
