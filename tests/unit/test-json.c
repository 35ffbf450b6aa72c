/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "json.h"

static void test_unset_keys_omitted(void **state)
{
	_cleanup_json_ json_object *o = json_object_new_object();

	assert_int_equal(dvol_json_add_string(o, "name", NULL), 0);
	assert_int_equal(dvol_json_add_string(o, "root", "/srv/cache"), 0);
	assert_int_equal(dvol_json_add_u64(o, "bytes", UINT64_MAX), 0);
	assert_int_equal(dvol_json_add_bool(o, "ok", true), 0);
	assert_string_equal(
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
	    "{\"root\":\"\\/srv\\/cache\",\"bytes\":18446744073709551615,\"ok\":true}");
}

static void test_print_one_line_when_not_a_tty(void **state)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	_cleanup_json_ json_object *a = json_object_new_array();
	char buf[256] = {0};
	FILE *f = tmpfile();

	assert_non_null(f);
	assert_int_equal(dvol_json_append(a, json_object_new_string("/x/y")), 0);
	assert_int_equal(dvol_json_add(o, "roots", json_object_get(a)), 0);
	assert_int_equal(dvol_json_print(o, f), 0);
	rewind(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	/* One line, and slashes are not escaped. */
	assert_string_equal(buf, "{\"roots\":[\"/x/y\"]}\n");
	assert_null(fgets(buf, sizeof(buf), f));
	fclose(f);
}

/* On a terminal: dvol_json_print() is pretty, dvol_json_print_line() one object a line. */
static void test_print_line_on_a_tty(void **state)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	char buf[256] = {0};
	int m = posix_openpt(O_RDWR | O_NOCTTY), s;
	struct termios t;
	ssize_t k;
	FILE *f;

	assert_true(m >= 0);
	assert_int_equal(grantpt(m), 0);
	assert_int_equal(unlockpt(m), 0);
	s = open(ptsname(m), O_RDWR | O_NOCTTY);
	assert_true(s >= 0);
	/* Raw output: the line discipline would turn "\n" into "\r\n". */
	assert_int_equal(tcgetattr(s, &t), 0);
	cfmakeraw(&t);
	assert_int_equal(tcsetattr(s, TCSANOW, &t), 0);
	f = fdopen(s, "w");
	assert_non_null(f);
	assert_int_equal(dvol_json_add_string(o, "type", "file"), 0);
	assert_int_equal(dvol_json_add_u64(o, "bytes", 3), 0);
	assert_int_equal(dvol_json_print_line(o, f), 0);
	k = read(m, buf, sizeof(buf) - 1);
	assert_true(k > 0);
	buf[k] = '\0';
	assert_string_equal(buf, "{\"type\":\"file\",\"bytes\":3}\n");
	assert_int_equal(dvol_json_print(o, f), 0);
	k = read(m, buf, sizeof(buf) - 1);
	assert_true(k > 0);
	buf[k] = '\0';
	assert_non_null(strchr(buf, '\n'));
	assert_true(strchr(buf, '\n') < buf + k - 1);
	fclose(f);
	close(m);
}

static void test_add_null_child_is_enomem(void **state)
{
	_cleanup_json_ json_object *o = json_object_new_object();

	assert_int_equal(dvol_json_add(o, "x", NULL), -ENOMEM);
	assert_int_equal(dvol_json_append(o, NULL), -ENOMEM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unset_keys_omitted),
	    cmocka_unit_test(test_print_one_line_when_not_a_tty),
	    cmocka_unit_test(test_print_line_on_a_tty),
	    cmocka_unit_test(test_add_null_child_is_enomem),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
