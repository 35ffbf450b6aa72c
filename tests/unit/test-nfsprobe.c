/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The parts of nfsprobe that need no server: TARGET grammar, versions, the verdict of an
 * unresolvable name and of a refused port on loopback, and the JSON it makes. Probing real
 * servers is the host tier's job (tests/host/t-nfs-probe.sh, against nfs-ganesha).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"
#include "nfsprobe.h"

static void test_parse_forms(void **state)
{
	struct dvol_nfs_target t;
	const char *why = NULL;

	assert_int_equal(dvol_nfs_target_parse("srv", &t, &why), 0);
	assert_string_equal(t.host, "srv");
	assert_int_equal(t.port, 0);
	assert_null(t.export);
	dvol_nfs_target_done(&t);

	assert_int_equal(dvol_nfs_target_parse("10.0.0.5:20490", &t, &why), 0);
	assert_string_equal(t.host, "10.0.0.5");
	assert_int_equal(t.port, 20490);
	dvol_nfs_target_done(&t);

	assert_int_equal(dvol_nfs_target_parse("[fd00::1]:2050", &t, &why), 0);
	assert_string_equal(t.host, "fd00::1");
	assert_int_equal(t.port, 2050);
	dvol_nfs_target_done(&t);

	assert_int_equal(dvol_nfs_target_parse("nfs://srv:20490/export/sub?vers=4.1", &t, &why), 0);
	assert_string_equal(t.host, "srv");
	assert_string_equal(t.export, "/export/sub");
	assert_int_equal(t.port, 20490);
	assert_int_equal(t.want, DVOL_NFS_V4_1);
	assert_string_equal(t.name, "nfs://srv:20490/export/sub?vers=4.1");
	dvol_nfs_target_done(&t);

	assert_int_equal(dvol_nfs_target_parse("[::1]:/srv/nfs", &t, &why), 0);
	assert_string_equal(t.host, "::1");
	assert_string_equal(t.export, "/srv/nfs");
	dvol_nfs_target_done(&t);
}

static void test_parse_bad(void **state)
{
	struct dvol_nfs_target t;
	const char *why = NULL;

	assert_int_equal(dvol_nfs_target_parse("::1", &t, &why), -EINVAL);
	assert_non_null(why);
	assert_int_equal(dvol_nfs_target_parse("srv:99999", &t, &why), -EINVAL);
	assert_int_equal(dvol_nfs_target_parse("srv/export", &t, &why), -EINVAL);
	assert_int_equal(dvol_nfs_target_parse("nfs://srv/x?vers=5", &t, &why), -EINVAL);
	assert_int_equal(dvol_nfs_target_parse("bad host", &t, &why), -EINVAL);
}

static void test_versions(void **state)
{
	char buf[64];

	assert_int_equal(dvol_nfs_vers_from_string("4.2"), DVOL_NFS_V4_2);
	assert_int_equal(dvol_nfs_vers_from_string("3"), DVOL_NFS_V3);
	assert_int_equal(dvol_nfs_vers_from_string("5"), 0);
	assert_int_equal(dvol_nfs_vers_minor(0), DVOL_NFS_V4_0);
	assert_int_equal(dvol_nfs_vers_minor(1), DVOL_NFS_V4_1);
	assert_int_equal(dvol_nfs_vers_minor(2), DVOL_NFS_V4_2);
	assert_int_equal(dvol_nfs_vers_minor(3), 0);
	assert_int_equal(dvol_nfs_vers_highest(DVOL_NFS_V3 | DVOL_NFS_V4 | DVOL_NFS_V4_1),
			 DVOL_NFS_V4_1);
	assert_int_equal(dvol_nfs_vers_highest(DVOL_NFS_V3), DVOL_NFS_V3);
	assert_string_equal(
	    dvol_nfs_versions_format(DVOL_NFS_V3 | DVOL_NFS_V4 | DVOL_NFS_V4_0 | DVOL_NFS_V4_2, buf,
				     sizeof(buf)),
	    "4.2,4.0,3");
	assert_string_equal(dvol_nfs_versions_format(DVOL_NFS_V4, buf, sizeof(buf)), "4");
	assert_string_equal(dvol_nfs_versions_format(0, buf, sizeof(buf)), "none");
	assert_true(dvol_nfs_err_is_transient(DVOL_NFS_TIMEOUT));
	assert_false(dvol_nfs_err_is_transient(DVOL_NFS_EXPORT_MISSING));
	assert_string_equal(dvol_nfs_err_to_string(DVOL_NFS_RPC_MISMATCH), "rpc-mismatch");
}

