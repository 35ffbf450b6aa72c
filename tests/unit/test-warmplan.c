/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tmpdir.h"

#include "cleanup.h"
#include "strv.h"
#include "warmplan.h"

/* The tree: root/{a.bin,b.bin,.dot.bin,sub/c.bin,sub/deep/d.bin,fifo,link->../outside,
 * dlink->../outdir, hard (a second name of a.bin)}, and outside, outdir/e.bin beside root. */
static int root_fd = -EBADF;

static void mk(const char *rel, size_t bytes)
{
	_cleanup_free_ char *p = NULL, *buf = calloc(1, bytes + 1);
	FILE *f;

	assert_true(asprintf(&p, "%s/%s", dir, rel) > 0);
	f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, bytes, f), bytes);
	fclose(f);
}

static void in_dir(int (*fn)(const char *), const char *rel)
{
	_cleanup_free_ char *p = NULL;

	assert_true(asprintf(&p, "%s/%s", dir, rel) > 0);
	assert_int_equal(fn(p), 0);
}

static int mkdir_0755(const char *p)
{
	return mkdir(p, 0755);
}

static int mkfifo_0644(const char *p)
{
	return mkfifo(p, 0644);
}

static int tree_setup(void **state)
{
	_cleanup_free_ char *p = NULL, *q = NULL;

	if (setup(state) < 0)
		return -1;
	in_dir(mkdir_0755, "root");
	in_dir(mkdir_0755, "root/sub");
	in_dir(mkdir_0755, "root/sub/deep");
	in_dir(mkdir_0755, "outdir");
	mk("root/a.bin", 10);
	mk("root/b.bin", 20);
	mk("root/.dot.bin", 30);
	mk("root/sub/c.bin", 40);
	mk("root/sub/deep/d.bin", 50);
	mk("outside", 60);
	mk("outdir/e.bin", 70);
	in_dir(mkfifo_0644, "root/fifo");
	assert_true(asprintf(&p, "%s/root/link", dir) > 0);
	assert_int_equal(symlink("../outside", p), 0);
	free(p);
	assert_true(asprintf(&p, "%s/root/dlink", dir) > 0);
	assert_int_equal(symlink("../outdir", p), 0);
	free(p);
	assert_true(asprintf(&p, "%s/root/a.bin", dir) > 0);
	assert_true(asprintf(&q, "%s/root/hard", dir) > 0);
	assert_int_equal(link(p, q), 0);
	free(p);
	assert_true(asprintf(&p, "%s/root", dir) > 0);
	root_fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return root_fd >= 0 ? 0 : -1;
}

static int tree_teardown(void **state)
{
	root_fd = safe_close(root_fd);
	return teardown(state);
}

struct seen {
	char what[512];
};

static void on_skip(void *userdata, const struct dvol_warm_pattern *p, enum dvol_warm_skip why,
		    const char *path, int err)
{
	struct seen *s = userdata;
	size_t l = strlen(s->what);

	snprintf(s->what + l, sizeof(s->what) - l, "%s%s:%s", l ? " " : "", path,
		 dvol_warm_skip_to_string(why));
}

/* Each pattern alone: the files it plans (joined by ' '; hard, a second name of a.bin, only
 * once), what it skipped, how many entries it matched. */
static void test_patterns(void **state)
{
	static const struct {
		const char *pattern, *files, *skips;
		size_t matched;
	} cases[] = {
	    {"a.bin", "a.bin", "", 1},
	    {"*.bin", "a.bin b.bin", "", 2},
	    {".*.bin", ".dot.bin", "", 1},
	    {"*", "a.bin b.bin", "dlink:symlink fifo:not-regular link:symlink sub:folder", 7},
	    {"sub/*", "sub/c.bin", "sub/deep:folder", 2},
	    {"*/*/d.bin", "sub/deep/d.bin", "", 1},
	    {"*/e.bin", "", "", 0},
	    {"dlink/e.bin", "", "dlink:symlink", 1},
	    {"link", "", "link:symlink", 1},
	    {"nothing*", "", "", 0},
	    {"nothing", "", "", 0},
	    {"a.bin/x", "", "", 0},
	    {"s?b/c.[ab]in", "sub/c.bin", "", 1},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct dvol_warm_plan plan = {0};
		struct dvol_warm_pattern p = {.text = (char *)cases[i].pattern, .line = 1};
		_cleanup_free_ char *files = NULL;
		struct seen s = {{0}};
		const char *why = NULL;
		size_t matched = 99;

		assert_int_equal(dvol_warm_pattern_split(cases[i].pattern, &p.comps, &why), 0);
		assert_int_equal(dvol_warm_plan_add(root_fd, &p, 0, &plan, on_skip, &s, &matched),
				 0);
		for (size_t k = 0; k < plan.n; k++)
			assert_int_equal(dvol_strextendf(&files, " ", "%s", plan.f[k].path), 0);
		assert_string_equal(files ? files : "", cases[i].files);
		assert_string_equal(s.what, cases[i].skips);
		assert_int_equal(matched, cases[i].matched);
		dvol_warm_comps_free(p.comps);
		dvol_warm_plan_done(&plan);
	}
}

