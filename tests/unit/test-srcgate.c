/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "srcgate.h"

static void test_fs_in_list(void **state)
{
	static const struct {
		const char *fstype, *list;
		bool in;
	} t[] = {
	    {"xfs", "xfs", true},	{"xfs", "nfs4|xfs", true},
	    {"nfs4", "nfs4|xfs", true}, {"nfs4", "nfs", true},	/* "nfs" is NFS of every version */
	    {"nfs", "nfs", true},	{"nfs", "nfs4", false}, /* v3 is not v4 */
	    {"ext4", "ext", false},	{"ext", "ext4", false},
	    {"xfs", "xf|fs", false},	{"fuse.sshfs", "fuse.sshfs", true},
	    {"nfs4", "nfsx", false},	{NULL, "xfs", false},
	    {"xfs", NULL, false},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(dvol_fs_in_list(t[i].fstype, t[i].list), t[i].in);
}

static void test_decide(void **state)
{
	/* mount 1 is /, 7 the volume at /v, 9 another mount */
	static const struct {
		struct dvol_src_gate_want w;
		uint64_t mnt_id, at_mnt_id;
		const char *fstype;
		enum dvol_src_gate_why why;
	} t[] = {
	    {{0}, 1, 0, "ext4", DVOL_SRC_GATE_OK},
	    {{.mounted = true}, 1, 0, "ext4", DVOL_SRC_GATE_ON_ROOT},
	    {{.mounted = true}, 7, 0, "xfs", DVOL_SRC_GATE_OK},
	    {{.mounted = true, .at = "/v"}, 7, 7, "xfs", DVOL_SRC_GATE_OK},
	    {{.mounted = true, .at = "/v"}, 1, 0, "ext4", DVOL_SRC_GATE_AT_NONE},
	    {{.mounted = true, .at = "/v"}, 7, 0, "xfs", DVOL_SRC_GATE_AT_NONE},
	    /* out of the volume through a link: onto / or onto another mount */
	    {{.mounted = true, .at = "/v"}, 1, 7, "ext4", DVOL_SRC_GATE_NOT_AT},
	    {{.mounted = true, .at = "/v"}, 9, 7, "xfs", DVOL_SRC_GATE_NOT_AT},
	    {{.fs = "nfs"}, 9, 0, "nfs4", DVOL_SRC_GATE_OK},
	    {{.fs = "nfs"}, 9, 0, "xfs", DVOL_SRC_GATE_FS},
	    {{.fs = "ext4"}, 1, 0, "ext4", DVOL_SRC_GATE_OK}, /* the root's type is asked */
	    {{.fs = "xfs"}, 9, 0, NULL, DVOL_SRC_GATE_FS},    /* not in mountinfo */
	    {{.mounted = true, .fs = "xfs"}, 1, 0, "xfs", DVOL_SRC_GATE_ON_ROOT},
	    {{.mounted = true, .fs = "xfs"}, 9, 0, "ext4", DVOL_SRC_GATE_FS},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct dvol_src_gate_facts f = {
		    .mnt_id = t[i].mnt_id,
		    .fstype = (char *)t[i].fstype,
		    .root_mnt_id = 1,
		    .at_mnt_id = t[i].at_mnt_id,
		};

		assert_int_equal(dvol_src_gate_decide(&t[i].w, &f), t[i].why);
	}
	assert_false(dvol_src_gate_wanted(&(struct dvol_src_gate_want){0}));
	assert_true(dvol_src_gate_wanted(&(struct dvol_src_gate_want){.fs = "xfs"}));
}

/* Every reason in words of its own, naming what was asked and what was found. */
static void test_explain(void **state)
{
	static const struct {
		enum dvol_src_gate_why why;
		const char *has[3];
	} t[] = {
	    {DVOL_SRC_GATE_ON_ROOT,
	     {"source /v/c lies on the root filesystem", "nothing was bound"}},
	    {DVOL_SRC_GATE_AT_NONE,
	     {"mounted at /v", "nothing is mounted there", "nothing was bound"}},
	    {DVOL_SRC_GATE_NOT_AT,
	     {"lies on ext4 mounted at /", "not on the volume mounted at /v", "nothing was bound"}},
	    {DVOL_SRC_GATE_FS, {"lies on ext4 mounted at /", "source-fs=nfs", "nothing was bound"}},
	};
	const struct dvol_src_gate_want w = {.mounted = true, .at = "/v", .fs = "nfs"};
	const struct dvol_src_gate_facts f = {.fstype = (char *)"ext4", .mnt_target = (char *)"/"};
	char *text = (char *)"unset";

	assert_int_equal(dvol_src_gate_explain(DVOL_SRC_GATE_OK, "/v/c", &w, &f, &text), 0);
	assert_null(text);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(dvol_src_gate_explain(t[i].why, "/v/c", &w, &f, &text), -EINVAL);
		for (size_t j = 0; j < 3 && t[i].has[j]; j++)
			if (!strstr(text, t[i].has[j]))
				fail_msg("reason %d: no '%s' in '%s'", t[i].why, t[i].has[j], text);
		free(text);
	}
}

/* The facts of folders of this machine: / lies on /, and a folder beneath it too (the
 * test runs where /proc is mounted, as every test does). */
static void test_facts(void **state)
{
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int proc = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int anc = -EBADF;
	struct dvol_src_gate_facts f = {0};

	assert_true(root >= 0 && proc >= 0);
	assert_int_equal(dvol_src_gate_facts(root, "/", &f), 0);
	assert_int_equal(f.mnt_id, f.root_mnt_id);
	assert_int_equal(f.at_mnt_id, f.root_mnt_id);
	assert_string_equal(f.mnt_target, "/");
	assert_int_equal(dvol_src_gate_decide(&(struct dvol_src_gate_want){.mounted = true}, &f),
			 DVOL_SRC_GATE_ON_ROOT);
	dvol_src_gate_facts_done(&f);

	assert_int_equal(dvol_src_gate_facts(proc, "/proc/self", &f), 0);
	assert_int_not_equal(f.mnt_id, f.root_mnt_id);
	assert_int_equal(f.at_mnt_id, 0); /* /proc/self is not the root of a mount */
	assert_string_equal(f.fstype, "proc");
	assert_string_equal(f.mnt_target, "/proc");
	dvol_src_gate_facts_done(&f);

	assert_int_equal(dvol_open_existing_ancestor("/proc/self/no/such/folder", &anc), 0);
	assert_true(anc >= 0);
	assert_int_equal(dvol_src_gate_facts(anc, NULL, &f), 0);
	assert_string_equal(f.fstype, "proc");
	dvol_src_gate_facts_done(&f);
	assert_int_equal(dvol_open_existing_ancestor("relative", &anc), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fs_in_list),
	    cmocka_unit_test(test_decide),
	    cmocka_unit_test(test_explain),
	    cmocka_unit_test(test_facts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
