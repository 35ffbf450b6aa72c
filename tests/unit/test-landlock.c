/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Landlock against the real kernel: each case forks a child that confines itself to a
 * scratch tree and then tries things inside and outside it.
 */
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "landlock.h"

static char dir[] = "/tmp/dvol-test-landlock.XXXXXX";
static char outside[] = "/tmp/dvol-test-landlock-out.XXXXXX";

static void touch(const char *d, const char *name)
{
	char p[256];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", d, name);
	fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
}

static int setup(void **state)
{
	if (!mkdtemp(dir) || !mkdtemp(outside))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", dir, outside);
	return system(cmd);
}

/* Confine a child to DIR (with REMOVE), run FN; its exit code: 0 ok, errno otherwise. */
static int in_child(bool remove, int (*fn)(void))
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		int r = fd < 0 ? -errno : dvol_landlock_beneath(&fd, 1, remove);

		if (r == 0)
			_exit(200); /* no Landlock in this kernel */
		if (r < 0)
			_exit(201);
		_exit(fn());
	}
	assert_true(waitpid(pid, &st, 0) == pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static int rc(int r)
{
	return r < 0 ? errno : 0;
}

static char p_in[256], p_out[256], p_in2[256], p_new[256];

static int read_inside(void)
{
	return rc(open(p_in, O_RDONLY | O_CLOEXEC));
}
static int read_outside(void)
{
	return rc(open(p_out, O_RDONLY | O_CLOEXEC));
}
static int write_inside(void)
{
	return rc(open(p_in, O_WRONLY | O_CLOEXEC));
}
static int create_inside(void)
{
	return rc(open(p_new, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
}
static int unlink_inside(void)
{
	return rc(unlink(p_in2));
}
static int unlink_outside(void)
{
	return rc(unlink(p_out));
}

static void test_beneath(void **state)
{
	int r;

	touch(dir, "in");
	touch(dir, "in2");
	touch(outside, "out");
	snprintf(p_in, sizeof(p_in), "%s/in", dir);
	snprintf(p_in2, sizeof(p_in2), "%s/in2", dir);
	snprintf(p_new, sizeof(p_new), "%s/new", dir);
	snprintf(p_out, sizeof(p_out), "%s/out", outside);

	r = in_child(true, read_inside);
	if (r == 200)
		skip();
	assert_int_equal(r, 0);
#ifdef DVOL_SANITIZE
	/* a sanitizer build lets reading pass (the runtime reads /proc/self) */
	assert_int_equal(in_child(true, read_outside), 0);
#else
	assert_int_equal(in_child(true, read_outside), EACCES);
#endif
	assert_int_equal(in_child(true, write_inside), EACCES);
	assert_int_equal(in_child(true, create_inside), EACCES);
	assert_int_equal(in_child(true, unlink_outside), EACCES);
	assert_int_equal(in_child(false, unlink_inside), EACCES);
	assert_int_equal(access(p_in2, F_OK), 0);
	assert_int_equal(in_child(true, unlink_inside), 0);
	assert_int_equal(access(p_in2, F_OK), -1);
	assert_int_equal(access(p_out, F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_beneath),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
