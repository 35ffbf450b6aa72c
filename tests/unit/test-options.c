/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include <cmocka.h>

#include "options.h"
#include "parse.h"

static void test_own_options_stripped(void **state)
{
	struct dvol_opts o;
	char *bad = NULL;
	const char *why = NULL;

	assert_int_equal(
	    dvol_opts_parse("ro,create,mode=0750,uid=1000,gid=100,nofail,_netdev", &o, &bad, &why),
	    0);
	assert_true(o.create);
	assert_true(o.mode_set);
	assert_int_equal(o.mode, 0750);
	assert_int_equal(o.uid, 1000);
	assert_int_equal(o.gid, 100);
	assert_true(o.mflags & MS_RDONLY);
	assert_string_equal(o.vfs, "ro");
	assert_null(o.fs);
	assert_non_null(o.user);
	assert_non_null(strstr(o.user, "_netdev"));
	assert_non_null(strstr(o.user, "nofail"));
	assert_int_equal(o.device_timeout_ms, DVOL_DEVICE_TIMEOUT_MS_DEFAULT);
	assert_int_equal(o.probe_timeout_ms, DVOL_PROBE_TIMEOUT_MS_DEFAULT);
	dvol_opts_done(&o);
}

static void test_fs_options_pass_through(void **state)
{
	struct dvol_opts o;

	assert_int_equal(
	    dvol_opts_parse("vers=4.1,nosuid,rsize=1048576,probe-timeout=500ms,retry=2m", &o, NULL,
			    NULL),
	    0);
	assert_string_equal(o.fs, "vers=4.1,rsize=1048576");
	assert_string_equal(o.vfs, "nosuid");
	assert_true(o.mflags & MS_NOSUID);
	assert_int_equal(o.probe_timeout_ms, 500);
	assert_int_equal(o.retry_ms, 120000);
	assert_false(o.create);
	dvol_opts_done(&o);

	assert_int_equal(dvol_opts_parse(NULL, &o, NULL, NULL), 0);
	assert_null(o.fs);
	assert_null(o.vfs);
	dvol_opts_done(&o);

	assert_int_equal(dvol_opts_parse("", &o, NULL, NULL), 0);
	dvol_opts_done(&o);
}

static void test_last_wins(void **state)
{
	struct dvol_opts o;

	assert_int_equal(dvol_opts_parse("mode=0700,mode=0755,mkfs=ext4,mkfs=xfs", &o, NULL, NULL),
			 0);
	assert_int_equal(o.mode, 0755);
	assert_string_equal(o.mkfs, "xfs");
	dvol_opts_done(&o);
}

static void expect_bad(const char *optstr, const char *want_bad, const char *why_part)
{
	struct dvol_opts o;
	char *bad = NULL;
	const char *why = NULL;

	if (dvol_opts_parse(optstr, &o, &bad, &why) != -EINVAL)
		fail_msg("'%s' accepted", optstr);
	if (want_bad)
		assert_string_equal(bad, want_bad);
	if (why_part && (!why || !strstr(why, why_part)))
		fail_msg("'%s': reason '%s' lacks '%s'", optstr, why ? why : "(null)", why_part);
	free(bad);
}

static void test_bad_values(void **state)
{
	expect_bad("mode=0999", "mode=0999", "octal");
	expect_bad("mode=rwx", "mode=rwx", "octal");
	expect_bad("mode=", "mode=", "value");
	expect_bad("mode=010000", "mode=010000", "octal");
	expect_bad("create=yes", "create=yes", "no value");
	expect_bad("uid=no-such-user-dvol", "uid=no-such-user-dvol", "user");
	expect_bad("gid=4294967295", "gid=4294967295", "group");
	expect_bad("mkfs=btrfs", "mkfs=btrfs", "xfs or ext4");
	expect_bad("device-timeout=soon", "device-timeout=soon", "duration");
	expect_bad("probe-timeout=-1", "probe-timeout=-1", "duration");
	/* libmount would drop all after the quote, ro included */
	expect_bad("create,mode=\"0755", "create,mode=\"0755", "unbalanced");
	expect_bad("x-a=\"b,ro", "x-a=\"b,ro", "unbalanced");
}

