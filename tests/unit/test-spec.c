/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "spec.h"

static struct dvol_spec parse_ok(const char *s)
{
	struct dvol_spec spec;
	const char *why = NULL;
	int r = dvol_spec_parse(s, &spec, &why);

	if (r < 0)
		fail_msg("'%s' refused: %s", s, why);
	return spec;
}

static void parse_bad(const char *s, const char *why_part)
{
	struct dvol_spec spec = {0};
	const char *why = NULL;
	int r = dvol_spec_parse(s, &spec, &why);

	if (r != -EINVAL)
		fail_msg("'%s' accepted (kind %s)", s, dvol_spec_kind_to_string(spec.kind));
	assert_non_null(why);
	if (why_part && !strstr(why, why_part))
		fail_msg("'%s': reason '%s' does not mention '%s'", s, why, why_part);
}

static void test_paths(void **state)
{
	static const struct {
		const char *in, *out;
		bool block;
	} ok[] = {
	    {"/srv/cache", "/srv/cache", false},
	    {"/srv//cache/", "/srv/cache", false},
	    {"/", "/", false},
	    {"///", "/", false},
	    {"/root/.dstack/cache", "/root/.dstack/cache", false},
	    {"/srv/a b", "/srv/a b", false},
	    {"/srv/..x/.y", "/srv/..x/.y", false},
	    {"/dev/loop3", "/dev/loop3", true},
	    {"/dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_SER1", "/dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_SER1",
	     true},
	    {"/dev/disk/by-uuid/1234", "/dev/disk/by-uuid/1234", true},
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct dvol_spec s = parse_ok(ok[i].in);

		assert_int_equal(s.kind, DVOL_SPEC_PATH);
		assert_string_equal(s.path, ok[i].out);
		assert_int_equal(dvol_spec_is_block(&s), ok[i].block);
		dvol_spec_done(&s);
	}
	parse_bad("/srv/../etc", "'..'");
	parse_bad("/srv/./cache", "'.'");
	parse_bad("/srv/cache/..", "'..'");
	parse_bad("/srv/a\nb", "control");
	parse_bad("", "empty");
	parse_bad("relative/path", NULL);
	parse_bad("cache", NULL);
}

static void test_tags(void **state)
{
	struct dvol_spec s = parse_ok("UUID=0b6a3c4e-1f0a-4d1e-9c8e-2f4b5a6c7d8e");

	assert_int_equal(s.kind, DVOL_SPEC_TAG);
	assert_string_equal(s.tag_name, "UUID");
	assert_string_equal(s.tag_value, "0b6a3c4e-1f0a-4d1e-9c8e-2f4b5a6c7d8e");
	assert_true(dvol_spec_is_block(&s));
	dvol_spec_done(&s);

	s = parse_ok("LABEL=\"model cache\"");
	assert_string_equal(s.tag_name, "LABEL");
	assert_string_equal(s.tag_value, "model cache");
	dvol_spec_done(&s);

	s = parse_ok("PARTLABEL=scratch");
	assert_string_equal(s.tag_name, "PARTLABEL");
	dvol_spec_done(&s);
	s = parse_ok("PARTUUID=abcd-01");
	assert_string_equal(s.tag_name, "PARTUUID");
	dvol_spec_done(&s);

	parse_bad("UUID=", "empty");
	parse_bad("SERIAL=x", "unknown tag");
	parse_bad("=x", NULL);
}

static void test_nvme(void **state)
{
	struct dvol_spec s = parse_ok("nvme:serial=SER1");

	assert_int_equal(s.kind, DVOL_SPEC_NVME_SERIAL);
	assert_string_equal(s.serial, "SER1");
	dvol_spec_done(&s);

	s = parse_ok("nvme:model=Amazon EC2 NVMe Instance Storage");
	assert_int_equal(s.kind, DVOL_SPEC_NVME_MODEL);
	assert_string_equal(s.model, "Amazon EC2 NVMe Instance Storage");
	assert_int_equal(s.index, 0);
	dvol_spec_done(&s);

	s = parse_ok("nvme:model=Microsoft NVMe Direct Disk,index=3");
	assert_string_equal(s.model, "Microsoft NVMe Direct Disk");
	assert_int_equal(s.index, 3);
	dvol_spec_done(&s);

	/* A comma inside a model string stays in the model. */
	s = parse_ok("nvme:model=ACME, Inc. NVMe,index=1");
	assert_string_equal(s.model, "ACME, Inc. NVMe");
	assert_int_equal(s.index, 1);
	dvol_spec_done(&s);

	s = parse_ok("nvme:instance-store");
	assert_int_equal(s.kind, DVOL_SPEC_NVME_INSTANCE_STORE);
	assert_true(dvol_spec_is_block(&s));
	dvol_spec_done(&s);

	parse_bad("nvme:serial=", "empty");
	parse_bad("nvme:model=", "empty");
	parse_bad("nvme:model=,index=1", "empty");
	parse_bad("nvme:model=X,index=", "index");
	parse_bad("nvme:model=X,index=-1", "index");
	parse_bad("nvme:model=X,index=99999", "index");
	parse_bad("nvme:nvme1n1", "unknown nvme");
	parse_bad("nvme:", "unknown nvme");
}