/* Each target is told once, with its place, and only with its verdict in. */
static unsigned told[2];
static void on_finished(const struct dvol_nfs_target *t, size_t index, void *userdata)
{
	const struct dvol_nfs_target *all = userdata;

	assert_true(index < 2);
	assert_ptr_equal(t, &all[index]);
	assert_int_not_equal(t->err, DVOL_NFS_OK);
	told[index]++;
}

/* Real sockets on loopback: port 1 has no listener on any sane machine. */
static void test_probe_refused_and_unresolvable(void **state)
{
	struct dvol_nfs_target t[2];
	struct dvol_nfs_probe_params p = {
	    .timeout_ms = 2000, .rtt_count = 3, .finished = on_finished, .userdata = t};
	const char *why;
	json_object *o = NULL, *v;

	assert_int_equal(dvol_nfs_target_parse("127.0.0.1:1", &t[0], &why), 0);
	assert_int_equal(dvol_nfs_target_parse("no-such-host.invalid", &t[1], &why), 0);
	assert_int_equal(dvol_nfs_probe(t, 2, &p), 0);
	assert_int_equal(t[0].err, DVOL_NFS_REFUSED);
	assert_int_equal(t[0].err_errno, ECONNREFUSED);
	assert_false(t[0].tcp);
	assert_int_equal(t[1].err, DVOL_NFS_UNRESOLVABLE);
	assert_false(t[1].resolved);
	assert_int_equal(told[0], 1);
	assert_int_equal(told[1], 1);

	assert_int_equal(dvol_nfs_target_to_json(&t[0], true, &o), 0);
	assert_true(json_object_object_get_ex(o, "error", &v));
	assert_string_equal(json_object_get_string(v), "refused");
	assert_true(json_object_object_get_ex(o, "ok", &v));
	assert_false(json_object_get_boolean(v));
	/* Unset facts are left out, not written as null. */
	assert_false(json_object_object_get_ex(o, "versions", &v));
	assert_false(json_object_object_get_ex(o, "rtt_ms", &v));
	assert_false(json_object_object_get_ex(o, "exports", &v));
	json_object_put(o);

	dvol_nfs_target_done(&t[0]);
	dvol_nfs_target_done(&t[1]);
}

/* What a probe process hands its parent is checked field by field before it is believed. */
static void test_result_roundtrip_and_refusals(void **state)
{
	struct dvol_nfs_target t, u;
	struct dvol_nfs_result r, bad;
	const char *why;
	unsigned attempts = 0;

	assert_int_equal(dvol_nfs_target_parse("nfs://127.0.0.1/x", &t, &why), 0);
	assert_int_equal(dvol_nfs_target_parse("nfs://127.0.0.1/x", &u, &why), 0);
	t.resolved = t.tcp = true;
	t.versions = DVOL_NFS_V4 | DVOL_NFS_V4_1 | DVOL_NFS_V4_2;
	t.export_v4 = DVOL_NFS_YES;
	t.rtt_count = 3;
	t.rtt_ms = 0.25;
	t.elapsed_ms = 12;
	t.addrs_tried = 2;
	strcpy(t.addr, "127.0.0.1");
	strcpy(t.local_addr, "::1");
	t.detail = strdup("fine");
	dvol_nfs_result_pack(&t, 3, &r);
	assert_int_equal(dvol_nfs_result_unpack(&r, &u, &attempts), 0);
	assert_int_equal(attempts, 3);
	assert_int_equal(u.err, DVOL_NFS_OK);
	assert_int_equal(u.versions, t.versions);
	assert_int_equal(u.export_v4, DVOL_NFS_YES);
	assert_int_equal(u.export_v3, DVOL_NFS_UNKNOWN);
	assert_int_equal(u.addrs_tried, 2);
	assert_string_equal(u.addr, "127.0.0.1");
	assert_string_equal(u.local_addr, "::1");
	assert_string_equal(u.detail, "fine");
	assert_true(u.rtt_ms > 0.24 && u.rtt_ms < 0.26);

	/* Each of these is refused, and leaves the target as it was. */
	for (int i = 0; i < 12; i++) {
		bad = r;
		switch (i) {
		case 0:
			bad.magic = 0;
			break;
		case 1:
			bad.err = _DVOL_NFS_ERR_MAX;
			break;
		case 2:
			bad.versions = 1u << 20;
			break;
		case 3:
			bad.rtt_count = DVOL_NFS_RTT_MAX + 1;
			break;
		case 4:
			bad.export_v3 = 7;
			break;
		case 5:
			memset(bad.addr, 'a', sizeof(bad.addr));
			break;
		case 6:
			strcpy(bad.addr, "not-an-address");
			break;
		case 7:
			bad.detail[0] = '\033';
			break;
		case 8:
			bad.tcp = 0;
			break; /* ok without a connection cannot be */
		case 9:
			bad.rtt_ms = -1;
			break;
		case 10:
			bad.err_errno = -5;
			break;
		case 11:
			bad.resolved = 2;
			break;
		}
		print_message("refusal %d\n", i);
		assert_int_equal(dvol_nfs_result_unpack(&bad, &u, NULL), -EBADMSG);
		assert_string_equal(u.detail, "fine");
	}
	dvol_nfs_target_done(&t);
	dvol_nfs_target_done(&u);
}