static void test_names(void **state)
{
	struct dvol_opts o;

	assert_int_equal(dvol_opts_parse("uid=root,gid=root", &o, NULL, NULL), 0);
	assert_int_equal(o.uid, 0);
	assert_int_equal(o.gid, 0);
	dvol_opts_done(&o);
}

static void test_first(void **state)
{
	char *s = dvol_optstr_first("size=1G,x");

	assert_string_equal(s, "size=1G");
	free(s);
	s = dvol_optstr_first("bogus");
	assert_string_equal(s, "bogus");
	free(s);
	assert_null(dvol_optstr_first(NULL));
	assert_null(dvol_optstr_first(""));
}

static void test_parsers(void **state)
{
	uint64_t v;
	mode_t m;

	assert_int_equal(dvol_parse_duration_ms("3", &v), 0);
	assert_int_equal(v, 3000);
	assert_int_equal(dvol_parse_duration_ms("1.5s", &v), 0);
	assert_int_equal(v, 1500);
	assert_int_equal(dvol_parse_duration_ms("30d", &v), 0);
	assert_int_equal(v, 30ULL * 86400000);
	assert_int_equal(dvol_parse_duration_ms("1h", &v), 0);
	assert_int_equal(v, 3600000);
	assert_int_equal(dvol_parse_duration_ms("5x", &v), -EINVAL);
	assert_int_equal(dvol_parse_duration_ms("", &v), -EINVAL);

	assert_int_equal(dvol_parse_size("200G", &v), 0);
	assert_int_equal(v, 200ULL << 30);
	assert_int_equal(dvol_parse_size("512", &v), 0);
	assert_int_equal(v, 512);
	assert_int_equal(dvol_parse_size("1.5KiB", &v), 0);
	assert_int_equal(v, 1536);
	assert_int_equal(dvol_parse_size("4T", &v), 0);
	assert_int_equal(v, 4ULL << 40);
	assert_int_equal(dvol_parse_size("10Q", &v), -EINVAL);
	assert_int_equal(dvol_parse_size("G", &v), -EINVAL);
	/* strtod() would take these: "0x10" as 16 bytes */
	assert_int_equal(dvol_parse_size("0x10", &v), -EINVAL);
	assert_int_equal(dvol_parse_size("1e3", &v), -EINVAL);
	assert_int_equal(dvol_parse_duration_ms("0x1p4d", &v), -EINVAL);

	assert_int_equal(dvol_parse_mode("1777", &m), 0);
	assert_int_equal(m, 01777);
	assert_int_equal(dvol_parse_mode("8", &m), -EINVAL);
}

static void test_mkfs_options(void **state)
{
	struct dvol_opts o;
	char *bad = NULL;
	const char *why = NULL;

	assert_int_equal(dvol_opts_parse("mkfs=xfs,noatime", &o, &bad, &why), 0);
	assert_string_equal(o.mkfs, "xfs");
	assert_false(o.mkfs_ignore_nonzero);
	dvol_opts_done(&o);
	/* The opt-out of the zero check is one exact, long name, and takes no value. */
	assert_int_equal(dvol_opts_parse("mkfs=ext4,mkfs-ignore-nonzero-data", &o, &bad, &why), 0);
	assert_true(o.mkfs_ignore_nonzero);
	assert_null(o.fs);
	dvol_opts_done(&o);
	assert_int_equal(dvol_opts_parse("mkfs-ignore-nonzero-data=1", &o, &bad, &why), -EINVAL);
	free(bad);
	bad = NULL;
	assert_int_equal(dvol_opts_parse("mkfs=btrfs", &o, &bad, &why), -EINVAL);
	free(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_own_options_stripped),
	    cmocka_unit_test(test_fs_options_pass_through),
	    cmocka_unit_test(test_last_wins),
	    cmocka_unit_test(test_bad_values),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_first),
	    cmocka_unit_test(test_parsers),
	    cmocka_unit_test(test_mkfs_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
