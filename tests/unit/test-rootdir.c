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

#include "cleanup.h"
#include "rootdir.h"

static void test_match(void **state)
{
	static const struct dvol_file_id ids[] = {{1, 2}, {1, 3}, {2, 2}};
	static const struct {
		struct dvol_file_id id;
		int want;
	} cases[] = {
	    {{1, 2}, 0},  {{1, 3}, 1},
	    {{2, 2}, 2},  {{2, 3}, -1}, /* the inode of one, the device of another */
	    {{3, 2}, -1}, {{0, 0}, -1},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		assert_int_equal(dvol_rootdir_match(&cases[i].id, ids, ELEMENTSOF(ids)),
				 cases[i].want);
	assert_int_equal(dvol_rootdir_match(&cases[0].id, ids, 0), -1);
}

typedef int (*open_fn)(const char *, int *, char **);

/* Every spelling of "/" and of a system folder opens, and is told apart by what it is. */
static void check_system(open_fn open_root)
{
	static const struct {
		const char *path, *want;
	} cases[] = {
	    {"/", "/"},		  {"//", "/"},	       {"/.", "/"},
	    {"/etc/..", "/"},	  {"/usr/../", "/"},   {"/./etc/../.", "/"},
	    {"///etc//", "/etc"}, {"/usr/./", "/usr"}, {"/proc/", "/proc"},
	    {"/sys/.", "/sys"},	  {"/dev", "/dev"},    {"/var/../var", "/var"},
	};

	assert_string_equal(dvol_rootdir_system[0], "/");
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_close_ int fd = -EBADF;
		const char *which = NULL;

		assert_int_equal(open_root(cases[i].path, &fd, NULL), 0);
		assert_int_equal(dvol_rootdir_is_system(fd, &which), 1);
		assert_string_equal(which, cases[i].want);
	}
}

static void check_links(open_fn open_root)
{
	char tmpl[] = "/tmp/test-rootdir.XXXXXX", buf[5][256];
	const char *d = mkdtemp(tmpl);
	static const struct {
		const char *path; /* below the scratch folder */
		int want;
		const char *at; /* the component named, below the scratch folder */
	} cases[] = {
	    {"/real/cache/hub", 0, NULL},
	    {"/real//cache/./hub/", 0, NULL},
	    {"/link/cache/hub", -ELOOP, "/link"},		    /* the first component below */
	    {"/real/cachelink/hub", -ELOOP, "/real/cachelink"},	    /* one in the middle */
	    {"/real/cache/hublink", -ELOOP, "/real/cache/hublink"}, /* the last */
	    {"/real/cache/hublink/", -ELOOP, "/real/cache/hublink"},
	    {"/real/cache/hub/../../cachelink", -ELOOP, "/real/cache/hub/../../cachelink"},
	    {"/real/nope/x", -ENOENT, "/real/nope"},
	    {"/real/file/x", -ENOTDIR, "/real/file"},
	};

	assert_non_null(d);
	snprintf(buf[0], sizeof(buf[0]), "%s/real", d);
	assert_int_equal(mkdir(buf[0], 0755), 0);
	snprintf(buf[1], sizeof(buf[1]), "%s/real/cache", d);
	assert_int_equal(mkdir(buf[1], 0755), 0);
	snprintf(buf[2], sizeof(buf[2]), "%s/real/cache/hub", d);
	assert_int_equal(mkdir(buf[2], 0755), 0);
	snprintf(buf[3], sizeof(buf[3]), "%s/link", d);
	assert_int_equal(symlink("real", buf[3]), 0);
	snprintf(buf[3], sizeof(buf[3]), "%s/real/cachelink", d);
	assert_int_equal(symlink("cache", buf[3]), 0);
	snprintf(buf[3], sizeof(buf[3]), "%s/real/cache/hublink", d);
	assert_int_equal(symlink("hub", buf[3]), 0);
	snprintf(buf[3], sizeof(buf[3]), "%s/real/file", d);
	assert_int_equal(close(open(buf[3], O_CREAT | O_WRONLY | O_CLOEXEC, 0644)), 0);

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_close_ int fd = -EBADF;
		_cleanup_free_ char *at = NULL;
		const char *which = NULL;
		struct stat a, b;

		snprintf(buf[4], sizeof(buf[4]), "%s%s", d, cases[i].path);
		assert_int_equal(open_root(buf[4], &fd, &at), cases[i].want);
		if (cases[i].want < 0) {
			snprintf(buf[4], sizeof(buf[4]), "%s%s", d, cases[i].at);
			assert_non_null(at);
			assert_string_equal(at, buf[4]);
			continue;
		}
		assert_null(at);
		assert_int_equal(fstat(fd, &a), 0);
		assert_int_equal(stat(buf[2], &b), 0);
		assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
		assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
		assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		assert_int_equal(dvol_rootdir_is_system(fd, &which), 0);
	}
	{
		_cleanup_close_ int fd = -EBADF;
		_cleanup_free_ char *at = NULL;

		assert_int_equal(open_root("real", &fd, &at), -EINVAL);
		assert_int_equal(open_root("/proc/self/cwd", &fd, &at), -ELOOP);
		assert_string_equal(at, "/proc/self");
	}
	{
		static const char *const names[] = {"/link",
						    "/real/cachelink",
						    "/real/cache/hublink",
						    "/real/file",
						    "/real/cache/hub",
						    "/real/cache",
						    "/real",
						    ""};

		for (size_t i = 0; i < ELEMENTSOF(names); i++) {
			struct stat st;

			snprintf(buf[4], sizeof(buf[4]), "%s%s", d, names[i]);
			assert_int_equal(lstat(buf[4], &st), 0);
			assert_int_equal(S_ISDIR(st.st_mode) ? rmdir(buf[4]) : unlink(buf[4]), 0);
		}
	}
}

