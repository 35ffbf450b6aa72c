/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "blkdecide.h"
#include "cleanup.h"

#define MIB  (1024u * 1024u)
#define U1   "0b6c7a1e-6a3d-4c57-9a1e-2f0e9d1c5b7a"
#define U2   "7f3e2d1c-0b9a-4876-8543-210fedcba987"
#define SIZE (320ull * MIB)
#define ID   "loop:/tmp/img@0"

static const struct dvol_claim claim_xfs = {.fstype = "xfs", .uuid = U1, .size = SIZE, .ident = ID};

static void test_crc32(void **state)
{
	/* The check value of CRC-32/ISO-HDLC (zlib's crc32). */
	assert_int_equal(dvol_crc32("123456789", 9), 0xcbf43926u);
	assert_int_equal(dvol_crc32("", 0), 0);
}

static void test_offsets(void **state)
{
	uint64_t o[2];

	assert_int_equal(dvol_claim_offsets(SIZE, o), 0);
	assert_int_equal(o[0], 0);
	assert_int_equal(o[1], SIZE - 768 * 1024);
	/* Not 4 KiB aligned: the tail copy is aligned below the end. */
	assert_int_equal(dvol_claim_offsets(SIZE + 1000, o), 0);
	assert_int_equal(o[1], SIZE - 768 * 1024);
	assert_int_equal(dvol_claim_offsets(4 * MIB - 1, o), -ERANGE);
	assert_int_equal(dvol_claim_offsets(4 * MIB, o), 0);
}

static void classify(const struct dvol_claim *c, uint64_t wrote_at, uint64_t read_at, uint64_t size,
		     const char *ident, enum dvol_claim_copy want)
{
	unsigned char buf[DVOL_CLAIM_SIZE];
	struct dvol_claim_read r;

	assert_int_equal(dvol_claim_encode(c, wrote_at, buf), 0);
	dvol_claim_classify(buf, read_at, size, ident, &r);
	assert_int_equal(r.kind, want);
	if (want == DVOL_COPY_CLAIM || want == DVOL_COPY_STALE) {
		assert_string_equal(r.claim.uuid, c->uuid);
		assert_string_equal(r.claim.fstype, c->fstype);
	}
}

static void test_encode_classify(void **state)
{
	unsigned char buf[DVOL_CLAIM_SIZE] = {0};
	struct dvol_claim_read r;
	struct dvol_claim bad = claim_xfs;
	uint64_t tail = SIZE - 768 * 1024;

	classify(&claim_xfs, 0, 0, SIZE, ID, DVOL_COPY_CLAIM);
	classify(&claim_xfs, tail, tail, SIZE, ID, DVOL_COPY_CLAIM);
	/* Moved: read at another offset, on a device of another size or identity. */
	classify(&claim_xfs, tail, tail - MIB, SIZE, ID, DVOL_COPY_STALE);
	classify(&claim_xfs, 0, 0, SIZE - MIB, ID, DVOL_COPY_STALE);
	classify(&claim_xfs, 0, 0, SIZE, "loop:/tmp/img@1048576", DVOL_COPY_STALE);
	classify(&claim_xfs, 0, 0, SIZE, "", DVOL_COPY_STALE);

	dvol_claim_classify(buf, 0, SIZE, ID, &r);
	assert_int_equal(r.kind, DVOL_COPY_ZERO);

	/* One flipped bit anywhere is not a claim. */
	for (size_t i = 0; i < DVOL_CLAIM_SIZE; i += 7) {
		assert_int_equal(dvol_claim_encode(&claim_xfs, 0, buf), 0);
		buf[i] ^= 0x10;
		dvol_claim_classify(buf, 0, SIZE, ID, &r);
		assert_int_equal(r.kind, DVOL_COPY_OTHER);
	}
	/* ...nor a byte where dvol writes none (the word after the version, the UUID field's
	 * padding), even with the CRC made good. */
	for (size_t i = 20; i < 88; i = i == 23 ? 85 : i + 1) {
		uint32_t crc;

		assert_int_equal(dvol_claim_encode(&claim_xfs, 0, buf), 0);
		buf[i] = 0x08;
		crc = dvol_crc32(buf, 248);
		for (int k = 0; k < 4; k++)
			buf[248 + k] = (unsigned char)(crc >> (8 * k));
		dvol_claim_classify(buf, 0, SIZE, ID, &r);
		assert_int_equal(r.kind, DVOL_COPY_OTHER);
	}
	/* The MBR signature bytes stay zero: libblkid never sees a partition table. */
	assert_int_equal(dvol_claim_encode(&claim_xfs, 0, buf), 0);
	assert_int_equal(buf[510], 0);
	assert_int_equal(buf[511], 0);

	/* An xfs superblock in the head: its UUID, as libblkid prints it. */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, "XFSB", 4);
	memcpy(buf + 32, "\x0b\x6c\x7a\x1e\x6a\x3d\x4c\x57\x9a\x1e\x2f\x0e\x9d\x1c\x5b\x7a", 16);
	dvol_claim_classify(buf, 0, SIZE, ID, &r);
	assert_int_equal(r.kind, DVOL_COPY_XFS_SB);
	assert_string_equal(r.uuid, U1);
	/* ...only in the head. */
	dvol_claim_classify(buf, tail, SIZE, ID, &r);
	assert_int_equal(r.kind, DVOL_COPY_OTHER);

	/* Fields that do not fit are refused, not cut. */
	snprintf(bad.fstype, sizeof(bad.fstype), "%s", "");
	assert_int_equal(dvol_claim_encode(&bad, 0, buf), -EINVAL);
}

