/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include <cmocka.h>

#include "cleanup.h"
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
	expect_bad("stripe=maybe", "stripe=maybe", "yes nor no");
	expect_bad("stripe", "stripe", "value");
	expect_bad("count=0", "count=0", "number of devices");
	expect_bad("count=65", "count=65", "number of devices");
	expect_bad("count=-1", "count=-1", "number of devices");
	expect_bad("count=2x", "count=2x", "number of devices");
	expect_bad("count=+2", "count=+2", "number of devices");
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
	bad = NULL;
	/* nvme:instance-store: striped unless stripe=no; count= as many as there are. */
	assert_int_equal(dvol_opts_parse("mkfs=xfs", &o, &bad, &why), 0);
	assert_false(o.stripe_no);
	assert_false(o.stripe_set);
	assert_int_equal(o.count, 0);
	dvol_opts_done(&o);
	assert_int_equal(dvol_opts_parse("stripe=no,count=4", &o, &bad, &why), 0);
	assert_true(o.stripe_no);
	assert_true(o.stripe_set);
	assert_int_equal(o.count, 4);
	assert_null(o.fs);
	dvol_opts_done(&o);
	assert_int_equal(dvol_opts_parse("stripe=no,stripe=yes,count=64", &o, &bad, &why), 0);
	assert_false(o.stripe_no);
	assert_int_equal(o.count, 64);
	dvol_opts_done(&o);
}

static void test_check(void **state)
{
	static const struct {
		const char *optstr;
		enum dvol_vol vol;
		bool sloppy;
		enum dvol_opts_why want;
		const char *name;
	} t[] = {
	    {"ro,nosuid,create,mode=0750", DVOL_VOL_BIND, false, DVOL_OPTS_OK, NULL},
	    {"size=1G", DVOL_VOL_BIND, false, DVOL_OPTS_UNKNOWN, NULL},
	    {"size=1G", DVOL_VOL_BIND, true, DVOL_OPTS_OK, NULL},
	    {"mkfs=xfs", DVOL_VOL_BIND, false, DVOL_OPTS_MKFS_FOLDER, "mkfs"},
	    {"mkfs=xfs", DVOL_VOL_BIND, true, DVOL_OPTS_MKFS_FOLDER, "mkfs"},
	    /* The unknown option is named first, as before the check was a function. */
	    {"size=1G,mkfs=xfs", DVOL_VOL_BIND, false, DVOL_OPTS_UNKNOWN, NULL},
	    {"mkfs=ext4,discard,ro", DVOL_VOL_LOCAL, false, DVOL_OPTS_OK, NULL},
	    {"mkfs=xfs,mkfs-ignore-nonzero-data", DVOL_VOL_LOCAL, false, DVOL_OPTS_OK, NULL},
	    {"create", DVOL_VOL_LOCAL, false, DVOL_OPTS_CREATE_DEVICE, "create"},
	    {"create", DVOL_VOL_LOCAL, true, DVOL_OPTS_CREATE_DEVICE, "create"},
	    {"mkfs-ignore-nonzero-data", DVOL_VOL_LOCAL, false, DVOL_OPTS_IGNORE_NO_MKFS,
	     "mkfs-ignore-nonzero-data"},
	    {"vers=4.1,nconnect=4,ro", DVOL_VOL_NFS, false, DVOL_OPTS_OK, NULL},
	    {"mkfs=xfs", DVOL_VOL_NFS, false, DVOL_OPTS_LOCAL_ON_NFS, "mkfs"},
	    {"create", DVOL_VOL_NFS, false, DVOL_OPTS_LOCAL_ON_NFS, "create"},
	    {"create,mkfs=xfs", DVOL_VOL_NFS, false, DVOL_OPTS_LOCAL_ON_NFS, "mkfs"},
	    {"optional", DVOL_VOL_NFS, false, DVOL_OPTS_OK, NULL},
	    {"optional,fallback-size=2G", DVOL_VOL_LOCAL, false, DVOL_OPTS_OK, NULL},
	    {"fallback-size=2G", DVOL_VOL_BIND, false, DVOL_OPTS_FALLBACK_ALONE, "fallback-size"},
	    {"fallback-size=2G", DVOL_VOL_NFS, true, DVOL_OPTS_FALLBACK_ALONE, "fallback-size"},
	    {"optional,fallback=disk", DVOL_VOL_BIND, false, DVOL_OPTS_OK, NULL},
	    {"optional,fallback=tmpfs,fallback-size=2G", DVOL_VOL_NFS, false, DVOL_OPTS_OK, NULL},
	    {"fallback=disk", DVOL_VOL_LOCAL, false, DVOL_OPTS_FALLBACK_ALONE, "fallback"},
	    {"fallback=tmpfs", DVOL_VOL_BIND, true, DVOL_OPTS_FALLBACK_ALONE, "fallback"},
	    {"optional,fallback=disk,fallback-size=1M", DVOL_VOL_BIND, false, DVOL_OPTS_DISK_CAPPED,
	     "fallback-size"},
	    /* The last fallback= wins: tmpfs takes the cap. */
	    {"optional,fallback=disk,fallback-size=1M,fallback=tmpfs", DVOL_VOL_LOCAL, false,
	     DVOL_OPTS_OK, NULL},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct dvol_opts o;
		const char *name = "unset";

		assert_int_equal(dvol_opts_parse(t[i].optstr, &o, NULL, NULL), 0);
		assert_int_equal(dvol_opts_check(&o, t[i].vol, t[i].sloppy, &name), t[i].want);
		if (t[i].name)
			assert_string_equal(name, t[i].name);
		else
			assert_null(name);
		dvol_opts_done(&o);
	}
}

