/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <errno.h>
#include <string.h>

#include <cmocka.h>

#include "cleanup.h"
#include "stale.h"
#include "tmpdir.h"

/* utab's attributes, as heal reads them back: a flag, a value, a quoted value with commas. */
static void test_attr_get(void **state)
{
#define ATTRS "dvol.kind=nfs,dvol.heal,dvol.opts=\"heal,vers=4.2,ro\""
	static const struct {
		const char *attrs, *name;
		int want;
		const char *value;
	} t[] = {
	    {ATTRS, "dvol.kind", 1, "nfs"},
	    {ATTRS, "dvol.heal", 1, ""},
	    {ATTRS, "dvol.opts", 1, "heal,vers=4.2,ro"},
	    {ATTRS, "dvol.degraded", 0, NULL},
	    /* Not a prefix match. */
	    {ATTRS, "dvol.hea", 0, NULL},
	    {"dvol.kind=bind", "dvol.heal", 0, NULL},
	    {NULL, "dvol.kind", 0, NULL},
	    {"dvol.opts=\"\"", "dvol.opts", 1, ""},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		_cleanup_free_ char *v = NULL;

		print_message("%s in %s\n", t[i].name, t[i].attrs ? t[i].attrs : "(null)");
		assert_int_equal(dvol_attr_get(t[i].attrs, t[i].name, &v), t[i].want);
		if (t[i].value)
			assert_string_equal(v, t[i].value);
		else
			assert_null(v);
	}
#undef ATTRS
}

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

/* The look in a child: a folder that answers, one that is not there, and proc (which
 * answers too). A stale NFS mount is the VM tier's (this kernel has no NFS). */
static void test_check_live(void **state)
{
	char missing[128];

	snprintf(missing, sizeof(missing), "%s/not-there", dir);
	assert_int_equal(dvol_mount_check_live(dir, 5000), 0);
	assert_int_equal(dvol_mount_check_live("/proc", 5000), 0);
	assert_int_equal(dvol_mount_check_live(missing, 5000), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_attr_get),
	    cmocka_unit_test(test_heal_pause),
	    cmocka_unit_test(test_check_live),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
