/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "tmpdir.h"

#include "volumes.h"

static void load(struct dvol_volumes *vs, const char *text)
{
	char *p = write_file("volumes", text);
	unsigned line = 0;
	const char *why = NULL;
	int r = dvol_volumes_load(vs, p, &line, &why);

	if (r < 0)
		fail_msg("load: %d, line %u: %s", r, line, why ? why : "?");
	free(p);
}

static void test_load(void **state)
{
	struct dvol_volumes vs = {0};

	load(&vs, "# scratch\n"
		  "nvme:instance-store  /var/lib/dvol/scratch  dvol  mkfs=xfs,mode=1777  0 0\n"
		  "\n"
		  "/var/lib/dvol/scratch/cache  /root/.cache  dvol  create,mode=0755  0 0\n"
		  "UUID=1234-abcd /mnt/u dvol defaults\n"
		  "/dev/disk/by-dvol/serial/S1-n1 /mnt/s1 dvol mkfs=ext4\n"
		  "/mnt/u/with\\040space /mnt/w dvol create\n");
	assert_int_equal(vs.n, 5);
	assert_int_equal(vs.v[0].line, 2);
	assert_true(vs.v[0].local);
	assert_int_equal(vs.v[0].spec.kind, DVOL_SPEC_NVME_INSTANCE_STORE);
	assert_string_equal(vs.v[0].target, "/var/lib/dvol/scratch");
	assert_string_equal(vs.v[0].options, "mkfs=xfs,mode=1777");
	assert_int_equal(vs.v[1].line, 4);
	assert_false(vs.v[1].local);
	assert_string_equal(vs.v[1].source, "/var/lib/dvol/scratch/cache");
	assert_true(vs.v[2].local);
	assert_true(vs.v[3].local);
	assert_false(vs.v[4].local);
	assert_string_equal(vs.v[4].spec.path, "/mnt/u/with space");
	dvol_volumes_done(&vs);

	/* A bind may come before the volume it lies beneath, and beneath a bind; the others
	 * are mounted at boot: beneath none, beneath each other only, through a link. */
	load(&vs, "/scratch/a/b /c dvol create\n"
		  "/scratch/cache /scratch/a dvol create\n"
		  "nvme:instance-store /scratch dvol mkfs=xfs\n"
		  "/srv/plain /mnt/p dvol create\n"
		  "/scratchy /mnt/nb dvol create\n"
		  "/link/cache /root/.cache dvol\n"
		  "/a/x /b dvol create\n"
		  "/b/y /a dvol create\n"
		  "/mnt/p/sub /mnt/q dvol create\n");
	assert_int_equal(vs.n, 9);
	for (size_t i = 0; i < vs.n; i++)
		if (vs.v[i].on_device != (i < 3))
			fail_msg("line %u: on_device %d", vs.v[i].line, vs.v[i].on_device);
	dvol_volumes_done(&vs);
}