static void test_open(void **state)
{
	check_system(dvol_rootdir_open);
	check_links(dvol_rootdir_open);
}

/* The walk by hand, as on a kernel without openat2 or under a read-only seccomp stage. */
static void test_open_walk(void **state)
{
	check_system(dvol_rootdir_open_walk);
	check_links(dvol_rootdir_open_walk);
}

/* One step of a safe walk that makes what is missing: never through a link, never a mode
 * wider than asked, and what is there already left as it is. */
static void test_mkdirat(void **state)
{
	char tmpl[] = "/tmp/test-rootdir-mk.XXXXXX", cmd[128];
	const char *d = mkdtemp(tmpl);
	_cleanup_close_ int dfd = -EBADF;
	struct stat st;
	int fd = -EBADF;
	mode_t um = umask(0077);

	assert_non_null(d);
	dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	assert_int_equal(mkdirat(dfd, "target", 0755), 0);
	assert_int_equal(symlinkat("target", dfd, "link"), 0);
	assert_int_equal(symlinkat("target/gone", dfd, "dangling"), 0);
	close(openat(dfd, "file", O_CREAT | O_WRONLY | O_CLOEXEC, 0600));

	/* Made: 1, with the mode asked for despite the umask, and the owner. */
	assert_int_equal(dvol_rootdir_mkdirat(dfd, "new", 0751, 1234, 5678, &fd), 1);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0751);
	assert_int_equal(st.st_uid, 1234);
	assert_int_equal(st.st_gid, 5678);
	close(fd);
	/* There already: 0, left as it is. */
	assert_int_equal(dvol_rootdir_mkdirat(dfd, "new", 0700, 0, 0, &fd), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0751);
	assert_int_equal(st.st_uid, 1234);
	close(fd);
	/* Links, to a folder or to nothing, are refused; nothing is made at their target. */
	assert_int_equal(dvol_rootdir_mkdirat(dfd, "link", 0700, -1, -1, &fd), -ELOOP);
	assert_int_equal(dvol_rootdir_mkdirat(dfd, "dangling", 0700, -1, -1, &fd), -ELOOP);
	assert_int_equal(fstatat(dfd, "target/gone", &st, AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(dvol_rootdir_mkdirat(dfd, "file", 0700, -1, -1, &fd), -ENOTDIR);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(dvol_rootdir_mkdirat(dfd,
						      (const char *[]){"", ".", "..", "a/b"}[i],
						      0700, -1, -1, &fd),
				 -EINVAL);
	umask(um);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_match),
	    cmocka_unit_test(test_open),
	    cmocka_unit_test(test_open_walk),
	    cmocka_unit_test(test_mkdirat),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
