/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The NFS kernel mount, decided before it is made: the user's options read into what the
 * probe depends on (tables of accepted, normalised and refused option strings), and the
 * mounts to try from what the probe proved.
 */
#include <errno.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cleanup.h"
#include "nfsmount.h"
#include "nfsprobe.h"
#include "timeutil.h"

static void test_parse_ok(void **state)
{
	static const struct {
		const char *fs, *url_vers;
		uint16_t url_port;
		unsigned vers;
		uint16_t port, mountport;
		const char *addr, *clientaddr, *proto;
		uint64_t mount_timeout_ms;
		const char *rest;
	} cases[] = {
	    {NULL, NULL, 0, 0, 0, 0, NULL, NULL, NULL, 0, NULL},
	    {"nconnect=4,hard", NULL, 0, 0, 0, 0, NULL, NULL, NULL, 0, "nconnect=4,hard"},
	    /* the URL's version, and -o may say it again, the same */
	    {NULL, "4.1", 0, DVOL_NFS_V4_1, 0, 0, NULL, NULL, NULL, 0, NULL},
	    {"vers=4.1", "4.1", 0, DVOL_NFS_V4_1, 0, 0, NULL, NULL, NULL, 0, NULL},
	    {"v3,nconnect=2", "3", 0, DVOL_NFS_V3, 0, 0, NULL, NULL, NULL, 0, "nconnect=2"},
	    {"minorversion=1", "4", 0, DVOL_NFS_V4_1, 0, 0, NULL, NULL, NULL, 0, NULL},
	    /* legacy spellings are normalised, never passed beside dvol's own vers= */
	    {"nfsvers=4.2", NULL, 0, DVOL_NFS_V4_2, 0, 0, NULL, NULL, NULL, 0, NULL},
	    {"v4.1,nconnect=2", NULL, 0, DVOL_NFS_V4_1, 0, 0, NULL, NULL, NULL, 0, "nconnect=2"},
	    {"v3", NULL, 0, DVOL_NFS_V3, 0, 0, NULL, NULL, NULL, 0, NULL},
	    {"vers=4,minorversion=1", NULL, 0, DVOL_NFS_V4_1, 0, 0, NULL, NULL, NULL, 0, NULL},
	    {"minorversion=2", NULL, 0, DVOL_NFS_V4_2, 0, 0, NULL, NULL, NULL, 0, NULL},
	    {"vers=4.1,nfsvers=4.1", NULL, 0, DVOL_NFS_V4_1, 0, 0, NULL, NULL, NULL, 0, NULL},
	    /* what the probe depends on is kept, to be probed and used as given */
	    {"port=20490", NULL, 0, 0, 20490, 0, NULL, NULL, NULL, 0, NULL},
	    {"port=20490", NULL, 20490, 0, 20490, 0, NULL, NULL, NULL, 0, NULL},
	    {NULL, NULL, 20490, 0, 20490, 0, NULL, NULL, NULL, 0, NULL},
	    {"vers=3,mountport=20048", NULL, 0, DVOL_NFS_V3, 0, 20048, NULL, NULL, NULL, 0, NULL},
	    {"addr=10.0.0.5,clientaddr=10.0.0.9", NULL, 0, 0, 0, 0, "10.0.0.5", "10.0.0.9", NULL, 0,
	     NULL},
	    {"addr=fd00::5", NULL, 0, 0, 0, 0, "fd00::5", NULL, NULL, 0, NULL},
	    {"proto=tcp6,tcp", NULL, 0, 0, 0, 0, NULL, NULL, "tcp6", 0, "tcp"},
	    {"mount-timeout=20,soft", NULL, 0, 0, 0, 0, NULL, NULL, NULL, 20000, "soft"},
	    {"mount-timeout=500ms", NULL, 0, 0, 0, 0, NULL, NULL, NULL, 500, NULL},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct dvol_nfs_mopts o;
		char *bad = NULL;
		const char *why = NULL;

		print_message("case %zu: %s\n", i, cases[i].fs ? cases[i].fs : "(null)");
		assert_int_equal(dvol_nfs_mopts_parse(cases[i].fs, cases[i].url_vers,
						      cases[i].url_port, &o, &bad, &why),
				 0);
		assert_null(bad);
		assert_int_equal(o.vers, cases[i].vers);
		assert_int_equal(o.port, cases[i].port);
		assert_int_equal(o.mountport, cases[i].mountport);
#define STR_EQ(a, b) ((a) ? assert_string_equal(a, b) : assert_null(b))
		STR_EQ(cases[i].addr, o.addr);
		STR_EQ(cases[i].clientaddr, o.clientaddr);
		STR_EQ(cases[i].proto, o.proto);
		STR_EQ(cases[i].rest, o.rest);
		assert_int_equal(o.mount_timeout_ms, cases[i].mount_timeout_ms);
		dvol_nfs_mopts_done(&o);
	}
}