/* A file matched by two patterns, or by two names, is planned once. */
static void test_duplicates(void **state)
{
	struct dvol_warm_plan plan = {0};
	const char *pats[] = {"a.bin", "*.bin", "hard"}, *why = NULL;
	size_t matched = 0;

	for (size_t i = 0; i < ELEMENTSOF(pats); i++) {
		struct dvol_warm_pattern p = {.text = (char *)pats[i], .line = 1};

		assert_int_equal(dvol_warm_pattern_split(pats[i], &p.comps, &why), 0);
		assert_int_equal(
		    dvol_warm_plan_add(root_fd, &p, (unsigned)i, &plan, NULL, NULL, &matched), 0);
		dvol_warm_comps_free(p.comps);
	}
	assert_int_equal(plan.n, 2);
	assert_string_equal(plan.f[0].path, "a.bin");
	assert_string_equal(plan.f[1].path, "b.bin");
	assert_int_equal(plan.f[1].pattern, 1);
	assert_int_equal(plan.dups, 2);
	assert_int_equal(plan.bytes, 30);
	dvol_warm_plan_done(&plan);
}

/* dvol_warm_open(): the planned file, or why not. */
static void test_open(void **state)
{
	struct dvol_warm_plan plan = {0};
	struct dvol_warm_pattern p = {.text = "sub/deep/d.bin", .line = 1};
	struct dvol_warm_file f;
	const char *why = NULL;
	_cleanup_free_ char *d = NULL, *moved = NULL;
	size_t matched = 0;
	struct stat st;
	int fd = -EBADF;

	assert_int_equal(dvol_warm_pattern_split(p.text, &p.comps, &why), 0);
	assert_int_equal(dvol_warm_plan_add(root_fd, &p, 0, &plan, NULL, NULL, &matched), 0);
	dvol_warm_comps_free(p.comps);
	assert_int_equal(plan.n, 1);
	assert_int_equal(dvol_warm_open(root_fd, &plan.f[0], &fd), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 50);
	assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
	close(fd);

	/* Another file under the same name: not the one planned. */
	f = plan.f[0];
	f.ino++;
	assert_int_equal(dvol_warm_open(root_fd, &f, &fd), -EXDEV);
	/* A FIFO is never opened; a link is never followed, at the end or on the way. */
	f.path = "fifo";
	assert_int_equal(dvol_warm_open(root_fd, &f, &fd), -EMEDIUMTYPE);
	f.path = "link";
	assert_int_equal(dvol_warm_open(root_fd, &f, &fd), -ELOOP);
	f.path = "dlink/e.bin";
	assert_int_equal(dvol_warm_open(root_fd, &f, &fd), -ELOOP);

	/* A folder of the path swapped for a link after the plan. */
	assert_true(asprintf(&d, "%s/root/sub/deep", dir) > 0);
	assert_true(asprintf(&moved, "%s/root/sub/deep.real", dir) > 0);
	assert_int_equal(rename(d, moved), 0);
	assert_int_equal(symlink("../../outdir", d), 0);
	assert_int_equal(dvol_warm_open(root_fd, &plan.f[0], &fd), -ELOOP);
	assert_int_equal(unlink(d), 0);
	assert_int_equal(rename(moved, d), 0);
	dvol_warm_plan_done(&plan);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_patterns),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_open),
	};
	return cmocka_run_group_tests(tests, tree_setup, tree_teardown);
}
