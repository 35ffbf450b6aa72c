/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a probe process hands its parent is believed only as one whole frame of this
 * version: the table of refusals below. Then one real probe process, against a refused
 * port on loopback, and what the parent makes of a pipe that says too little or too much.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fdutil.h"
#include "probechild.h"
#include "timeutil.h"

static void target_ok(struct dvol_nfs_target *t)
{
	const char *why;

	assert_int_equal(dvol_nfs_target_parse("nfs://127.0.0.1/x", t, &why), 0);
	t->resolved = t->tcp = true;
	t->versions = DVOL_NFS_V4 | DVOL_NFS_V4_2;
	t->export_v4 = DVOL_NFS_YES;
	strcpy(t->addr, "127.0.0.1");
	t->detail = strdup("fine");
	assert_non_null(t->detail);
}

enum change {
	NONE,
	TRUNC_1,
	TRUNC_HALF,
	EMPTY,
	OVER_1,
	OVER_2X,
	MAGIC,
	VERSION,
	SIZE,
	LEN_OVER,
	LIST_MISSING,
	RESERVED,
	FIELD,
	GARBAGE,
	ZEROS
};

static void test_frame_refusals(void **state)
{
	static const struct {
		const char *name;
		enum change change;
		int want;
	} cases[] = {
	    {"a whole frame", NONE, 0},
	    {"truncated by one byte", TRUNC_1, -EBADMSG},
	    {"truncated to half", TRUNC_HALF, -EBADMSG},
	    {"empty", EMPTY, -EBADMSG},
	    {"one byte too many", OVER_1, -EBADMSG},
	    {"two frames", OVER_2X, -EBADMSG},
	    {"another magic", MAGIC, -EBADMSG},
	    {"another version", VERSION, -EBADMSG},
	    {"a size field that lies", SIZE, -EBADMSG},
	    {"a list longer than any frame's, not sent", LEN_OVER, -EBADMSG},
	    {"a list said, but not sent", LIST_MISSING, -EBADMSG},
	    {"reserved bits set", RESERVED, -EBADMSG},
	    {"a field out of range inside", FIELD, -EBADMSG},
	    {"random bytes", GARBAGE, -EBADMSG},
	    {"all zeros", ZEROS, -EBADMSG},
	};
	struct dvol_nfs_target t, u;
	struct dvol_probe_frame f;
	char buf[2 * sizeof(f) + 1];
	const char *why;

	target_ok(&t);
	dvol_probe_frame_pack(&t, 2, &f);
	/* No export list: the header is the whole frame. */
	assert_int_equal(f.size, DVOL_PROBE_FRAME_HEADER);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dvol_probe_frame g = f;
		size_t len = f.size;
		unsigned attempts = 0;

		switch (cases[i].change) {
		case TRUNC_1:
			len--;
			break;
		case TRUNC_HALF:
			len /= 2;
			break;
		case EMPTY:
			len = 0;
			break;
		case OVER_1:
			len++;
			break;
		case OVER_2X:
			len *= 2;
			break;
		case MAGIC:
			g.magic = DVOL_NFS_RESULT_MAGIC;
			break;
		case VERSION:
			g.version = DVOL_PROBE_FRAME_VERSION + 1;
			break;
		case SIZE:
			g.size--;
			break;
		case LEN_OVER:
			g.export_bytes = DVOL_PROBE_EXPORTS_BYTES + 1;
			g.size = (uint32_t)(DVOL_PROBE_FRAME_HEADER + g.export_bytes);
			break;
		case LIST_MISSING:
			g.export_flags = DVOL_PROBE_EXPORTS_LISTED;
			g.export_count = 1;
			g.export_bytes = 3;
			g.size = (uint32_t)(DVOL_PROBE_FRAME_HEADER + g.export_bytes);
			break;
		case RESERVED:
			g.reserved = 1;
			break;
		case FIELD:
			g.result.err = _DVOL_NFS_ERR_MAX;
			break;
		case GARBAGE:
			srand(12);
			for (size_t k = 0; k < len; k++)
				((unsigned char *)&g)[k] = (unsigned char)rand();
			break;
		case ZEROS:
			memset(&g, 0, sizeof(g));
			break;
		case NONE:
			break;
		}
		memcpy(buf, &g, f.size);
		memcpy(buf + f.size, &f, f.size);
		assert_int_equal(dvol_nfs_target_parse("nfs://127.0.0.1/x", &u, &why), 0);
		print_message("%s\n", cases[i].name);
		/* Unaligned on purpose: the bytes come from a pipe, not as a struct. */
		memmove(buf + 1, buf, len);
		assert_int_equal(dvol_probe_frame_unpack(buf + 1, len, &u, &attempts),
				 cases[i].want);
		if (cases[i].want == 0) {
			assert_int_equal(attempts, 2);
			assert_int_equal(u.err, DVOL_NFS_OK);
			assert_int_equal(u.versions, t.versions);
			assert_string_equal(u.detail, "fine");
		} else {
			/* A refused frame leaves the target as it was. */
			assert_int_equal(u.err, DVOL_NFS_OK);
			assert_int_equal(u.versions, 0);
			assert_null(u.detail);
		}
		dvol_nfs_target_done(&u);
	}
	dvol_nfs_target_done(&t);
}

