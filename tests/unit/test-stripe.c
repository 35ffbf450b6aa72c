/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cleanup.h"
#include "stripe.h"
#include "strv.h"

/* The name: the same set in any order is the same name; a changed set is another. */
static void test_name(void **state)
{
	const char *a[] = {"S1/1", "S2/1", "S3/1"}, *b[] = {"S3/1", "S1/1", "S2/1"},
		   *c[] = {"S1/1", "S2/1"}, *d[] = {"S1/1", "S2/1", "S3/1", "S4/1"},
		   *e[] = {"S1/1", "S2/11"}, *f[] = {"S1/11", "S2/1"};
	char na[DVOL_STRIPE_NAME_MAX], nb[DVOL_STRIPE_NAME_MAX], nc[DVOL_STRIPE_NAME_MAX],
	    nd[DVOL_STRIPE_NAME_MAX], ne[DVOL_STRIPE_NAME_MAX], nf[DVOL_STRIPE_NAME_MAX];

	(void)state;
	assert_int_equal(dvol_stripe_name(a, 3, na), 0);
	assert_int_equal(dvol_stripe_name(b, 3, nb), 0);
	assert_int_equal(dvol_stripe_name(c, 2, nc), 0);
	assert_int_equal(dvol_stripe_name(d, 4, nd), 0);
	assert_int_equal(dvol_stripe_name(e, 2, ne), 0);
	assert_int_equal(dvol_stripe_name(f, 2, nf), 0);
	assert_int_equal(strlen(na), 21);
	assert_memory_equal(na, "dvol-", 5);
	assert_int_equal(strspn(na + 5, "0123456789abcdef"), 16);
	assert_string_equal(na, nb);
	assert_string_not_equal(na, nc);
	assert_string_not_equal(na, nd);
	/* The boundary between identities counts. */
	assert_string_not_equal(ne, nf);
	assert_int_equal(dvol_stripe_name(a, 0, na), -EINVAL);
}

static void test_label(void **state)
{
	(void)state;
	assert_true(dvol_stripe_label_is("dvol-00ff", "dvol-00ff"));
	assert_true(dvol_stripe_label_is("any:dvol-00ff", "dvol-00ff"));
	assert_true(dvol_stripe_label_is("gpu7:dvol-00ff", "dvol-00ff"));
	assert_false(dvol_stripe_label_is("dvol-00ff0", "dvol-00ff"));
	assert_false(dvol_stripe_label_is("gpu7:dvol-00fe", "dvol-00ff"));
	assert_false(dvol_stripe_label_is("dvol-00ff:x", "dvol-00ff"));
	assert_false(dvol_stripe_label_is(NULL, "dvol-00ff"));
	assert_false(dvol_stripe_label_is("", "dvol-00ff"));
}

#define B	 DVOL_MEMBER_BLANK
#define R	 DVOL_MEMBER_RAID
#define FS	 DVOL_MEMBER_FS
#define O	 DVOL_MEMBER_OTHER
#define CREATE	 DVOL_STRIPE_CREATE
#define ASSEMBLE DVOL_STRIPE_ASSEMBLE
#define USE	 DVOL_STRIPE_USE
#define REFUSE	 DVOL_STRIPE_REFUSE

/* One member, shortly: its kind, its array (u: UUID, l: label), its holder. */
struct m {
	enum dvol_member_kind kind;
	const char *u, *l;
	bool held, ours, active, all;
};
#define BLANK                                                                                      \
	{                                                                                          \
		B, NULL, NULL, false, false, false, false                                          \
	}
#define MINE                                                                                       \
	{                                                                                          \
		R, "U1", "dvol-a", false, false, false, false                                      \
	}
#define MINE_HOST                                                                                  \
	{                                                                                          \
		R, "U1", "gpu7:dvol-a", false, false, false, false                                 \
	}
#define MINE_RUN                                                                                   \
	{                                                                                          \
		R, "U1", "dvol-a", true, true, true, true                                          \
	}