/* A verdict that names an export with bytes outside printable ASCII still arrives. */
static void test_result_detail_escaped(void **state)
{
	struct dvol_nfs_target t, u;
	struct dvol_nfs_result r;
	const char *why;

	assert_int_equal(dvol_nfs_target_parse("nfs://127.0.0.1/donn\xc3\xa9"
					       "es",
					       &t, &why),
			 0);
	assert_int_equal(dvol_nfs_target_parse("nfs://127.0.0.1/x", &u, &why), 0);
	t.resolved = t.tcp = true;
	t.versions = DVOL_NFS_V4 | DVOL_NFS_V4_0;
	t.err = DVOL_NFS_EXPORT_MISSING;
	strcpy(t.addr, "127.0.0.1");
	assert_non_null(t.detail = strdup("the server at 127.0.0.1 answers, but has no export "
					  "/donn\xc3\xa9"
					  "es"));
	dvol_nfs_result_pack(&t, 1, &r);
	assert_int_equal(dvol_nfs_result_unpack(&r, &u, NULL), 0);
	assert_int_equal(u.err, DVOL_NFS_EXPORT_MISSING);
	assert_string_equal(u.detail, "the server at 127.0.0.1 answers, but has no export "
				      "/donn\\303\\251es");
	dvol_nfs_target_done(&t);
	dvol_nfs_target_done(&u);
}

static void test_err_classes(void **state)
{
	assert_string_equal(dvol_nfs_err_to_string(DVOL_NFS_PROTOCOL_ERROR), "protocol-error");
	assert_string_equal(dvol_nfs_err_to_string(DVOL_NFS_LOCAL_ERROR), "local-error");
	/* A server that answers garbage answers garbage again; retry= does not wait for it. */
	assert_false(dvol_nfs_err_is_transient(DVOL_NFS_PROTOCOL_ERROR));
	assert_false(dvol_nfs_err_is_transient(DVOL_NFS_LOCAL_ERROR));
	assert_true(dvol_nfs_err_is_transient(DVOL_NFS_REFUSED));
}

static void test_describe(void **state)
{
	static const struct {
		const char *target;
		bool v3_side;
		uint16_t mount_port;
		unsigned rtt;
		const char *want;
	} t[] = {
	    {"srv", true, 0, 0,
	     "TCP port 2049, NFS NULL v3 and v4, COMPOUND 4.0-4.2, portmapper and MOUNT"},
	    {"nfs://srv:20490/m/sub?vers=4.1", false, 0, 0,
	     "TCP port 20490, NFS NULL v3 and v4, COMPOUND 4.0-4.2, LOOKUP /m/sub, wanted "
	     "vers=4.1"},
	    {"srv:/e", true, 635, 3,
	     "TCP port 2049, NFS NULL v3 and v4, COMPOUND 4.0-4.2, LOOKUP /e, MOUNT on port 635, "
	     "3 NULL calls for the round-trip time"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct dvol_nfs_target tg = {0};
		struct dvol_nfs_probe_params p = {
		    .v3_side = t[i].v3_side, .mount_port = t[i].mount_port, .rtt_count = t[i].rtt};
		const char *why;
		char *d;

		assert_int_equal(dvol_nfs_target_parse(t[i].target, &tg, &why), 0);
		d = dvol_nfs_probe_describe(&tg, &p);
		assert_non_null(d);
		assert_string_equal(d, t[i].want);
		free(d);
		dvol_nfs_target_done(&tg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_forms),
	    cmocka_unit_test(test_describe),
	    cmocka_unit_test(test_parse_bad),
	    cmocka_unit_test(test_versions),
	    cmocka_unit_test(test_probe_refused_and_unresolvable),
	    cmocka_unit_test(test_result_roundtrip_and_refusals),
	    cmocka_unit_test(test_result_detail_escaped),
	    cmocka_unit_test(test_err_classes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