/* Exports: a frame with LIST packed (a NULL-terminated list, or NULL), unpacked into U. */
static int export_roundtrip(char **list, struct dvol_probe_frame *f, struct dvol_nfs_target *u)
{
	struct dvol_nfs_target t;
	const char *why;

	target_ok(&t);
	t.exports = list;
	dvol_probe_frame_pack(&t, 1, f);
	t.exports = NULL;
	dvol_nfs_target_done(&t);
	assert_int_equal(dvol_nfs_target_parse("nfs://127.0.0.1/x", u, &why), 0);
	return dvol_probe_frame_unpack(f, f->size, u, NULL);
}

enum export_change {
	X_NONE,
	X_COUNT_MORE,	  /* a count larger than the names sent */
	X_COUNT_LESS,	  /* more names than counted */
	X_BYTES_SHORT,	  /* the last name's NUL outside the bytes said used */
	X_BYTES_OVER,	  /* more bytes used than the frame holds */
	X_COUNT_OVER,	  /* more names than any frame may hold */
	X_LONG_NAME,	  /* one name longer than the limit */
	X_UNPRINTABLE,	  /* a control byte inside a name */
	X_TAIL,		  /* a byte after the used ones, sent */
	X_FLAGS,	  /* an unknown flag */
	X_CUT_UNLISTED,	  /* cut, but never listed */
	X_UNLISTED_NAMES, /* names, but not listed */
	X_INDEX,
};