static struct dvol_claim_read copy(enum dvol_claim_copy k, const char *uuid, const char *fstype)
{
	struct dvol_claim_read r = {.kind = k};

	if (k == DVOL_COPY_CLAIM || k == DVOL_COPY_STALE) {
		r.claim = claim_xfs;
		snprintf(r.claim.uuid, sizeof(r.claim.uuid), "%s", uuid);
		snprintf(r.claim.fstype, sizeof(r.claim.fstype), "%s", fstype);
	}
	if (k == DVOL_COPY_XFS_SB)
		snprintf(r.uuid, sizeof(r.uuid), "%s", uuid);
	return r;
}

static void test_combine(void **state)
{
	static const struct {
		enum dvol_claim_copy head, tail;
		const char *head_uuid, *tail_uuid, *fstype;
		enum dvol_claim_state want;
	} t[] = {
	    /* Never claimed, or cleared. */
	    {DVOL_COPY_ZERO, DVOL_COPY_ZERO, NULL, NULL, "xfs", DVOL_CLAIM_NONE},
	    /* Data, or a filesystem, where no claim ever was: judged as it is. */
	    {DVOL_COPY_OTHER, DVOL_COPY_OTHER, NULL, NULL, "xfs", DVOL_CLAIM_NONE},
	    {DVOL_COPY_OTHER, DVOL_COPY_ZERO, NULL, NULL, "xfs", DVOL_CLAIM_NONE},
	    {DVOL_COPY_XFS_SB, DVOL_COPY_ZERO, U1, NULL, "xfs", DVOL_CLAIM_NONE},
	    /* Killed before mkfs, or before mkfs reached the head. */
	    {DVOL_COPY_CLAIM, DVOL_COPY_CLAIM, U1, U1, "xfs", DVOL_CLAIM_OURS},
	    {DVOL_COPY_CLAIM, DVOL_COPY_CLAIM, U1, U1, "ext4", DVOL_CLAIM_OURS},
	    /* Killed while formatting: mkfs zeroed the head (both), wrote its superblock
	     * with the claimed UUID there (xfs). */
	    {DVOL_COPY_ZERO, DVOL_COPY_CLAIM, NULL, U1, "ext4", DVOL_CLAIM_OURS},
	    {DVOL_COPY_ZERO, DVOL_COPY_CLAIM, NULL, U1, "xfs", DVOL_CLAIM_OURS},
	    {DVOL_COPY_XFS_SB, DVOL_COPY_CLAIM, U1, U1, "xfs", DVOL_CLAIM_OURS},
	    /* Cleared up to the tail when the kill came. */
	    {DVOL_COPY_CLAIM, DVOL_COPY_ZERO, U1, NULL, "xfs", DVOL_CLAIM_OURS},
	    /* An xfs superblock of another UUID, or under an ext4 claim: made by hand. */
	    {DVOL_COPY_XFS_SB, DVOL_COPY_CLAIM, U2, U1, "xfs", DVOL_CLAIM_DAMAGED},
	    {DVOL_COPY_XFS_SB, DVOL_COPY_CLAIM, U1, U1, "ext4", DVOL_CLAIM_DAMAGED},
	    /* Overwritten since (random data, another tool). */
	    {DVOL_COPY_OTHER, DVOL_COPY_CLAIM, NULL, U1, "xfs", DVOL_CLAIM_DAMAGED},
	    {DVOL_COPY_CLAIM, DVOL_COPY_OTHER, U1, NULL, "ext4", DVOL_CLAIM_DAMAGED},
	    /* Two claims that disagree. */
	    {DVOL_COPY_CLAIM, DVOL_COPY_CLAIM, U1, U2, "xfs", DVOL_CLAIM_DAMAGED},
	    /* A claim for another size, identity or place: moved. */
	    {DVOL_COPY_STALE, DVOL_COPY_CLAIM, U1, U1, "xfs", DVOL_CLAIM_FOREIGN},
	    {DVOL_COPY_ZERO, DVOL_COPY_STALE, NULL, U1, "xfs", DVOL_CLAIM_FOREIGN},
	    {DVOL_COPY_OTHER, DVOL_COPY_STALE, NULL, U1, "ext4", DVOL_CLAIM_FOREIGN},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		struct dvol_claim_read c[2] = {copy(t[i].head, t[i].head_uuid, t[i].fstype),
					       copy(t[i].tail, t[i].tail_uuid, t[i].fstype)};
		struct dvol_claim got = {0};
		enum dvol_claim_state s = dvol_claim_combine(c, &got);

		if (s != t[i].want)
			fail_msg("row %zu: got %s, wanted %s", i, dvol_claim_state_to_string(s),
				 dvol_claim_state_to_string(t[i].want));
		if (s == DVOL_CLAIM_OURS)
			assert_string_equal(got.uuid, U1);
	}
}

