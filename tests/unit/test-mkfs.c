/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mkfs.h"

static void expect_line(const struct dvol_mkfs *m, const char *want)
{
	char **argv = NULL;
	char *s;

	assert_int_equal(dvol_mkfs_argv(m, &argv), 0);
	s = dvol_strv_join(argv);
	assert_string_equal(s, want);
	free(s);
	dvol_strv_free(argv);
}

static void test_xfs(void **state)
{
	struct dvol_mkfs m = {.fstype = "xfs",
			      .device = "/dev/nvme1n1",
			      .label = "scratch",
			      .uuid = "0f6b0c1e-4a5d-4e2b-9c1a-2f3e4d5c6b7a"};

	expect_line(&m, "mkfs.xfs -q -K -m uuid=0f6b0c1e-4a5d-4e2b-9c1a-2f3e4d5c6b7a -L scratch "
			"/dev/nvme1n1");
	/* Never -f, unless redoing dvol's own interrupted format. */
	m.force = true;
	expect_line(&m, "mkfs.xfs -q -K -f -m uuid=0f6b0c1e-4a5d-4e2b-9c1a-2f3e4d5c6b7a -L "
			"scratch /dev/nvme1n1");
	m = (struct dvol_mkfs){.fstype = "xfs", .device = "/dev/loop0"};
	expect_line(&m, "mkfs.xfs -q -K /dev/loop0");
}

static void test_ext4(void **state)
{
	struct dvol_mkfs m = {.fstype = "ext4",
			      .device = "/dev/loop3",
			      .label = "data",
			      .uuid = "0f6b0c1e-4a5d-4e2b-9c1a-2f3e4d5c6b7a"};

	expect_line(&m, "mkfs.ext4 -q -E nodiscard,lazy_itable_init=1,lazy_journal_init=1 -U "
			"0f6b0c1e-4a5d-4e2b-9c1a-2f3e4d5c6b7a -L data /dev/loop3");
	m.force = true;
	m.uuid = NULL;
	m.label = NULL;
	expect_line(
	    &m, "mkfs.ext4 -q -E nodiscard,lazy_itable_init=1,lazy_journal_init=1 -F /dev/loop3");
}

static void test_bad(void **state)
{
	char **argv = NULL;
	struct dvol_mkfs m = {.fstype = "btrfs", .device = "/dev/loop3"};

	assert_int_equal(dvol_mkfs_argv(&m, &argv), -EINVAL);
	assert_null(argv);
	m.fstype = NULL;
	assert_int_equal(dvol_mkfs_argv(&m, &argv), -EINVAL);
	m.fstype = "xfs";
	m.device = NULL;
	assert_int_equal(dvol_mkfs_argv(&m, &argv), -EINVAL);
}

static void test_label(void **state)
{
	char l[13];

	dvol_mkfs_label_from_path("/mnt/scratch", l);
	assert_string_equal(l, "scratch");
	dvol_mkfs_label_from_path("/mnt/a very long name indeed", l);
	assert_string_equal(l, "averylongnam");
	assert_int_equal(strlen(l), 12);
	dvol_mkfs_label_from_path("/", l);
	assert_string_equal(l, "dvol");
	dvol_mkfs_label_from_path("/mnt/..::", l);
	assert_string_equal(l, "dvol");
	dvol_mkfs_label_from_path("/data/gpu-0_cache", l);
	assert_string_equal(l, "gpu-0_cache");
}

static void test_uuid(void **state)
{
	char a[37], b[37];

	assert_int_equal(dvol_mkfs_new_uuid(a), 0);
	assert_int_equal(dvol_mkfs_new_uuid(b), 0);
	assert_int_equal(strlen(a), 36);
	assert_true(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
	assert_int_equal(a[14], '4');
	assert_non_null(strchr("89ab", a[19]));
	assert_string_not_equal(a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_xfs),	  cmocka_unit_test(test_ext4), cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_label), cmocka_unit_test(test_uuid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
