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

/* Real sockets on loopback: port 1 has no listener on any sane machine. */
static void test_probe_refused_and_unresolvable(void **state)
{
	struct dvol_nfs_target t[2];
	struct dvol_nfs_probe_params p = {.timeout_ms = 2000, .rtt_count = 3};
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_forms),
	    cmocka_unit_test(test_parse_bad),
	    cmocka_unit_test(test_versions),
	    cmocka_unit_test(test_probe_refused_and_unresolvable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