/*
 * Every combination of the facts: mkfs= (none, xfs, ext4) x first probe (4) x probe under
 * the lock (4) x what the filesystem found is (xfs with the claimed UUID, xfs with
 * another, ext4 with the claimed UUID, xfs without a UUID) x claim (4) x read-only x in
 * use. The expected answer is written out once more below, as rules in the order a
 * person reads them; the table test checks that the two agree everywhere, and the rows
 * after it pin the cases that matter by name.
 */
static struct dvol_blk_decision expected(const struct dvol_blk_facts *f)
{
	const struct dvol_claim *c = f->claimed;
	bool fs_ours = f->kind == DVOL_KIND_FS && f->uuid && strcmp(f->fstype, c->fstype) == 0 &&
		       strcmp(f->uuid, c->uuid) == 0;
	struct dvol_blk_decision d = {.action = DVOL_ACT_REFUSE};

	if (f->claim == DVOL_CLAIM_FOREIGN)
		d.reason = DVOL_WHY_CLAIM_FOREIGN;
	else if (f->claim == DVOL_CLAIM_DAMAGED)
		d.reason = DVOL_WHY_CLAIM_DAMAGED;
	else if (f->claim == DVOL_CLAIM_OURS && f->kind != DVOL_KIND_BLANK &&
		 f->kind != DVOL_KIND_DATA && !fs_ours)
		d.reason = DVOL_WHY_CLAIM_CONTENT;
	else if (f->claim == DVOL_CLAIM_OURS && !f->mkfs)
		d.reason = DVOL_WHY_CLAIM_NO_MKFS;
	else if (f->claim == DVOL_CLAIM_OURS && strcmp(f->mkfs, c->fstype) != 0)
		d.reason = DVOL_WHY_CLAIM_FSTYPE;
	else if (f->claim == DVOL_CLAIM_OURS && f->read_only)
		d.reason = DVOL_WHY_READ_ONLY;
	else if (f->claim == DVOL_CLAIM_OURS && f->in_use)
		d.reason = DVOL_WHY_IN_USE;
	else if (f->claim == DVOL_CLAIM_OURS)
		d = (struct dvol_blk_decision){DVOL_ACT_REDO, DVOL_WHY_CLAIM};
	else if (f->kind == DVOL_KIND_FS && f->mkfs && strcmp(f->mkfs, f->fstype) != 0)
		d.reason = DVOL_WHY_FS_MISMATCH;
	else if (f->kind == DVOL_KIND_FS)
		d = (struct dvol_blk_decision){DVOL_ACT_MOUNT, DVOL_WHY_FS};
	else if (f->kind == DVOL_KIND_DATA)
		d.reason = DVOL_WHY_DATA;
	else if (f->kind == DVOL_KIND_OTHER)
		d.reason = DVOL_WHY_OTHER;
	else if (f->first != DVOL_KIND_BLANK)
		d.reason = DVOL_WHY_PROBES_DISAGREE;
	else if (!f->mkfs)
		d.reason = DVOL_WHY_NO_MKFS;
	else if (f->read_only)
		d.reason = DVOL_WHY_READ_ONLY;
	else if (f->in_use)
		d.reason = DVOL_WHY_IN_USE;
	else
		d = (struct dvol_blk_decision){DVOL_ACT_FORMAT, DVOL_WHY_BLANK};
	return d;
}

