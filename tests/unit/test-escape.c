/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cleanup.h"
#include "escape.h"

/* What `LC_ALL=C ls -b` prints for these names, spaces aside (ls writes "\ "). */
static void test_table(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"", ""},
	    {"plain.bin", "plain.bin"},
	    {"with space", "with space"},
	    {"x\ny", "x\\ny"},
	    {"a\nwould remove /etc/passwd", "a\\nwould remove /etc/passwd"},
	    {"q\\r", "q\\\\r"},
	    {"c\tz", "c\\tz"},
	    {"\a\b\v\f\r", "\\a\\b\\v\\f\\r"},
	    {"k\001\177", "k\\001\\177"},
	    {"\033[2J", "\\033[2J"},
	    {"\xc3\xa9", "\\303\\251"},
	    {"\xff", "\\377"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *d = dvol_escape_name_dup(cases[i].in);
		char buf[64];

		assert_non_null(d);
		assert_string_equal(d, cases[i].want);
		assert_int_equal(dvol_escape_name(cases[i].in, buf, sizeof(buf)),
				 strlen(cases[i].want));
		assert_string_equal(buf, cases[i].want);
	}
}

/* A buffer too small is cut, NUL-terminated, and the length needed returned. */
static void test_truncate(void **state)
{
	char buf[4];

	assert_int_equal(dvol_escape_name("a\nbc", buf, sizeof(buf)), 5);
	assert_string_equal(buf, "a\\n");
	assert_int_equal(dvol_escape_name("\n", buf, 2), 2);
	assert_string_equal(buf, "\\");
	assert_int_equal(dvol_escape_name("abc", NULL, 0), 3);
}

static void test_shown(void **state)
{
	char big[5001];
	char *s;

	s = dvol_escape_shown("a\nb", 16);
	assert_string_equal(s, "a\\nb");
	free(s);
	memset(big, 'x', 5000);
	big[5000] = 0;
	s = dvol_escape_shown(big, 8);
	assert_string_equal(s, "xxxxxxxx... (5000 bytes)");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_truncate),
	    cmocka_unit_test(test_shown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
