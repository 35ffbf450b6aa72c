/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cleanup.h"
#include "unitname.h"

/* Expected values as systemd-escape (252) prints them. */
static void test_escape(void **state)
{
	static const struct {
		const char *in, *out;
		bool path;
	} t[] = {
	    {"nfs://srv/export", "nfs:--srv-export", false},
	    {"srv2:/export/ds", "srv2:-export-ds", false},
	    {"nfs://[fd00::1]:2050/e?vers=3", "nfs:--\\x5bfd00::1\\x5d:2050-e\\x3fvers\\x3d3",
	     false},
	    {".hidden-x", "\\x2ehidden\\x2dx", false},
	    {"a b\\c", "a\\x20b\\x5cc", false},
	    {"/mnt/nfs-boot", "mnt-nfs\\x2dboot", true},
	    {"/srv/v6-share/", "srv-v6\\x2dshare", true},
	    {"//mnt//./data sets/", "mnt-data\\x20sets", true},
	    {"/", "-", true},
	    {"/var/lib/.hidden", "var-lib-.hidden", true},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *s = NULL;

		assert_int_equal(t[i].path ? dvol_unit_path_escape(t[i].in, &s)
					   : dvol_unit_escape(t[i].in, &s),
				 0);
		if (strcmp(s, t[i].out) != 0)
			fail_msg("case %zu: '%s' became '%s', not '%s'", i, t[i].in, s, t[i].out);
		free(s);
	}
	{
		char *s = NULL;

		assert_int_equal(dvol_unit_path_escape("relative", &s), -EINVAL);
		assert_int_equal(dvol_unit_path_escape("/a/../b", &s), -EINVAL);
	}
}

static void test_gen_line(void **state)
{
	static const struct {
		const char *src, *opts;
		int r;
		bool dropin, wait_dropin, warn;
		const char *timeout; /* in the drop-in */
	} t[] = {
	    {"nfs://srv/e", "_netdev", 0, true, false, false, "TimeoutSec=43000ms"},
	    {"srv:/e", "_netdev,probe-timeout=1,retry=5", 0, true, true, false,
	     "TimeoutSec=26000ms"},
	    {"srv:/e", "_netdev,mount-timeout=2m,x-systemd.automount,nofail", 0, true, false, false,
	     "TimeoutSec=133000ms"},
	    {"srv:/e", "nofail", 0, true, false, true, "TimeoutSec=43000ms"},
	    {"/srv//cache/", "create", 0, true, false, false, "RequiresMountsFor=\"/srv/cache\"\n"},
	    {"/srv/50%", "create", 0, true, false, false, "RequiresMountsFor=\"/srv/50%%\"\n"},
	    {"/srv/a\"b", "create", 0, true, false, false, "RequiresMountsFor=\"/srv/a\\\"b\"\n"},
	    {"nvme:instance-store", "mkfs=xfs", 0, false, false, false, NULL},
	    {"srv:/e", "_netdev,udp", -EINVAL, false, false, false, NULL},
	    {"srv:/e", "_netdev,probe-timeout=soon", -EINVAL, false, false, false, NULL},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct dvol_gen_line g = {0};
		char *bad = NULL;
		const char *why = NULL;
		int r = dvol_gen_line(t[i].src, "/mnt/x", t[i].opts, &g, &bad, &why);

		if (r != t[i].r)
			fail_msg("case %zu: r=%d (%s)", i, r, why ? why : "");
		if (r == 0) {
			assert_string_equal(g.unit, "mnt-x.mount");
			assert_int_equal(!!g.dropin, t[i].dropin);
			assert_int_equal(!!g.wait_dropin, t[i].wait_dropin);
			assert_int_equal(g.warn_no_netdev, t[i].warn);
			if (t[i].timeout && !strstr(g.dropin, t[i].timeout))
				fail_msg("case %zu: no %s in:\n%s", i, t[i].timeout, g.dropin);
			if (t[i].dropin && !t[i].warn && t[i].src[0] != '/' &&
			    (!strstr(g.dropin, "After=network-online.target") ||
			     !strstr(g.dropin, "Requires=dvol-nfs-wait@")))
				fail_msg("case %zu: not ordered after the network and the wait", i);
			if (t[i].warn && strstr(g.dropin, "network-online"))
				fail_msg("case %zu: without _netdev, no network ordering", i);
		}
		dvol_gen_line_done(&g);
		free(bad);
	}
}

/* A bind line of the volumes file beneath no device line: a mount unit of its own. */
static void test_gen_bind_unit(void **state)
{
	static const struct {
		const char *src, *target, *opts;
		bool netdev;
		int r;
		const char *name, *want; /* WANT: lines of the text, one after another */
	} t[] = {
	    {"/mnt/nfs/cache", "/root/.cache", "create,mode=0755", false, 0, "root-.cache.mount",
	     "SourcePath=/etc/dvol/volumes\nRequiresMountsFor=\"/mnt/nfs/cache\"\n\n[Mount]\n"
	     "What=/mnt/nfs/cache\nWhere=/root/.cache\nType=dvol\n"
	     "Options=create,mode=0755,source-mounted\n"},
	    {"/mnt/nfs/c", "/c", "defaults", true, 0, "c.mount",
	     "Options=source-mounted,_netdev\n"},
	    {"/mnt/nfs/c", "/c", "_netdev,ro", true, 0, "c.mount",
	     "Options=_netdev,ro,source-mounted\n"},
	    {"/mnt/nfs/c", "/c", NULL, false, 0, "c.mount", "Options=source-mounted\n"},
	    {"/srv/100%", "/mnt/a b", "create", false, 0, "mnt-a\\x20b.mount",
	     "RequiresMountsFor=\"/srv/100%%\"\n\n[Mount]\nWhat=/srv/100%%\nWhere=/mnt/a b\n"},
	    {"/srv/x", "relative", NULL, false, -EINVAL, NULL, NULL},
	    {"/srv/x", "/a/../b", NULL, false, -EINVAL, NULL, NULL},
	    {"/srv/x", "/a\nExecStart=/bin/sh", NULL, false, -EINVAL, NULL, NULL},
	    {"/srv/x", "/a", "ro\n[Service]", false, -EINVAL, NULL, NULL},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		_cleanup_free_ char *name = NULL, *text = NULL;
		const char *why = NULL;
		int r = dvol_gen_bind_unit(t[i].src, t[i].target, t[i].opts, "/etc/dvol/volumes", 7,
					   t[i].netdev, &name, &text, &why);

		if (r != t[i].r)
			fail_msg("case %zu: r=%d", i, r);
		if (r < 0) {
			assert_non_null(why);
			assert_null(name);
			continue;
		}
		assert_string_equal(name, t[i].name);
		if (!strstr(text, t[i].want))
			fail_msg("case %zu: no\n%s\nin\n%s", i, t[i].want, text);
		assert_non_null(strstr(text, "line 7"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape),
	    cmocka_unit_test(test_gen_line),
	    cmocka_unit_test(test_gen_bind_unit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