#define MINE_INACTIVE                                                                              \
	{                                                                                          \
		R, "U1", "dvol-a", true, true, false, false                                        \
	}

static void test_decide(void **state)
{
	static const struct {
		const char *what;
		bool mkfs;
		size_t n;
		struct m m[4];
		enum dvol_stripe_action action;
		enum dvol_stripe_why why;
		size_t member;
		bool stop_first;
	} t[] = {
	    {"all blank", true, 2, {BLANK, BLANK}, CREATE, DVOL_STRIPE_WHY_BLANK, 0, false},
	    {"all blank, four",
	     true,
	     4,
	     {BLANK, BLANK, BLANK, BLANK},
	     CREATE,
	     DVOL_STRIPE_WHY_BLANK,
	     0,
	     false},
	    {"all blank, no mkfs=",
	     false,
	     2,
	     {BLANK, BLANK},
	     REFUSE,
	     DVOL_STRIPE_WHY_NO_MKFS,
	     0,
	     false},
	    /* Wiped under a running array: the array is stale, stopped, made again. */
	    {"all blank, held by our array",
	     true,
	     2,
	     {{B, NULL, NULL, true, true, true, true}, {B, NULL, NULL, true, true, true, true}},
	     CREATE,
	     DVOL_STRIPE_WHY_BLANK,
	     0,
	     true},
	    {"ours, not running", true, 2, {MINE, MINE}, ASSEMBLE, DVOL_STRIPE_WHY_OURS, 0, false},
	    {"ours, without mkfs=",
	     false,
	     2,
	     {MINE, MINE},
	     ASSEMBLE,
	     DVOL_STRIPE_WHY_OURS,
	     0,
	     false},
	    {"ours, with a homehost in the label",
	     true,
	     2,
	     {MINE_HOST, MINE},
	     ASSEMBLE,
	     DVOL_STRIPE_WHY_OURS,
	     0,
	     false},
	    {"ours, running", true, 2, {MINE_RUN, MINE_RUN}, USE, DVOL_STRIPE_WHY_OURS, 0, false},
	    /* udev's incremental assembly started it with one member only. */
	    {"ours, inactive with one member",
	     true,
	     2,
	     {MINE_INACTIVE, MINE},
	     ASSEMBLE,
	     DVOL_STRIPE_WHY_OURS,
	     0,
	     true},
	    {"ours, running but not with every member",
	     true,
	     2,
	     {{R, "U1", "dvol-a", true, true, true, false}, MINE},
	     ASSEMBLE,
	     DVOL_STRIPE_WHY_OURS,
	     0,
	     true},
	    /* Refusals. */
	    {"one wiped", true, 3, {MINE, BLANK, MINE}, REFUSE, DVOL_STRIPE_WHY_MIXED, 1, false},
	    {"a create cut short", true, 2, {MINE, BLANK}, REFUSE, DVOL_STRIPE_WHY_MIXED, 1, false},
	    {"one holds ext4",
	     true,
	     2,
	     {BLANK, {FS, NULL, NULL, false, false, false, false}},
	     REFUSE,
	     DVOL_STRIPE_WHY_FOREIGN,
	     1,
	     false},
	    {"one holds data",
	     true,
	     2,
	     {{O, NULL, NULL, false, false, false, false}, BLANK},
	     REFUSE,
	     DVOL_STRIPE_WHY_FOREIGN,
	     0,
	     false},
	    {"data beats mixed",
	     true,
	     3,
	     {MINE, BLANK, {O, NULL, NULL, false, false, false, false}},
	     REFUSE,
	     DVOL_STRIPE_WHY_FOREIGN,
	     2,
	     false},
	    {"another array's member",
	     true,
	     2,
	     {MINE, {R, "U2", "dvol-b", false, false, false, false}},
	     REFUSE,
	     DVOL_STRIPE_WHY_OTHER_ARRAY,
	     1,
	     false},
	    /* A drive added: the old members carry the old set's name. */
	    {"the set grew",
	     true,
	     3,
	     {{R, "U0", "dvol-old", false, false, false, false},
	      {R, "U0", "dvol-old", false, false, false, false},
	      BLANK},
	     REFUSE,
	     DVOL_STRIPE_WHY_OTHER_ARRAY,
	     0,
	     false},
	    {"a member without a UUID",
	     true,
	     2,
	     {MINE, {R, NULL, "dvol-a", false, false, false, false}},
	     REFUSE,
	     DVOL_STRIPE_WHY_OTHER_ARRAY,
	     1,
	     false},
	    {"two arrays of our name",
	     true,
	     2,
	     {MINE, {R, "U2", "dvol-a", false, false, false, false}},
	     REFUSE,
	     DVOL_STRIPE_WHY_SPLIT,
	     1,
	     false},
	    {"held by an array of other devices too",
	     true,
	     2,
	     {MINE, {R, "U1", "dvol-a", true, false, true, false}},
	     REFUSE,
	     DVOL_STRIPE_WHY_HELD,
	     1,
	     false},
	    {"held by another, blank",
	     true,
	     2,
	     {{B, NULL, NULL, true, false, false, false}, BLANK},
	     REFUSE,
	     DVOL_STRIPE_WHY_HELD,
	     0,
	     false},
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		struct dvol_stripe_member m[4];
		struct dvol_stripe_decision d;

		for (size_t k = 0; k < t[i].n; k++)
			m[k] = (struct dvol_stripe_member){.kind = t[i].m[k].kind,
							   .array_uuid = t[i].m[k].u,
							   .array_name = t[i].m[k].l,
							   .held = t[i].m[k].held,
							   .held_ours = t[i].m[k].ours,
							   .held_active = t[i].m[k].active,
							   .held_all = t[i].m[k].all};
		d = dvol_stripe_decide(&(struct dvol_stripe_facts){
		    .name = "dvol-a", .n = t[i].n, .m = m, .mkfs = t[i].mkfs});
		print_message("%s\n", t[i].what);
		assert_int_equal(d.action, t[i].action);
		assert_int_equal(d.why, t[i].why);
		if (d.action == REFUSE)
			assert_int_equal(d.member, t[i].member);
		assert_int_equal(d.stop_first, t[i].stop_first);
		/* Every reason has words. */
		assert_string_not_equal(dvol_stripe_why_to_string(d.why), "?");
		assert_string_not_equal(dvol_stripe_action_to_string(d.action), "?");
	}
}