static void test_frame_exports(void **state)
{
	static const struct {
		const char *name;
		enum export_change change;
		int want;
	} cases[] = {
	    {"the list as sent", X_NONE, 0},
	    {"a count larger than the names sent", X_COUNT_MORE, -EBADMSG},
	    {"more names than counted", X_COUNT_LESS, -EBADMSG},
	    {"a list truncated inside its last name", X_BYTES_SHORT, -EBADMSG},
	    {"a used length past the frame", X_BYTES_OVER, -EBADMSG},
	    {"a count past the limit", X_COUNT_OVER, -EBADMSG},
	    {"an over-long name", X_LONG_NAME, -EBADMSG},
	    {"a control byte in a name", X_UNPRINTABLE, -EBADMSG},
	    {"a byte after the list", X_TAIL, -EBADMSG},
	    {"an unknown flag", X_FLAGS, -EBADMSG},
	    {"cut but not listed", X_CUT_UNLISTED, -EBADMSG},
	    {"names but not listed", X_UNLISTED_NAMES, -EBADMSG},
	    {"an index past the one target", X_INDEX, -EBADMSG},
	};
	char *list[] = {"/srv/a", "/", "/srv/b", NULL};
	static struct dvol_probe_frame f, g;
	struct dvol_nfs_target u;
	const char *why;

	assert_int_equal(export_roundtrip(list, &f, &u), 0);
	assert_int_equal(f.size, DVOL_PROBE_FRAME_HEADER + sizeof("/srv/a\0/\0/srv/b"));
	dvol_nfs_target_done(&u);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;

		g = f;
		switch (cases[i].change) {
		case X_COUNT_MORE:
			g.export_count++;
			break;
		case X_COUNT_LESS:
			g.export_count--;
			break;
		case X_BYTES_SHORT:
			g.export_bytes -= 2;
			break;
		case X_BYTES_OVER:
			g.export_bytes = sizeof(g.exports) + 1;
			break;
		case X_COUNT_OVER:
			g.export_count = DVOL_PROBE_EXPORTS_MAX + 1;
			break;
		case X_LONG_NAME:
			/* One name of limit + 1 bytes, counted and ended right. */
			memset(g.exports, 'a', DVOL_PROBE_EXPORT_NAME_MAX + 1);
			g.exports[DVOL_PROBE_EXPORT_NAME_MAX + 1] = 0;
			g.export_count = 1;
			g.export_bytes = DVOL_PROBE_EXPORT_NAME_MAX + 2;
			break;
		case X_UNPRINTABLE:
			g.exports[1] = '\n';
			break;
		case X_TAIL:
			g.exports[g.export_bytes] = 'x';
			break;
		case X_FLAGS:
			g.export_flags |= 1u << 7;
			break;
		case X_CUT_UNLISTED:
			g.export_flags = DVOL_PROBE_EXPORTS_CUT;
			break;
		case X_UNLISTED_NAMES:
			g.export_flags = 0;
			break;
		case X_INDEX:
			g.index = 1;
			break;
		case X_NONE:
			break;
		}
		/* The size agrees with the list said, so that the list itself is what is judged;
		 * no more is sent than the frame holds. */
		g.size = (uint32_t)(DVOL_PROBE_FRAME_HEADER + g.export_bytes);
		len = g.size < sizeof(g) ? g.size : sizeof(g);
		if (cases[i].change == X_TAIL)
			len++;
		print_message("%s\n", cases[i].name);
		assert_int_equal(dvol_nfs_target_parse("nfs://127.0.0.1/x", &u, &why), 0);
		assert_int_equal(dvol_probe_frame_unpack(&g, len, &u, NULL), cases[i].want);
		if (cases[i].want == 0) {
			assert_non_null(u.exports);
			assert_string_equal(u.exports[0], "/srv/a");
			assert_string_equal(u.exports[1], "/");
			assert_string_equal(u.exports[2], "/srv/b");
			assert_null(u.exports[3]);
			assert_false(u.exports_cut);
		} else {
			assert_null(u.exports);
			assert_null(u.detail);
		}
		dvol_nfs_target_done(&u);
	}
}

/* What the child packs: not listed, listed empty, escaped, and cut where it would not fit. */
static void test_frame_exports_pack(void **state)
{
	static struct dvol_probe_frame f;
	struct dvol_nfs_target u;
	char *empty[] = {NULL};
	char *odd[] = {"/a\nb", NULL};
	char **many = calloc(DVOL_PROBE_EXPORTS_MAX + 2, sizeof(char *));
	char *big = malloc(5000), *cut[3];

	assert_non_null(many);
	assert_non_null(big);
	assert_int_equal(export_roundtrip(NULL, &f, &u), 0);
	assert_null(u.exports);
	assert_int_equal(f.size, DVOL_PROBE_FRAME_HEADER);
	dvol_nfs_target_done(&u);

	assert_int_equal(export_roundtrip(empty, &f, &u), 0);
	assert_non_null(u.exports);
	assert_null(u.exports[0]);
	assert_false(u.exports_cut);
	dvol_nfs_target_done(&u);

	assert_int_equal(export_roundtrip(odd, &f, &u), 0);
	assert_string_equal(u.exports[0], "/a\\nb");
	dvol_nfs_target_done(&u);

	for (size_t i = 0; i <= DVOL_PROBE_EXPORTS_MAX; i++)
		many[i] = "/e";
	assert_int_equal(export_roundtrip(many, &f, &u), 0);
	assert_int_equal(f.export_count, DVOL_PROBE_EXPORTS_MAX);
	assert_int_equal(f.size, DVOL_PROBE_FRAME_HEADER + 3 * DVOL_PROBE_EXPORTS_MAX);
	assert_true(u.exports_cut);
	assert_non_null(u.exports[DVOL_PROBE_EXPORTS_MAX - 1]);
	assert_null(u.exports[DVOL_PROBE_EXPORTS_MAX]);
	dvol_nfs_target_done(&u);

	/* A name too long to hand over ends the list there, and says so. */
	memset(big, 'b', 4999);
	big[4999] = 0;
	cut[0] = "/first";
	cut[1] = big;
	cut[2] = NULL;
	assert_int_equal(export_roundtrip(cut, &f, &u), 0);
	assert_string_equal(u.exports[0], "/first");
	assert_null(u.exports[1]);
	assert_true(u.exports_cut);
	dvol_nfs_target_done(&u);
	free(big);
	free(many);
}