/* The gate of a folder: source-mounted alone, with a folder (normalized, quoted when it
 * holds a comma), and source-fs='s list; what each refuses. */
static void test_gate_options(void **state)
{
	static const struct {
		const char *optstr;
		int r;
		bool mounted;
		const char *at, *fs, *bad;
	} t[] = {
	    {"source-mounted", 0, true, NULL, NULL, NULL},
	    {"source-mounted=/var//lib/dvol/", 0, true, "/var/lib/dvol", NULL, NULL},
	    {"source-mounted=\"/srv/a,b\"", 0, true, "/srv/a,b", NULL, NULL},
	    {"source-mounted=/a,source-mounted", 0, true, NULL, NULL, NULL},
	    {"source-mounted,source-mounted=/a", 0, true, "/a", NULL, NULL},
	    {"source-fs=nfs4|xfs", 0, false, NULL, "nfs4|xfs", NULL},
	    {"source-fs=fuse.sshfs", 0, false, NULL, "fuse.sshfs", NULL},
	    {"source-mounted=rel", -EINVAL, false, NULL, NULL, "source-mounted=rel"},
	    {"source-mounted=/a/../b", -EINVAL, false, NULL, NULL, "source-mounted=/a/../b"},
	    {"source-mounted=", -EINVAL, false, NULL, NULL, "source-mounted="},
	    {"source-fs=", -EINVAL, false, NULL, NULL, "source-fs="},
	    {"source-fs", -EINVAL, false, NULL, NULL, "source-fs"},
	    {"source-fs=xfs||nfs", -EINVAL, false, NULL, NULL, "source-fs=xfs||nfs"},
	    {"source-fs=XFS", -EINVAL, false, NULL, NULL, "source-fs=XFS"},
	    {"source-fs=xfs|", -EINVAL, false, NULL, NULL, "source-fs=xfs|"},
	    {"source-fs=a b", -EINVAL, false, NULL, NULL, "source-fs=a b"},
	    {"optional=yes", -EINVAL, false, NULL, NULL, "optional=yes"},
	    {"heal=1", -EINVAL, false, NULL, NULL, "heal=1"},
	    {"fallback-size=0", -EINVAL, false, NULL, NULL, "fallback-size=0"},
	    {"fallback-size=lots", -EINVAL, false, NULL, NULL, "fallback-size=lots"},
	    {"fallback=bogus", -EINVAL, false, NULL, NULL, "fallback=bogus"},
	    {"fallback=", -EINVAL, false, NULL, NULL, "fallback="},
	    {"fallback", -EINVAL, false, NULL, NULL, "fallback"},
	    {"fallback=Disk", -EINVAL, false, NULL, NULL, "fallback=Disk"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct dvol_opts o = {0};
		_cleanup_free_ char *bad = NULL;
		const char *why = NULL;

		assert_int_equal(dvol_opts_parse(t[i].optstr, &o, &bad, &why), t[i].r);
		if (t[i].r < 0) {
			assert_non_null(why);
			assert_string_equal(bad, t[i].bad);
			continue;
		}
		assert_int_equal(o.source_mounted, t[i].mounted);
		if (t[i].at)
			assert_string_equal(o.source_mounted_at, t[i].at);
		else
			assert_null(o.source_mounted_at);
		if (t[i].fs)
			assert_string_equal(o.source_fs, t[i].fs);
		else
			assert_null(o.source_fs);
		assert_null(o.fs);
		dvol_opts_done(&o);
	}
	{
		struct dvol_opts o = {0};

		assert_int_equal(dvol_opts_parse("optional", &o, NULL, NULL), 0);
		assert_true(o.optional);
		assert_int_equal(o.fallback_size, DVOL_FALLBACK_SIZE_DEFAULT);
		dvol_opts_done(&o);
		assert_int_equal(dvol_opts_parse("optional,fallback-size=512M", &o, NULL, NULL), 0);
		assert_int_equal(o.fallback_size, 512ULL << 20);
		assert_int_equal(o.fallback, DVOL_FALLBACK_TMPFS);
		assert_false(o.fallback_set);
		assert_null(o.fs);
		dvol_opts_done(&o);
		assert_int_equal(dvol_opts_parse("optional,fallback=disk,ro", &o, NULL, NULL), 0);
		assert_int_equal(o.fallback, DVOL_FALLBACK_DISK);
		assert_true(o.fallback_set);
		assert_string_equal(o.vfs, "ro");
		assert_null(o.fs);
		dvol_opts_done(&o);
		assert_int_equal(dvol_opts_parse("fallback=disk,fallback=tmpfs", &o, NULL, NULL),
				 0);
		assert_int_equal(o.fallback, DVOL_FALLBACK_TMPFS);
		dvol_opts_done(&o);
	}
	assert_string_equal(dvol_fallback_to_string(DVOL_FALLBACK_TMPFS), "tmpfs");
	assert_string_equal(dvol_fallback_to_string(DVOL_FALLBACK_DISK), "disk");
}

/* writer=exclusive and its options: parsed, stripped before the kernel sees them, and
 * refused where they would do nothing or could not keep their promise. */
static void test_writer_options(void **state)
{
	static const struct {
		const char *optstr;
		int r;
		bool exclusive;
		enum dvol_lease_on_conflict on_conflict;
		uint64_t wait_ms, lease_ms;
		const char *fs;
	} t[] = {
	    {"vers=4.2", 0, false, DVOL_LEASE_CONFLICT_RO, 60000, 90000, "vers=4.2"},
	    {"writer=exclusive,vers=4.2", 0, true, DVOL_LEASE_CONFLICT_RO, 60000, 90000,
	     "vers=4.2"},
	    {"writer=exclusive,on-conflict=fail", 0, true, DVOL_LEASE_CONFLICT_FAIL, 60000, 90000,
	     NULL},
	    {"writer=exclusive,on-conflict=wait,wait-timeout=2m,lease-time=10s", 0, true,
	     DVOL_LEASE_CONFLICT_WAIT, 120000, 10000, NULL},
	    {"writer=exclusive,on-conflict=wait,wait-timeout=0", 0, true, DVOL_LEASE_CONFLICT_WAIT,
	     0, 90000, NULL},
	    {"writer=exclusive,lease-time=2", 0, true, DVOL_LEASE_CONFLICT_RO, 60000, 2000, NULL},
	    {"writer=exclusive,lease-time=1h", 0, true, DVOL_LEASE_CONFLICT_RO, 60000, 3600000,
	     NULL},
	    /* the last wins: shared undoes an earlier exclusive */
	    {"writer=exclusive,writer=shared", 0, false, DVOL_LEASE_CONFLICT_RO, 60000, 90000,
	     NULL},
	    {"writer=exclusive,on-conflict=wait,on-conflict=ro", 0, true, DVOL_LEASE_CONFLICT_RO,
	     60000, 90000, NULL},
	    {"writer", -EINVAL, false, DVOL_LEASE_CONFLICT_RO, 0, 0, NULL},
	    {"writer=", -EINVAL, false, DVOL_LEASE_CONFLICT_RO, 0, 0, NULL},
	    {"writer=single", -EINVAL, false, DVOL_LEASE_CONFLICT_RO, 0, 0, NULL},
	    {"writer=Exclusive", -EINVAL, false, DVOL_LEASE_CONFLICT_RO, 0, 0, NULL},
	    {"on-conflict=rw", -EINVAL, false, DVOL_LEASE_CONFLICT_RO, 0, 0, NULL},
	    {"on-conflict", -EINVAL, false, DVOL_LEASE_CONFLICT_RO, 0, 0, NULL},
	    {"wait-timeout=soon", -EINVAL, false, DVOL_LEASE_CONFLICT_RO, 0, 0, NULL},
	    {"lease-time=1s", -EINVAL, false, DVOL_LEASE_CONFLICT_RO, 0, 0, NULL},
	    {"lease-time=1999ms", -EINVAL, false, DVOL_LEASE_CONFLICT_RO, 0, 0, NULL},
	    {"lease-time=2h", -EINVAL, false, DVOL_LEASE_CONFLICT_RO, 0, 0, NULL},
	    {"lease-time=0", -EINVAL, false, DVOL_LEASE_CONFLICT_RO, 0, 0, NULL},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		struct dvol_opts o = {0};
		_cleanup_free_ char *bad = NULL;
		const char *why = NULL;

		print_message("case %zu: %s\n", i, t[i].optstr);
		assert_int_equal(dvol_opts_parse(t[i].optstr, &o, &bad, &why), t[i].r);
		if (t[i].r < 0) {
			assert_non_null(why);
			assert_non_null(bad);
			continue;
		}
		assert_int_equal(o.writer_exclusive, t[i].exclusive);
		assert_int_equal(o.on_conflict, t[i].on_conflict);
		assert_int_equal(o.wait_timeout_ms, t[i].wait_ms);
		assert_int_equal(o.lease_time_ms, t[i].lease_ms);
		if (t[i].fs)
			assert_string_equal(o.fs, t[i].fs);
		else
			assert_null(o.fs);
		dvol_opts_done(&o);
	}
}

static void test_writer_check(void **state)
{
	static const struct {
		const char *optstr;
		enum dvol_vol vol;
		enum dvol_opts_why want;
		const char *name;
	} t[] = {
	    {"writer=exclusive", DVOL_VOL_NFS, DVOL_OPTS_OK, NULL},
	    {"writer=exclusive,on-conflict=wait,wait-timeout=5,lease-time=10", DVOL_VOL_NFS,
	     DVOL_OPTS_OK, NULL},
	    {"writer=shared", DVOL_VOL_NFS, DVOL_OPTS_OK, NULL},
	    {"writer=exclusive,local_lock=none,hard", DVOL_VOL_NFS, DVOL_OPTS_OK, NULL},
	    /* a folder: whether it lies on NFS is the plan's to find (mount-dvol/writer.c) */
	    {"writer=exclusive", DVOL_VOL_BIND, DVOL_OPTS_OK, NULL},
	    {"writer=exclusive,on-conflict=wait,wait-timeout=5", DVOL_VOL_BIND, DVOL_OPTS_OK, NULL},
	    {"on-conflict=fail", DVOL_VOL_BIND, DVOL_OPTS_WRITER_ALONE, "on-conflict"},
	    {"writer=exclusive", DVOL_VOL_LOCAL, DVOL_OPTS_WRITER_NOT_NFS, "writer"},
	    {"writer=shared", DVOL_VOL_LOCAL, DVOL_OPTS_WRITER_NOT_NFS, "writer"},
	    {"on-conflict=fail", DVOL_VOL_LOCAL, DVOL_OPTS_WRITER_NOT_NFS, "on-conflict"},
	    {"lease-time=10", DVOL_VOL_LOCAL, DVOL_OPTS_WRITER_NOT_NFS, "lease-time"},
	    {"on-conflict=fail", DVOL_VOL_NFS, DVOL_OPTS_WRITER_ALONE, "on-conflict"},
	    {"wait-timeout=5", DVOL_VOL_NFS, DVOL_OPTS_WRITER_ALONE, "wait-timeout"},
	    {"lease-time=10", DVOL_VOL_NFS, DVOL_OPTS_WRITER_ALONE, "lease-time"},
	    {"writer=shared,on-conflict=wait", DVOL_VOL_NFS, DVOL_OPTS_WRITER_ALONE, "on-conflict"},
	    {"writer=exclusive,wait-timeout=5", DVOL_VOL_NFS, DVOL_OPTS_WAIT_ALONE, "wait-timeout"},
	    {"writer=exclusive,on-conflict=fail,wait-timeout=5", DVOL_VOL_NFS, DVOL_OPTS_WAIT_ALONE,
	     "wait-timeout"},
	    {"writer=exclusive,ro", DVOL_VOL_NFS, DVOL_OPTS_WRITER_RO, "writer"},
	    {"writer=exclusive,nolock", DVOL_VOL_NFS, DVOL_OPTS_WRITER_NOLOCK, "nolock"},
	    {"vers=4.1,nolock,writer=exclusive", DVOL_VOL_NFS, DVOL_OPTS_WRITER_NOLOCK, "nolock"},
	    {"vers=3,writer=exclusive", DVOL_VOL_NFS, DVOL_OPTS_WRITER_V3, "vers"},
	    {"writer=exclusive,nfsvers=3", DVOL_VOL_NFS, DVOL_OPTS_WRITER_V3, "nfsvers"},
	    {"writer=exclusive,vers=4.2", DVOL_VOL_NFS, DVOL_OPTS_OK, NULL},
	    {"writer=exclusive,local_lock=all", DVOL_VOL_NFS, DVOL_OPTS_WRITER_NOLOCK,
	     "local_lock"},
	    {"writer=exclusive,local_lock=posix", DVOL_VOL_NFS, DVOL_OPTS_WRITER_NOLOCK,
	     "local_lock"},
	    {"writer=exclusive,local_lock=flock", DVOL_VOL_NFS, DVOL_OPTS_WRITER_NOLOCK,
	     "local_lock"},
	    /* without writer=exclusive, nolock is the user's own business */
	    {"nolock,local_lock=all", DVOL_VOL_NFS, DVOL_OPTS_OK, NULL},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		struct dvol_opts o;
		const char *name = "unset";

		print_message("case %zu: %s\n", i, t[i].optstr);
		assert_int_equal(dvol_opts_parse(t[i].optstr, &o, NULL, NULL), 0);
		assert_int_equal(dvol_opts_check(&o, t[i].vol, false, &name), t[i].want);
		if (t[i].name)
			assert_string_equal(name, t[i].name);
		else
			assert_null(name);
		dvol_opts_done(&o);
	}
}

static void test_cache(void **state)
{
	static const struct {
		const char *optstr;
		int parse; /* dvol_opts_parse()'s answer */
		enum dvol_opts_why want;
		const char *name;
		bool local;
		const char *dir;
		uint64_t size;
		bool pct;
	} t[] = {
	    {"cache=local", 0, DVOL_OPTS_OK, NULL, true, NULL, 0, false},
	    {"cache=none", 0, DVOL_OPTS_OK, NULL, false, NULL, 0, false},
	    {"cache=local,cache=none", 0, DVOL_OPTS_OK, NULL, false, NULL, 0, false},
	    {"cache=local,cache-dir=/mnt/scratch//fscache/", 0, DVOL_OPTS_OK, NULL, true,
	     "/mnt/scratch/fscache", 0, false},
	    {"cache=local,cache-size=200G", 0, DVOL_OPTS_OK, NULL, true, NULL, 200ULL << 30, false},
	    {"cache=local,cache-size=80%", 0, DVOL_OPTS_OK, NULL, true, NULL, 80, true},
	    {"cache=local,fsc", 0, DVOL_OPTS_OK, NULL, true, NULL, 0, false},
	    {"cache=local,nofsc", 0, DVOL_OPTS_CACHE_NOFSC, "nofsc", true, NULL, 0, false},
	    {"cache-dir=/mnt/c", 0, DVOL_OPTS_CACHE_ALONE, "cache-dir", false, "/mnt/c", 0, false},
	    {"cache=none,cache-size=1G", 0, DVOL_OPTS_CACHE_ALONE, "cache-size", false, NULL,
	     1ULL << 30, false},
	    {"cache=remote", -EINVAL, DVOL_OPTS_OK, NULL, false, NULL, 0, false},
	    {"cache", -EINVAL, DVOL_OPTS_OK, NULL, false, NULL, 0, false},
	    {"cache=local,cache-dir", -EINVAL, DVOL_OPTS_OK, NULL, false, NULL, 0, false},
	    {"cache=local,cache-dir=relative", -EINVAL, DVOL_OPTS_OK, NULL, false, NULL, 0, false},
	    {"cache=local,cache-dir=/a/../b", -EINVAL, DVOL_OPTS_OK, NULL, false, NULL, 0, false},
	    {"cache=local,cache-size=0", -EINVAL, DVOL_OPTS_OK, NULL, false, NULL, 0, false},
	    {"cache=local,cache-size=0%", -EINVAL, DVOL_OPTS_OK, NULL, false, NULL, 0, false},
	    {"cache=local,cache-size=96%", -EINVAL, DVOL_OPTS_OK, NULL, false, NULL, 0, false},
	    {"cache=local,cache-size=%", -EINVAL, DVOL_OPTS_OK, NULL, false, NULL, 0, false},
	    {"cache=local,cache-size=5x%", -EINVAL, DVOL_OPTS_OK, NULL, false, NULL, 0, false},
	    {"cache=local,cache-size=-1%", -EINVAL, DVOL_OPTS_OK, NULL, false, NULL, 0, false},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		struct dvol_opts o = {0};
		const char *name = "unset";

		print_message("case %zu: %s\n", i, t[i].optstr);
		assert_int_equal(dvol_opts_parse(t[i].optstr, &o, NULL, NULL), t[i].parse);
		if (t[i].parse < 0)
			continue;
		assert_int_equal(dvol_opts_check(&o, DVOL_VOL_NFS, false, &name), t[i].want);
		if (t[i].name)
			assert_string_equal(name, t[i].name);
		assert_int_equal(o.cache_local, t[i].local);
		if (t[i].dir)
			assert_string_equal(o.cache_dir, t[i].dir);
		else
			assert_null(o.cache_dir);
		assert_int_equal(o.cache_size, t[i].size);
		assert_int_equal(o.cache_size_pct, t[i].pct);
		/* the options are dvol's own: nothing of them goes to the kernel */
		assert_true(!o.fs || !strstr(o.fs, "cache"));
		dvol_opts_done(&o);
	}
	/* an NFS export's option only */
	static const enum dvol_vol others[] = {DVOL_VOL_BIND, DVOL_VOL_LOCAL};

	for (size_t i = 0; i < ELEMENTSOF(others); i++) {
		const char *name = NULL;

		assert_int_equal(dvol_optstr_check_kind("cache=local", others[i], &name),
				 DVOL_OPTS_FOREIGN);
		assert_string_equal(name, "cache");
	}
}

static void test_degraded_reason(void **state)
{
	static const struct {
		enum dvol_vol vol;
		int r;
		const char *word;
	} t[] = {
	    {DVOL_VOL_BIND, -EREMOTEIO, "not-mounted"},	 {DVOL_VOL_BIND, -ENOENT, "missing"},
	    {DVOL_VOL_NFS, -ETIMEDOUT, "unreachable"},	 {DVOL_VOL_NFS, -EPROTO, "unreachable"},
	    {DVOL_VOL_LOCAL, -EMEDIUMTYPE, "not-blank"}, {DVOL_VOL_LOCAL, -ETIMEDOUT, "missing"},
	    {DVOL_VOL_LOCAL, -ENODEV, "missing"},	 {DVOL_VOL_LOCAL, -EIO, "failed"},
	    {DVOL_VOL_BIND, -EMEDIUMTYPE, "failed"},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++)
		assert_string_equal(dvol_degraded_reason(t[i].vol, t[i].r), t[i].word);
}

static void test_check_kind(void **state)
{
	static const struct {
		const char *optstr;
		enum dvol_vol vol;
		enum dvol_opts_why why;
		const char *name;
	} t[] = {
	    {"mode=0755,uid=1", DVOL_VOL_BIND, DVOL_OPTS_OK, NULL},
	    {"mode=0755", DVOL_VOL_NFS, DVOL_OPTS_FOREIGN, "mode"},
	    {"ro,gid=5", DVOL_VOL_NFS, DVOL_OPTS_FOREIGN, "gid"},
	    {"retry=30", DVOL_VOL_BIND, DVOL_OPTS_FOREIGN, "retry"},
	    {"retry=30", DVOL_VOL_NFS, DVOL_OPTS_OK, NULL},
	    {"probe-timeout=2", DVOL_VOL_LOCAL, DVOL_OPTS_FOREIGN, "probe-timeout"},
	    {"device-timeout=5", DVOL_VOL_NFS, DVOL_OPTS_FOREIGN, "device-timeout"},
	    {"device-timeout=5", DVOL_VOL_LOCAL, DVOL_OPTS_OK, NULL},
	    {"mkfs-ignore-nonzero-data", DVOL_VOL_BIND, DVOL_OPTS_FOREIGN,
	     "mkfs-ignore-nonzero-data"},
	    {"probe-timeout=0", DVOL_VOL_NFS, DVOL_OPTS_PROBE_ZERO, "probe-timeout"},
	    {"probe-timeout=0.5", DVOL_VOL_NFS, DVOL_OPTS_OK, NULL},
	    {"", DVOL_VOL_NFS, DVOL_OPTS_OK, NULL},
	    {NULL, DVOL_VOL_LOCAL, DVOL_OPTS_OK, NULL},
	    {"source-mounted,source-fs=nfs", DVOL_VOL_BIND, DVOL_OPTS_OK, NULL},
	    {"source-mounted", DVOL_VOL_NFS, DVOL_OPTS_FOREIGN, "source-mounted"},
	    {"source-mounted=/srv", DVOL_VOL_LOCAL, DVOL_OPTS_FOREIGN, "source-mounted"},
	    {"source-fs=xfs", DVOL_VOL_LOCAL, DVOL_OPTS_FOREIGN, "source-fs"},
	    {"heal,vers=4.2", DVOL_VOL_NFS, DVOL_OPTS_OK, NULL},
	    {"heal", DVOL_VOL_BIND, DVOL_OPTS_FOREIGN, "heal"},
	    {"ro,heal", DVOL_VOL_LOCAL, DVOL_OPTS_FOREIGN, "heal"},
	    {"stripe=no,count=2", DVOL_VOL_LOCAL, DVOL_OPTS_OK, NULL},
	    {"stripe=no", DVOL_VOL_BIND, DVOL_OPTS_FOREIGN, "stripe"},
	    {"count=2", DVOL_VOL_NFS, DVOL_OPTS_FOREIGN, "count"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *name = "x";

		assert_int_equal(dvol_optstr_check_kind(t[i].optstr, t[i].vol, &name), t[i].why);
		if (t[i].name)
			assert_string_equal(name, t[i].name);
		else
			assert_null(name);
	}
}

static void test_check_setup(void **state)
{
	static const struct {
		const char *optstr;
		enum dvol_opts_why want;
		const char *name;
	} t[] = {
	    {NULL, DVOL_OPTS_OK, NULL},
	    {"", DVOL_OPTS_OK, NULL},
	    {"ro,nofail,mkfs=xfs", DVOL_OPTS_OK, NULL},
	    {"loop", DVOL_OPTS_LOOP, "loop"},
	    {"ro,offset=4096", DVOL_OPTS_LOOP, "offset"},
	    {"sizelimit=1M", DVOL_OPTS_LOOP, "sizelimit"},
	    {"encryption=aes", DVOL_OPTS_LOOP, "encryption"},
	    {"verity.hashdevice=/dev/x", DVOL_OPTS_VERITY, "verity.hashdevice"},
	    /* Names that only begin like them are not them. */
	    {"loops,offsets=1,verity.", DVOL_OPTS_OK, NULL},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *name = NULL;

		assert_int_equal(dvol_optstr_check_setup(t[i].optstr, &name), t[i].want);
		if (t[i].name)
			assert_string_equal(name, t[i].name);
		else
			assert_null(name);
		free(name);
	}
}

/* Every reason in words of its own, with what it names; the next reason must have them. */
static void test_explain(void **state)
{
	static const struct {
		enum dvol_opts_why why;
		const char *has[2];
	} t[] = {
	    {DVOL_OPTS_UNKNOWN, {"option 'nconnect=4' is not known", "(SRC)"}},
	    {DVOL_OPTS_MKFS_FOLDER, {"'mkfs=xfs'", "'SRC' is a folder"}},
	    {DVOL_OPTS_CREATE_DEVICE, {"'create'", "'SRC' is a block device"}},
	    {DVOL_OPTS_IGNORE_NO_MKFS, {"'mkfs-ignore-nonzero-data' needs mkfs="}},
	    {DVOL_OPTS_LOCAL_ON_NFS, {"option 'NAME' applies to local", "'SRC' is an NFS"}},
	    {DVOL_OPTS_LOOP, {"option 'NAME' asks for a loop device", "losetup"}},
	    {DVOL_OPTS_VERITY, {"option 'NAME' asks for a dm-verity", "veritysetup"}},
	    {DVOL_OPTS_FOREIGN, {"option 'NAME' does not apply to an NFS export ('SRC')"}},
	    {DVOL_OPTS_PROBE_ZERO, {"'probe-timeout=0'"}},
	    {DVOL_OPTS_FALLBACK_ALONE, {"option 'NAME='", "'optional' is not given"}},
	    {DVOL_OPTS_DISK_CAPPED, {"'fallback=disk'", "no size caps"}},
	    {DVOL_OPTS_WRITER_NOT_NFS,
	     {"option 'NAME=' applies to NFS exports and folders on NFS",
	      "'SRC' is a block device"}},
	    {DVOL_OPTS_WRITER_ALONE, {"option 'NAME='", "'writer=exclusive' is not given"}},
	    {DVOL_OPTS_WAIT_ALONE, {"'wait-timeout='", "'on-conflict=wait' is not given"}},
	    {DVOL_OPTS_WRITER_RO, {"'writer=exclusive' and 'ro'", "needs no writer's lease"}},
	    {DVOL_OPTS_WRITER_NOLOCK, {"option 'NAME' keeps locks on this host", "'SRC' too"}},
	    {DVOL_OPTS_WRITER_V3, {"option 'NAME' asks for NFSv3", "takeover of 'SRC'"}},
	    {DVOL_OPTS_CACHE_ALONE, {"option 'NAME='", "'cache=local' is not given"}},
	    {DVOL_OPTS_CACHE_NOFSC, {"'cache=local' and 'nofsc'", "'SRC' with fsc"}},
	};
	const struct dvol_opts_words w = {.name = "NAME",
					  .spec = "SRC",
					  .fs = "nconnect=4,hard",
					  .mkfs = "xfs",
					  .vol = DVOL_VOL_NFS};
	bool seen[_DVOL_OPTS_WHY_MAX] = {0};
	char *text = NULL;

	assert_int_equal(dvol_opts_explain(DVOL_OPTS_OK, &w, &text), 0);
	assert_null(text);
	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		print_message("case %zu: reason %d\n", i, t[i].why);
		assert_int_equal(dvol_opts_explain(t[i].why, &w, &text), -EINVAL);
		assert_non_null(text);
		for (size_t j = 0; j < ELEMENTSOF(t[i].has) && t[i].has[j]; j++)
			assert_non_null(strstr(text, t[i].has[j]));
		seen[t[i].why] = true;
		free(text);
	}
	/* A reason without a row above, or without words of its own, fails here. */
	for (int why = DVOL_OPTS_OK + 1; why < _DVOL_OPTS_WHY_MAX; why++) {
		print_message("reason %d\n", why);
		assert_true(seen[why]);
		assert_int_equal(dvol_opts_explain(why, &w, &text), -EINVAL);
		assert_null(strstr(text, "do not fit"));
		free(text);
	}
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
	    cmocka_unit_test(test_check),
	    cmocka_unit_test(test_gate_options),
	    cmocka_unit_test(test_writer_options),
	    cmocka_unit_test(test_writer_check),
	    cmocka_unit_test(test_cache),
	    cmocka_unit_test(test_degraded_reason),
	    cmocka_unit_test(test_check_kind),
	    cmocka_unit_test(test_check_setup),
	    cmocka_unit_test(test_explain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