static void test_load_errors(void **state)
{
	static const struct {
		const char *text;
		unsigned line;
		const char *why; /* a part of it */
	} t[] = {
	    {"nvme:instance-store /mnt/a xfs mkfs=xfs 0 0\n", 1, "type dvol"},
	    {"# c\nnfs://srv/export /mnt/n dvol _netdev\n", 2, "NFS"},
	    {"srv:/export /mnt/n dvol _netdev\n", 1, "NFS"},
	    {"nvme:bogus /mnt/a dvol defaults\n", 1, ""},
	    {"/dev/sdb relative dvol defaults\n", 1, "absolute"},
	    {"/dev/sdb /mnt/a dvol mkfs=xfs\n/dev/sdc /mnt/a/ dvol mkfs=xfs\n", 2, "earlier"},
	    {"/srv /srv/x dvol defaults\n", 1, "beneath"},
	    {"/dev/sdb\n", 1, "fstab"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct dvol_volumes vs = {0};
		char *p = write_file("bad", t[i].text);
		unsigned line = 0;
		const char *why = NULL;

		assert_int_equal(dvol_volumes_load(&vs, p, &line, &why), -EINVAL);
		if (line != t[i].line || !why || !strstr(why, t[i].why))
			fail_msg("case %zu: line %u, why '%s'", i, line, why ? why : "(null)");
		dvol_volumes_done(&vs);
		free(p);
	}
	{
		struct dvol_volumes vs = {0};
		unsigned line = 0;
		const char *why = NULL;

		assert_int_equal(dvol_volumes_load(&vs, "/nonexistent/volumes", &line, &why),
				 -ENOENT);
	}
}

static void test_under(void **state)
{
	static const struct {
		const char *path, *target;
		bool under;
	} t[] = {
	    {"/a/b", "/a", true},     {"/a", "/a", true}, {"/ab", "/a", false},
	    {"/a/b/c", "/a/b", true}, {"/x", "/", true},  {"/a", "/a/b", false},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (dvol_path_under(t[i].path, t[i].target) != t[i].under)
			fail_msg("case %zu: %s under %s", i, t[i].path, t[i].target);
}

/* A plan as the line numbers (1-based in the text) it brings up, in order: "2 4 5". */
static void plan_str(const struct dvol_volumes *vs, const struct dvol_vol_device *d, char *buf,
		     size_t sz)
{
	size_t idx[32], n = dvol_volumes_plan(vs, d, idx);

	buf[0] = '\0';
	for (size_t k = 0; k < n; k++)
		snprintf(buf + strlen(buf), sz - strlen(buf), "%s%u", k ? " " : "",
			 vs->v[idx[k]].line);
}

static void test_plan(void **state)
{
	static const char text[] =
	    "nvme:instance-store          /scratch         dvol mkfs=xfs   0 0\n"  /* 1 */
	    "/scratch/cache               /root/.cache     dvol create     0 0\n"  /* 2 */
	    "/u/plain                     /mnt/plain       dvol create     0 0\n"  /* 3 */
	    "/root/.cache/pip             /home/u/.pip     dvol create     0 0\n"  /* 4 */
	    "nvme:serial=PERS1            /data            dvol mkfs=ext4  0 0\n"  /* 5 */
	    "/data/models                 /models          dvol create,ro  0 0\n"  /* 6 */
	    "UUID=1111-2222               /u               dvol defaults   0 0\n"  /* 7 */
	    "/dev/disk/by-dvol/serial/X-n1 /byl            dvol mkfs=xfs   0 0\n"  /* 8 */
	    "nvme:model=nvme_card,index=1 /gcp1            dvol mkfs=xfs   0 0\n"  /* 9 */
	    "/gcp1/x                      /mnt/x           dvol create     0 0\n"; /* 10 */
	const struct {
		struct dvol_vol_device d;
		const char *plan;
	} t[] = {
	    /* instance store: the volume first, then the bind beneath it, then the bind
	     * beneath that bind; /gcp1/x is not beneath /scratch */
	    {{.devno = 1,
	      .serial = "AWS1",
	      .model = "Amazon EC2 NVMe Instance Storage",
	      .instance_store = true},
	     "1 2 4"},
	    {{.devno = 2, .serial = "PERS1", .model = "Amazon Elastic Block Store"}, "5 6"},
	    /* persistent disk of another serial: nothing */
	    {{.devno = 3, .serial = "PERS2", .model = "Amazon Elastic Block Store"}, ""},
	    {{.devno = 4, .uuid = "1111-2222"}, "7 3"},
	    {{.devno = 4, .label = "1111-2222"}, ""},
	    /* the path line, by the device it names now */
	    {{.devno = makedev(259, 8)}, "8"},
	    /* a GCP local SSD: instance store, and of model nvme_card */
	    {{.devno = 5, .serial = "nvme_card", .model = "nvme_card", .instance_store = true},
	     "1 9 2 10 4"},
	    /* nothing known: nothing done */
	    {{.devno = 6}, ""},
	};
	struct dvol_volumes vs = {0};
	char buf[128];

	load(&vs, text);
	assert_int_equal(vs.n, 10);
	vs.v[7].devno = makedev(259, 8);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		plan_str(&vs, &t[i].d, buf, sizeof(buf));
		if (strcmp(buf, t[i].plan) != 0)
			fail_msg("case %zu: plan '%s', expected '%s'", i, buf, t[i].plan);
	}
	assert_int_equal(dvol_volumes_holder(&vs, "/scratch/cache"), 0);
	assert_int_equal(dvol_volumes_holder(&vs, "/root/.cache/pip"), 1);
	assert_int_equal(dvol_volumes_holder(&vs, "/srv/plain"), -1);
	dvol_volumes_done(&vs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_load),
	    cmocka_unit_test(test_load_errors),
	    cmocka_unit_test(test_under),
	    cmocka_unit_test(test_plan),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