static void test_parse_refused(void **state)
{
	static const struct {
		const char *fs, *url_vers;
		uint16_t url_port;
		const char *bad, *why_has;
	} cases[] = {
	    {"vers=5", NULL, 0, "vers=5", "NFS version"},
	    {"vers=2", NULL, 0, "vers=2", "v2"},
	    {"v2", NULL, 0, "v2", "v2"},
	    {"vers=4.1,nfsvers=3", NULL, 0, "nfsvers=3", "another NFS version"},
	    {"v4.1,vers=4.2", NULL, 0, "vers=4.2", "another NFS version"},
	    {"vers=4.1,minorversion=2", NULL, 0, "minorversion", "disagrees"},
	    {"minorversion=7", NULL, 0, "minorversion=7", "minor version"},
	    {"port=0", NULL, 0, "port=0", "not a port"},
	    {"port=99999", NULL, 0, "port=99999", "not a port"},
	    {"port=20490", NULL, 2049, "port=20490", "port in the source"},
	    {"mountport=x", NULL, 0, "mountport=x", "not a port"},
	    {"vers=4.1,mountport=20048", NULL, 0, "mountport", "v3 only"},
	    {"addr=nfs.example", NULL, 0, "addr=nfs.example", "address"},
	    {"clientaddr=", NULL, 0, "clientaddr=", "address"},
	    {"proto=udp", NULL, 0, "proto=udp", "TCP"},
	    {"proto=rdma", NULL, 0, "proto=rdma", "TCP"},
	    {"udp", NULL, 0, "udp", "TCP"},
	    {"rdma", NULL, 0, "rdma", "TCP"},
	    {"mountproto=tcp", NULL, 0, "mountproto=tcp", "TCP"},
	    {"mount-timeout=soon", NULL, 0, "mount-timeout=soon", "duration"},
	    {"mount-timeout=0", NULL, 0, "mount-timeout=0", "duration"},
	    {NULL, "9", 0, "vers=9", "NFS version"},
	    /* the source's ?vers= and -o disagree: usage, naming both */
	    {"vers=4", "3", 0, "vers=4", "source's ?vers=3"},
	    {"vers=3", "4.1", 0, "vers=3", "source's ?vers=4.1"},
	    {"nfsvers=4.2", "4.0", 0, "nfsvers=4.2", "source's ?vers=4.0"},
	    {"v3", "4", 0, "v3", "source's ?vers=4"},
	    {"minorversion=2", "4.1", 0, "minorversion", "source's ?vers=4.1"},
	    {"minorversion=1", "3", 0, "minorversion", "source's ?vers=3"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct dvol_nfs_mopts o;
		char *bad = NULL;
		const char *why = NULL;

		print_message("case %zu: %s\n", i, cases[i].fs ? cases[i].fs : "(null)");
		assert_int_equal(dvol_nfs_mopts_parse(cases[i].fs, cases[i].url_vers,
						      cases[i].url_port, &o, &bad, &why),
				 -EINVAL);
		assert_non_null(bad);
		assert_string_equal(bad, cases[i].bad);
		assert_non_null(why);
		assert_non_null(strstr(why, cases[i].why_has));
		free(bad);
	}
}

static void test_tries(void **state)
{
	static const unsigned all = DVOL_NFS_V3 | DVOL_NFS_V4 | DVOL_NFS_V4_MINORS;
	static const struct {
		const char *fs;
		unsigned offered;
		const char *want[DVOL_NFS_TRIES_MAX + 1];
	} cases[] = {
	    /* every proven version, highest first; 4.0 calls the client back */
	    {NULL,
	     all,
	     {"nfs4 vers=4.2,addr=192.0.2.1", "nfs4 vers=4.1,addr=192.0.2.1",
	      "nfs4 vers=4.0,addr=192.0.2.1,clientaddr=192.0.2.9",
	      "nfs vers=3,addr=192.0.2.1,mountport=20048"}},
	    /* NULL v4 alone proves no minor version: v3 only, never a guess at "4" */
	    {NULL, DVOL_NFS_V3 | DVOL_NFS_V4, {"nfs vers=3,addr=192.0.2.1,mountport=20048"}},
	    {NULL, DVOL_NFS_V4, {NULL}},
	    {"vers=4", DVOL_NFS_V3 | DVOL_NFS_V4 | DVOL_NFS_V4_1, {"nfs4 vers=4.1,addr=192.0.2.1"}},
	    {"vers=4.2", all, {"nfs4 vers=4.2,addr=192.0.2.1"}},
	    {"vers=4.2", DVOL_NFS_V4_1, {NULL}},
	    /* the user's: used as given, in a fixed order, the rest after them */
	    {"nconnect=4,port=20490,hard",
	     DVOL_NFS_V4_2,
	     {"nfs4 vers=4.2,addr=192.0.2.1,port=20490,nconnect=4,hard"}},
	    {"addr=192.0.2.7,clientaddr=192.0.2.8,proto=tcp",
	     DVOL_NFS_V4_0,
	     {"nfs4 vers=4.0,addr=192.0.2.7,clientaddr=192.0.2.8,proto=tcp"}},
	    {"vers=3,mountport=635", all, {"nfs vers=3,addr=192.0.2.1,mountport=635"}},
	    {"nfsvers=4.1,mount-timeout=9", all, {"nfs4 vers=4.1,addr=192.0.2.1"}},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct dvol_nfs_mopts o;
		struct dvol_nfs_try t[DVOL_NFS_TRIES_MAX];
		char *bad = NULL;
		const char *why = NULL;
		size_t want_n = 0;
		int n;

		print_message("case %zu: %s\n", i, cases[i].fs ? cases[i].fs : "(null)");
		assert_int_equal(dvol_nfs_mopts_parse(cases[i].fs, NULL, 0, &o, &bad, &why), 0);
		n = dvol_nfs_tries(&o, cases[i].offered, "192.0.2.1", "192.0.2.9", 20048, t);
		while (want_n < DVOL_NFS_TRIES_MAX && cases[i].want[want_n])
			want_n++;
		assert_int_equal(n, (int)want_n);
		for (int j = 0; j < n; j++) {
			char line[512];

			snprintf(line, sizeof(line), "%s %s", t[j].fstype, t[j].data);
			assert_string_equal(line, cases[i].want[j]);
		}
		dvol_nfs_tries_done(t, (size_t)n);
		dvol_nfs_mopts_done(&o);
	}
}

static void test_mount_is(void **state)
{
	static const struct {
		const char *fstype, *source, *asked;
		bool want;
	} t[] = {
	    {"nfs4", "srv:/export", "srv:/export", true},
	    {"nfs", "srv:/export", "srv:/export", true},
	    {"nfs4", "[fd00::1]:/e", "[fd00::1]:/e", true},
	    {"nfs4", "srv:/export/sub", "srv:/export", false},
	    {"nfs4", "other:/export", "srv:/export", false},
	    {"nfsd", "srv:/export", "srv:/export", false},
	    {"ext4", "srv:/export", "srv:/export", false},
	    {NULL, "srv:/export", "srv:/export", false},
	    {"nfs4", NULL, "srv:/export", false},
	    {"nfs4", "srv:/export", NULL, false},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct dvol_mount_info mi = {.fstype = (char *)t[i].fstype,
					     .source = (char *)t[i].source};

		assert_int_equal(dvol_nfs_mount_is(&mi, t[i].asked), t[i].want);
	}
}

static void test_mount_within(void **state)
{
	uint64_t now = dvol_now_ms();

	/* A deadline already passed: not even a child. */
	assert_int_equal(dvol_nfs_mount_within("srv:/e", "/", "nfs4", 0, "", now), -ETIMEDOUT);
	/* The child's mount(2) fails at once, and its errno comes back (ENODEV as root,
	 * EPERM otherwise): an answer, not a timeout. */
	signal(SIGCHLD, SIG_IGN);
	int r = dvol_nfs_mount_within("none", "/nonexistent-dvol-target", "dvol-no-such-fs", 0,
				      NULL, now + 10000);
	assert_true(r == -ENODEV || r == -EPERM || r == -ENOENT);
}

static void test_try_next(void **state)
{
	static const struct {
		int r;
		enum dvol_nfs_next want;
	} t[] = {
	    {0, DVOL_NFS_NEXT_MOUNTED},
	    {-ETIMEDOUT, DVOL_NFS_NEXT_TIMEOUT},
	    /* the server answered the probe: the path to it may come back */
	    {-ECONNREFUSED, DVOL_NFS_NEXT_NETWORK},
	    {-EHOSTUNREACH, DVOL_NFS_NEXT_NETWORK},
	    {-ENETUNREACH, DVOL_NFS_NEXT_NETWORK},
	    {-ECONNRESET, DVOL_NFS_NEXT_NETWORK},
	    {-EAGAIN, DVOL_NFS_NEXT_NETWORK},
	    /* this kernel, not the server: another version may do */
	    {-EPROTONOSUPPORT, DVOL_NFS_NEXT_VERSION},
	    {-ENODEV, DVOL_NFS_NEXT_VERSION},
	    /* the server said no, or the mount point is wrong: no version helps */
	    {-EACCES, DVOL_NFS_NEXT_STOP},
	    {-EPERM, DVOL_NFS_NEXT_STOP},
	    {-ENOENT, DVOL_NFS_NEXT_STOP},
	    {-EINVAL, DVOL_NFS_NEXT_STOP},
	    {-EIO, DVOL_NFS_NEXT_STOP},
	    {-ENOMEM, DVOL_NFS_NEXT_STOP},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		print_message("case %zu: %d\n", i, t[i].r);
		assert_int_equal(dvol_nfs_try_next(t[i].r), t[i].want);
	}
}

static void count_failed(const struct dvol_nfs_attempt *a, void *userdata)
{
	unsigned *n = userdata;

	assert_int_equal(a->next, DVOL_NFS_NEXT_VERSION);
	(*n)++;
}

static void test_mount_run(void **state)
{
	struct dvol_nfs_try tries[] = {{DVOL_NFS_V4_2, "dvol-no-such-fs", (char *)"vers=4.2"},
				       {DVOL_NFS_V3, "dvol-no-such-fs-either", (char *)"vers=3"}};
	struct dvol_nfs_attempt last;
	unsigned failed = 0;
	int r;

	signal(SIGCHLD, SIG_IGN);
	assert_int_equal(dvol_nfs_mount_run(&(struct dvol_nfs_mount_job){.tries = tries}, &last),
			 -EINVAL);
	/* A filesystem type the kernel does not have, as on a kernel without an NFS
	 * client: each version in turn, then its errno. */
	r = dvol_nfs_mount_run(&(struct dvol_nfs_mount_job){.source = "srv:/e",
							    .target = "/",
							    .target_path = "/",
							    .tries = tries,
							    .n_tries = ELEMENTSOF(tries),
							    .timeout_ms = 10000,
							    .failed = count_failed,
							    .userdata = &failed},
			       &last);
	if (r == -EPERM)
		skip();
	assert_int_equal(r, -ENODEV);
	assert_int_equal(failed, 2);
	assert_ptr_equal(last.try, &tries[1]);
	assert_false(last.landed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mount_within), cmocka_unit_test(test_mount_is),
	    cmocka_unit_test(test_parse_ok),	 cmocka_unit_test(test_parse_refused),
	    cmocka_unit_test(test_tries),	 cmocka_unit_test(test_try_next),
	    cmocka_unit_test(test_mount_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