static void test_decide_every_combination(void **state)
{
	static const char *const mkfs[] = {NULL, "xfs", "ext4"};
	static const struct {
		const char *fstype, *uuid;
	} fs[] = {{"xfs", U1}, {"xfs", U2}, {"ext4", U1}, {"xfs", NULL}};
	static const enum dvol_claim_state claims[] = {DVOL_CLAIM_NONE, DVOL_CLAIM_OURS,
						       DVOL_CLAIM_FOREIGN, DVOL_CLAIM_DAMAGED};
	unsigned n = 0, redo = 0, format = 0;

	for (size_t m = 0; m < ELEMENTSOF(mkfs); m++)
		for (int first = 0; first < 4; first++)
			for (int kind = 0; kind < 4; kind++)
				for (size_t s = 0; s < ELEMENTSOF(fs); s++)
					for (size_t c = 0; c < ELEMENTSOF(claims); c++)
						for (int bits = 0; bits < 4; bits++) {
							struct dvol_blk_facts f = {
							    .mkfs = mkfs[m],
							    .first = first,
							    .kind = kind,
							    .fstype = kind == DVOL_KIND_FS
									  ? fs[s].fstype
									  : NULL,
							    .uuid = kind == DVOL_KIND_FS
									? fs[s].uuid
									: NULL,
							    .claim = claims[c],
							    .claimed = &claim_xfs,
							    .read_only = bits & 1,
							    .in_use = bits & 2,
							};
							struct dvol_blk_decision got =
							    dvol_blk_decide(&f);
							struct dvol_blk_decision want =
							    expected(&f);

							if (got.action != want.action ||
							    got.reason != want.reason)
								fail_msg(
								    "mkfs=%s first=%d kind=%d "
								    "fs=%zu claim=%zu bits=%d: "
								    "got %d/%d, wanted %d/%d",
								    mkfs[m] ? mkfs[m] : "-", first,
								    kind, s, c, bits, got.action,
								    got.reason, want.action,
								    want.reason);
							redo += got.action == DVOL_ACT_REDO;
							format += got.action == DVOL_ACT_FORMAT;
							n++;
						}
	assert_int_equal(n, 3 * 4 * 4 * 4 * 4 * 4);
	assert_true(redo > 0 && format > 0);
}