static void test_nfs_url(void **state)
{
	struct dvol_spec s = parse_ok("nfs://srv/export");

	assert_int_equal(s.kind, DVOL_SPEC_NFS);
	assert_string_equal(s.host, "srv");
	assert_int_equal(s.port, 0);
	assert_string_equal(s.path, "/export");
	assert_null(s.vers);
	assert_false(dvol_spec_is_block(&s));
	dvol_spec_done(&s);

	s = parse_ok("nfs://10.0.0.5:2049/export/models/llama?vers=4.1");
	assert_string_equal(s.host, "10.0.0.5");
	assert_int_equal(s.port, 2049);
	assert_string_equal(s.path, "/export/models/llama");
	assert_string_equal(s.vers, "4.1");
	dvol_spec_done(&s);

	s = parse_ok("nfs://[fd00::1]:20490/t?vers=3");
	assert_string_equal(s.host, "fd00::1");
	assert_true(s.host_is_ipv6);
	assert_int_equal(s.port, 20490);
	assert_string_equal(s.path, "/t");
	{
		char *srv = dvol_spec_nfs_server(&s);
		assert_string_equal(srv, "[fd00::1]:20490");
		free(srv);
	}
	dvol_spec_done(&s);

	s = parse_ok("nfs://nas.example.com/");
	assert_string_equal(s.path, "/");
	dvol_spec_done(&s);

	parse_bad("nfs://", "no export path");
	parse_bad("nfs:///export", "no host");
	parse_bad("nfs://srv", "no export path");
	parse_bad("nfs://srv:0/x", "port");
	parse_bad("nfs://srv:65536/x", "port");
	parse_bad("nfs://srv:abc/x", "port");
	parse_bad("nfs://srv/x?vers=5", "version");
	parse_bad("nfs://srv/x?version=4", "parameter");
	parse_bad("nfs://fd00::1/x", "brackets");
	parse_bad("nfs://[fd00::1/x", "unterminated");
	parse_bad("nfs://[not:an:addr]/x", "IPv6");
	parse_bad("nfs://srv/a/../b", "'..'");
	parse_bad("nfs://bad host/x", "host name");
	parse_bad("nfs://srv/%2e%2e/etc", "'%'");
	parse_bad("nfs://sr%76/x", "'%'");
	parse_bad("nfs://srv/x#frag", "fragment");
}

static void test_nfs_short(void **state)
{
	struct dvol_spec s = parse_ok("srv:/export/sub");

	assert_int_equal(s.kind, DVOL_SPEC_NFS);
	assert_string_equal(s.host, "srv");
	assert_string_equal(s.path, "/export/sub");
	dvol_spec_done(&s);

	s = parse_ok("192.168.1.10:/");
	assert_string_equal(s.host, "192.168.1.10");
	assert_string_equal(s.path, "/");
	dvol_spec_done(&s);

	s = parse_ok("[::1]:/export");
	assert_string_equal(s.host, "::1");
	assert_true(s.host_is_ipv6);
	assert_string_equal(s.path, "/export");
	dvol_spec_done(&s);

	/* "nvme" as an NFS host name is still a host when a path follows. */
	s = parse_ok("nvme:/export");
	assert_int_equal(s.kind, DVOL_SPEC_NFS);
	dvol_spec_done(&s);

	parse_bad("::1:/export", "brackets");
	parse_bad("[::1:/export", "unterminated");
	parse_bad("srv:2049:/export", NULL);
	parse_bad(":/export", "host");
}

static void test_vers(void **state)
{
	assert_true(dvol_nfs_vers_valid("3"));
	assert_true(dvol_nfs_vers_valid("4"));
	assert_true(dvol_nfs_vers_valid("4.2"));
	assert_false(dvol_nfs_vers_valid("2"));
	assert_false(dvol_nfs_vers_valid("4.3"));
	assert_false(dvol_nfs_vers_valid(""));
}

static void test_vol(void **state)
{
	static const struct {
		const char *spec;
		enum dvol_vol want;
		const char *name;
	} t[] = {
	    {"/srv/cache", DVOL_VOL_BIND, "bind"},
	    {"/dev/loop3", DVOL_VOL_LOCAL, "local"},
	    {"/dev/disk/by-id/nvme-X", DVOL_VOL_LOCAL, "local"},
	    {"UUID=0f6b0c1e-4a5d-4e2b-9c1a-2f3e4d5c6b7a", DVOL_VOL_LOCAL, "local"},
	    {"nvme:serial=S1", DVOL_VOL_LOCAL, "local"},
	    {"nvme:model=M,index=1", DVOL_VOL_LOCAL, "local"},
	    {"nvme:instance-store", DVOL_VOL_LOCAL, "local"},
	    {"nfs://srv/export", DVOL_VOL_NFS, "nfs"},
	    {"srv:/export/sub", DVOL_VOL_NFS, "nfs"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct dvol_spec s;
		const char *why;

		assert_int_equal(dvol_spec_parse(t[i].spec, &s, &why), 0);
		assert_int_equal(dvol_spec_vol(&s), t[i].want);
		assert_string_equal(dvol_vol_to_string(dvol_spec_vol(&s)), t[i].name);
		dvol_spec_done(&s);
	}
	assert_null(dvol_vol_to_string((enum dvol_vol)(DVOL_VOL_NFS + 1)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_paths),     cmocka_unit_test(test_tags),
	    cmocka_unit_test(test_nvme),      cmocka_unit_test(test_nfs_url),
	    cmocka_unit_test(test_nfs_short), cmocka_unit_test(test_vers),
	    cmocka_unit_test(test_vol),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