static void test_argv(void **state)
{
	char *members[] = {"/dev/nvme2n1", "/dev/nvme1n1"};
	_cleanup_(dvol_strv_freep) char **c = NULL, **a = NULL, **s = NULL;
	_cleanup_free_ char *cl = NULL, *al = NULL, *sl = NULL;

	(void)state;
	assert_int_equal(dvol_mdadm_create_argv("dvol-a", members, 2, &c), 0);
	cl = dvol_strv_join(c);
	assert_string_equal(cl, "mdadm --create /dev/md/dvol-a --run --metadata=1.2 "
				"--homehost=any --name=dvol-a --level=0 --chunk=256 "
				"--raid-devices=2 /dev/nvme2n1 /dev/nvme1n1");
	assert_int_equal(dvol_mdadm_assemble_argv("dvol-a", members, 2, &a), 0);
	al = dvol_strv_join(a);
	assert_string_equal(al, "mdadm --assemble /dev/md/dvol-a --run /dev/nvme2n1 /dev/nvme1n1");
	assert_int_equal(dvol_mdadm_stop_argv("/dev/md127", &s), 0);
	sl = dvol_strv_join(s);
	assert_string_equal(sl, "mdadm --stop /dev/md127");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name),
	    cmocka_unit_test(test_label),
	    cmocka_unit_test(test_decide),
	    cmocka_unit_test(test_argv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