/* The parent reads to the end of the pipe: a frame with more behind it is refused too, and
 * so is one cut anywhere, in its header or in its list. */
static void test_wait_on_pipe(void **state)
{
	char *list[] = {"/srv/a", "/srv/b", NULL};
	static struct dvol_probe_frame f;
	static char buf[sizeof(f) + 200];
	struct dvol_nfs_target t, u;
	const char *why;

	target_ok(&t);
	t.exports = list;
	dvol_probe_frame_pack(&t, 1, &f);
	t.exports = NULL;
	memcpy(buf, &f, f.size);

	const struct {
		const char *name;
		size_t len;
		int want;
	} cases[] = {
	    {"nothing at all", 0, -EPIPE},
	    {"a short header", DVOL_PROBE_FRAME_HEADER - 8, -EBADMSG},
	    {"the header without its list", DVOL_PROBE_FRAME_HEADER, -EBADMSG},
	    {"a list cut short", f.size - 1, -EBADMSG},
	    {"a whole frame", f.size, 0},
	    {"a frame and more", f.size + 100, -EBADMSG},
	    {"as long as the longest frame", DVOL_PROBE_FRAME_MAX, -EBADMSG},
	    {"longer than any frame", DVOL_PROBE_FRAME_MAX + 100, -EBADMSG},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fds[2];

		print_message("%s\n", cases[i].name);
		assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
		assert_int_equal(dvol_write_all(fds[1], buf, cases[i].len), 0);
		close(fds[1]);
		assert_int_equal(dvol_nfs_target_parse("nfs://127.0.0.1/x", &u, &why), 0);
		assert_int_equal(dvol_probe_wait(fds[0], dvol_now_ms() + 5000, &u, NULL),
				 cases[i].want);
		if (cases[i].want == 0) {
			assert_string_equal(u.exports[0], "/srv/a");
			assert_string_equal(u.exports[1], "/srv/b");
			assert_null(u.exports[2]);
		} else
			assert_null(u.exports);
		close(fds[0]);
		dvol_nfs_target_done(&u);
	}
	dvol_nfs_target_done(&t);
}

/* A writer that says nothing and keeps its end open: the deadline ends the wait. */
static void test_wait_deadline(void **state)
{
	struct dvol_nfs_target u;
	const char *why;
	uint64_t start = dvol_now_ms();
	int fds[2];

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_int_equal(dvol_nfs_target_parse("nfs://127.0.0.1/x", &u, &why), 0);
	assert_int_equal(dvol_probe_wait(fds[0], start + 200, &u, NULL), -ETIMEDOUT);
	assert_true(dvol_now_ms() - start >= 200);
	close(fds[0]);
	close(fds[1]);
	dvol_nfs_target_done(&u);
}