static void test_decide_cases(void **state)
{
	static const struct {
		const char *name;
		struct dvol_blk_facts f;
		enum dvol_blk_action action;
		enum dvol_blk_reason reason;
	} t[] = {
	    {"blank, mkfs=xfs",
	     {.mkfs = "xfs", .first = DVOL_KIND_BLANK, .kind = DVOL_KIND_BLANK},
	     DVOL_ACT_FORMAT,
	     DVOL_WHY_BLANK},
	    {"killed before mkfs: the claim alone reads as data",
	     {.mkfs = "xfs", .kind = DVOL_KIND_DATA, .claim = DVOL_CLAIM_OURS},
	     DVOL_ACT_REDO,
	     DVOL_WHY_CLAIM},
	    {"killed after mkfs, before the claim was cleared",
	     {.mkfs = "xfs",
	      .kind = DVOL_KIND_FS,
	      .fstype = "xfs",
	      .uuid = U1,
	      .claim = DVOL_CLAIM_OURS},
	     DVOL_ACT_REDO,
	     DVOL_WHY_CLAIM},
	    {"random data without a claim",
	     {.mkfs = "xfs", .kind = DVOL_KIND_DATA},
	     DVOL_ACT_REFUSE,
	     DVOL_WHY_DATA},
	    {"random data over a claim copy",
	     {.mkfs = "xfs", .kind = DVOL_KIND_DATA, .claim = DVOL_CLAIM_DAMAGED},
	     DVOL_ACT_REFUSE,
	     DVOL_WHY_CLAIM_DAMAGED},
	    {"another filesystem made by hand after a kill",
	     {.mkfs = "xfs",
	      .kind = DVOL_KIND_FS,
	      .fstype = "xfs",
	      .uuid = U2,
	      .claim = DVOL_CLAIM_OURS},
	     DVOL_ACT_REFUSE,
	     DVOL_WHY_CLAIM_CONTENT},
	    {"a filesystem without a UUID made by hand after a kill",
	     {.mkfs = "xfs", .kind = DVOL_KIND_FS, .fstype = "xfs", .claim = DVOL_CLAIM_OURS},
	     DVOL_ACT_REFUSE,
	     DVOL_WHY_CLAIM_CONTENT},
	    {"a loop offset changed after a kill",
	     {.mkfs = "xfs", .kind = DVOL_KIND_DATA, .claim = DVOL_CLAIM_FOREIGN},
	     DVOL_ACT_REFUSE,
	     DVOL_WHY_CLAIM_FOREIGN},
	    {"a read-only blank device",
	     {.mkfs = "ext4", .kind = DVOL_KIND_BLANK, .read_only = true},
	     DVOL_ACT_REFUSE,
	     DVOL_WHY_READ_ONLY},
	    {"a read-only filesystem is mounted",
	     {.mkfs = "ext4", .kind = DVOL_KIND_FS, .fstype = "ext4", .read_only = true},
	     DVOL_ACT_MOUNT,
	     DVOL_WHY_FS},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		struct dvol_blk_facts f = t[i].f;
		struct dvol_blk_decision d;

		f.claimed = &claim_xfs;
		d = dvol_blk_decide(&f);
		if (d.action != t[i].action || d.reason != t[i].reason)
			fail_msg("%s: got %s (%d), wanted %s (%d)", t[i].name,
				 dvol_blk_action_to_string(d.action), d.reason,
				 dvol_blk_action_to_string(t[i].action), t[i].reason);
	}
}

