/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "stale.h"
#include "tmpdir.h"

static void assert_str_or_null(const char *got, const char *want)
{
	if (want)
		assert_string_equal(got, want);
	else
		assert_null(got);
}

/* dvol's attributes of a utab entry: what status reports of it. */
static void test_attrs(void **state)
{
	static const struct {
		const char *attrs;
		int r;
		const char *kind, *degraded, *fallback, *writer;
	} t[] = {
	    {"dvol.kind=bind", 0, "bind", NULL, NULL, NULL},
	    /* writer=exclusive: this host holds the lease, or another did at mount time. */
	    {"dvol.kind=bind,dvol.writer=held", 0, "bind", NULL, NULL, "held"},
	    {"dvol.kind=nfs,dvol.writer=ro", 0, "nfs", NULL, NULL, "ro"},
	    {"dvol.kind=bind,dvol.degraded=missing,dvol.fallback=disk,dvol.writer=ro", 0, "bind",
	     "missing", "disk", "ro"},
	    {"dvol.writer=held", -ENOENT, NULL, NULL, NULL, NULL},
	    {"dvol.kind=nfs,dvol.degraded=unreachable,dvol.fallback=disk", 0, "nfs", "unreachable",
	     "disk", NULL},
	    {"dvol.kind=local,dvol.degraded=not-blank,dvol.fallback=tmpfs", 0, "local", "not-blank",
	     "tmpfs", NULL},
	    /* Recorded before dvol.fallback=: a tmpfs was the only fallback. */
	    {"dvol.kind=bind,dvol.degraded=missing", 0, "bind", "missing", "tmpfs", NULL},
	    /* A fallback without a reason is no fallback. */
	    {"dvol.kind=bind,dvol.fallback=disk", 0, "bind", NULL, NULL, NULL},
	    {"other.kind=bind", -ENOENT, NULL, NULL, NULL, NULL},
	    {"", -ENOENT, NULL, NULL, NULL, NULL},
	    {NULL, -ENOENT, NULL, NULL, NULL, NULL},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		struct dvol_utab_volume v = {0};

		print_message("case %zu: %s\n", i, t[i].attrs ? t[i].attrs : "(null)");
		assert_int_equal(dvol_utab_attrs(t[i].attrs, &v), t[i].r);
		if (t[i].r == 0) {
			assert_str_or_null(v.kind, t[i].kind);
			assert_str_or_null(v.degraded, t[i].degraded);
			assert_str_or_null(v.fallback, t[i].fallback);
			assert_str_or_null(v.writer, t[i].writer);
		}
		dvol_utab_volume_done(&v);
	}
}

/* Only dvol's entries, and only for targets mounted now ("/" always is), in utab's order;
 * sources unmangled. */
static void test_volumes(void **state)
{
	_cleanup_free_ char *utab = write_file(
	    "utab", "SRC=/a\\040b TARGET=/ ROOT=/ ATTRS=dvol.kind=bind,dvol.degraded=missing,"
		    "dvol.fallback=disk\n"
		    "SRC=/gone TARGET=/no/such/mount/point ROOT=/ ATTRS=dvol.kind=bind\n"
		    "SRC=/x TARGET=/ ROOT=/ ATTRS=foreign=1\n"
		    "SRC=host:/e TARGET=/ ROOT=/ ATTRS=dvol.kind=nfs,dvol.writer=held\n");
	struct dvol_utab_volume *v = NULL;
	size_t n = 99;

	assert_int_equal(setenv("LIBMOUNT_UTAB", utab, 1), 0);
	assert_int_equal(dvol_utab_volumes(&v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].source, "/a b");
	assert_string_equal(v[0].target, "/");
	assert_string_equal(v[0].degraded, "missing");
	assert_string_equal(v[0].fallback, "disk");
	assert_null(v[0].writer);
	assert_string_equal(v[1].source, "host:/e");
	assert_string_equal(v[1].kind, "nfs");
	assert_null(v[1].degraded);
	assert_null(v[1].fallback);
	assert_string_equal(v[1].writer, "held");
	dvol_utab_volumes_free(v, n);

	/* No utab at all: no volumes, not an error. */
	assert_int_equal(unlink(utab), 0);
	assert_int_equal(dvol_utab_volumes(&v, &n), 0);
	assert_int_equal(n, 0);
	assert_null(v);
	unsetenv("LIBMOUNT_UTAB");
}

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
	    cmocka_unit_test(test_attrs),
	    cmocka_unit_test(test_volumes),
	    cmocka_unit_test(test_attr_get),
	    cmocka_unit_test(test_check_live),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