/* A job of several targets: verdicts as they come, by index, until the end or a bad one. */
static void test_wait_all(void **state)
{
	static const struct {
		const char *name;
		/* frames sent, by index; -1: none; 9: half a frame; 8: a frame whose list is cut
		 * short; 7: a header that says more than the longest frame */
		int index[3];
		int want;
		bool got[2];
	} cases[] = {
	    {"nothing: no verdict", {-1, -1, -1}, 0, {false, false}},
	    {"both, out of order", {1, 0, -1}, 0, {true, true}},
	    {"one, then the end", {1, -1, -1}, 0, {false, true}},
	    {"the same one twice: the later stays", {0, 0, -1}, 0, {true, false}},
	    {"an index past the job", {0, 2, 1}, -EBADMSG, {true, false}},
	    {"half a frame after one", {1, 9, -1}, -EBADMSG, {false, true}},
	    {"a list cut short after one", {1, 8, -1}, -EBADMSG, {false, true}},
	    {"a length past the longest, then a whole one", {1, 7, 0}, -EBADMSG, {false, true}},
	};
	char *list[] = {"/srv/a", NULL};
	static struct dvol_probe_frame f;
	struct dvol_nfs_target t, u[2];
	const char *why;

	target_ok(&t);
	t.exports = list;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned attempts[2] = {0, 0};
		bool got[2] = {false, false};
		int fds[2];

		print_message("%s\n", cases[i].name);
		assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
		for (size_t k = 0; k < 3 && cases[i].index[k] >= 0; k++) {
			size_t len;

			dvol_probe_frame_pack(&t, (unsigned)k + 1, &f);
			len = f.size;
			switch (cases[i].index[k]) {
			case 9:
				len /= 2;
				f.index = 0;
				break;
			case 8:
				len--;
				f.index = 0;
				break;
			case 7:
				f.export_bytes = UINT32_MAX - (uint32_t)DVOL_PROBE_FRAME_HEADER;
				f.size = UINT32_MAX;
				f.index = 0;
				break;
			default:
				f.index = (uint32_t)cases[i].index[k];
			}
			assert_int_equal(dvol_write_all(fds[1], &f, len), 0);
		}
		close(fds[1]);
		for (size_t k = 0; k < 2; k++)
			assert_int_equal(dvol_nfs_target_parse("127.0.0.1", &u[k], &why), 0);
		assert_int_equal(
		    dvol_probe_wait_all(fds[0], dvol_now_ms() + 5000, u, 2, attempts, got),
		    cases[i].want);
		for (size_t k = 0; k < 2; k++) {
			assert_int_equal(got[k], cases[i].got[k]);
			assert_int_equal(u[k].versions, got[k] ? t.versions : 0);
			if (got[k])
				assert_string_equal(u[k].exports[0], "/srv/a");
			dvol_nfs_target_done(&u[k]);
		}
		if (cases[i].index[1] == 0 && cases[i].index[0] == 0)
			assert_int_equal(attempts[0], 2);
		close(fds[0]);
	}
	t.exports = NULL;
	dvol_nfs_target_done(&t);
}

static unsigned failures;
static void on_failed(enum dvol_probe_step step, int r, void *userdata)
{
	failures++;
}

/* A real probe process: it probes a refused port and its verdict arrives. */
static void test_probe_process(void **state)
{
	struct dvol_nfs_target t;
	const char *why;
	unsigned attempts = 0;
	int fd = -EBADF;

	assert_int_equal(dvol_nfs_target_parse("127.0.0.1:1", &t, &why), 0);
	assert_int_equal(dvol_probe_start(&(struct dvol_probe_job){.target = &t,
								   .params = {.timeout_ms = 2000},
								   .failed = on_failed},
					  &fd),
			 0);
	assert_true(fd >= 0);
	assert_int_equal(dvol_probe_wait(fd, dvol_now_ms() + 10000, &t, &attempts), 0);
	assert_int_equal(t.err, DVOL_NFS_REFUSED);
	assert_int_equal(t.err_errno, ECONNREFUSED);
	assert_int_equal(attempts, 1);
	assert_int_equal(failures, 0);
	close(fd);
	dvol_nfs_target_done(&t);
}

/* A real probe process for two targets: both verdicts arrive, each in its place. */
static void test_probe_process_many(void **state)
{
	struct dvol_nfs_target t[2];
	unsigned attempts[2] = {0, 0};
	bool got[2] = {false, false};
	const char *why;
	int fd = -EBADF;

	assert_int_equal(dvol_nfs_target_parse("127.0.0.1:1", &t[0], &why), 0);
	assert_int_equal(dvol_nfs_target_parse("nfs://127.0.0.1:2/x", &t[1], &why), 0);
	assert_int_equal(dvol_probe_start(&(struct dvol_probe_job){.target = t,
								   .n_targets = 2,
								   .params = {.timeout_ms = 2000},
								   .failed = on_failed},
					  &fd),
			 0);
	assert_int_equal(dvol_probe_wait_all(fd, dvol_now_ms() + 10000, t, 2, attempts, got), 0);
	assert_true(got[0] && got[1]);
	assert_int_equal(t[0].err, DVOL_NFS_REFUSED);
	assert_int_equal(t[1].err, DVOL_NFS_REFUSED);
	assert_string_equal(t[1].export, "/x");
	assert_int_equal(attempts[1], 1);
	close(fd);
	dvol_nfs_target_done(&t[0]);
	dvol_nfs_target_done(&t[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_frame_refusals),     cmocka_unit_test(test_frame_exports),
	    cmocka_unit_test(test_frame_exports_pack), cmocka_unit_test(test_wait_on_pipe),
	    cmocka_unit_test(test_wait_deadline),      cmocka_unit_test(test_wait_all),
	    cmocka_unit_test(test_probe_process),      cmocka_unit_test(test_probe_process_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