/* Every reason has its words and its -errno; only the ones that go ahead have no error. */
static void test_explain_every_reason(void **state)
{
	static const struct {
		enum dvol_blk_reason reason;
		int want;
		const char *starts; /* the message begins so; NULL: no message */
	} t[] = {
	    {DVOL_WHY_FS, 0, NULL},
	    {DVOL_WHY_BLANK, 0, NULL},
	    {DVOL_WHY_CLAIM, 0, "DISK: dvol's format as xfs (UUID=" U1 ") was started"},
	    {DVOL_WHY_FS_MISMATCH, -EMEDIUMTYPE, "DISK holds an WHAT, but mkfs=ext4 was asked"},
	    {DVOL_WHY_NO_MKFS, -ENOMEDIUM, "DISK is blank (WHAT) and no mkfs= was given"},
	    {DVOL_WHY_PROBES_DISAGREE, -EIO, "DISK: two probes disagree (first FIRST, then WHAT)"},
	    {DVOL_WHY_DATA, -EMEDIUMTYPE, "refusing to format DISK: found WHAT. It may hold"},
	    {DVOL_WHY_OTHER, -EMEDIUMTYPE, "refusing to format DISK: found WHAT. dvol formats"},
	    {DVOL_WHY_CLAIM_NO_MKFS, -EMEDIUMTYPE, "DISK holds dvol's unfinished format as xfs"},
	    {DVOL_WHY_CLAIM_FSTYPE, -EMEDIUMTYPE, "DISK holds dvol's unfinished format as xfs"},
	    {DVOL_WHY_CLAIM_CONTENT, -EMEDIUMTYPE, "refusing to format DISK: it carries dvol's"},
	    {DVOL_WHY_CLAIM_FOREIGN, -EMEDIUMTYPE, "refusing to format DISK: it carries a format"},
	    {DVOL_WHY_CLAIM_DAMAGED, -EMEDIUMTYPE, "refusing to format DISK: it carries a format"},
	    {DVOL_WHY_READ_ONLY, -EROFS, "DISK is read-only (write-protected)"},
	    {DVOL_WHY_IN_USE, -EBUSY, "DISK is in use"},
	};
	const struct dvol_blk_words w = {.desc = "DISK",
					 .node = "/dev/loop7",
					 .mkfs = "ext4",
					 .first = "FIRST",
					 .what = "WHAT",
					 .fstype = "btrfs",
					 .claimed = &claim_xfs};
	bool seen[_DVOL_WHY_MAX] = {false};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		static char unset;
		char *text = &unset;

		print_message("reason %d\n", t[i].reason);
		assert_int_equal(dvol_blk_explain(t[i].reason, &w, &text), t[i].want);
		if (!t[i].starts) {
			assert_null(text);
		} else {
			assert_non_null(text);
			if (strncmp(text, t[i].starts, strlen(t[i].starts)) != 0)
				fail_msg("reason %d: \"%s\"", t[i].reason, text);
			assert_null(strstr(text, "(null)"));
			/* A refusal says what to do about it, with the device's path. */
			if (t[i].want < 0 && t[i].reason != DVOL_WHY_NO_MKFS &&
			    t[i].reason != DVOL_WHY_PROBES_DISAGREE &&
			    t[i].reason != DVOL_WHY_CLAIM_NO_MKFS && t[i].reason != DVOL_WHY_IN_USE)
				assert_non_null(strstr(text, "/dev/loop7"));
		}
		if (text != &unset)
			free(text);
		seen[t[i].reason] = true;
	}
	for (int r = 0; r < _DVOL_WHY_MAX; r++)
		if (!seen[r])
			fail_msg("reason %d has no row in this table", r);
	/* Without mkfs=, a refusal is of a mount. */
	{
		struct dvol_blk_words m = w;
		char *text = NULL;

		m.mkfs = NULL;
		assert_int_equal(dvol_blk_explain(DVOL_WHY_DATA, &m, &text), -EMEDIUMTYPE);
		assert_non_null(strstr(text, "refusing to mount DISK"));
		free(text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crc32),
	    cmocka_unit_test(test_offsets),
	    cmocka_unit_test(test_encode_classify),
	    cmocka_unit_test(test_combine),
	    cmocka_unit_test(test_decide_every_combination),
	    cmocka_unit_test(test_decide_cases),
	    cmocka_unit_test(test_explain_every_reason),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
