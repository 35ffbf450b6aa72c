/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fdutil.h"
#include "timeutil.h"

static void test_roundtrip(void **state)
{
	char out[100000], in[sizeof(out)];
	int fds[2];
	pid_t pid;

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7);
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	/* More than a pipe holds: the writer is a child, and the reader sees short reads. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		_exit(dvol_write_all(fds[1], out, sizeof(out)) == 0 ? 0 : 1);
	}
	close(fds[1]);
	assert_int_equal(dvol_read_all_until(fds[0], in, sizeof(in), dvol_now_ms() + 10000), 0);
	assert_memory_equal(in, out, sizeof(out));
	/* Then the writer is gone: the end of the pipe, not a timeout. */
	assert_int_equal(dvol_read_all_until(fds[0], in, 1, dvol_now_ms() + 10000), -EPIPE);
	close(fds[0]);
}

static void test_timeout(void **state)
{
	uint64_t start = dvol_now_ms();
	char b[8];
	int fds[2];

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_int_equal(dvol_write_all(fds[1], "abc", 3), 0);
	/* Three bytes of eight, and the writer stays: the deadline ends it. */
	assert_int_equal(dvol_read_all_until(fds[0], b, sizeof(b), start + 100), -ETIMEDOUT);
	assert_true(dvol_now_ms() >= start + 100);
	assert_int_equal(dvol_read_all_until(fds[0], b, 1, start), -ETIMEDOUT);
	close(fds[1]);
	close(fds[0]);
	assert_int_equal(dvol_write_all(fds[1], "x", 1), -EBADF);
}

/* To the end of the pipe: fewer bytes than asked is an answer, not an error. */
static void test_read_to_end(void **state)
{
	char b[8] = {0};
	size_t n = 99;
	int fds[2];

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_int_equal(dvol_write_all(fds[1], "abcdefghij", 10), 0);
	close(fds[1]);
	/* More than asked for stays in the pipe for the next read. */
	assert_int_equal(dvol_read_until(fds[0], b, sizeof(b), dvol_now_ms() + 1000, &n), 0);
	assert_int_equal(n, 8);
	assert_memory_equal(b, "abcdefgh", 8);
	assert_int_equal(dvol_read_until(fds[0], b, sizeof(b), dvol_now_ms() + 1000, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(b, "ij", 2);
	assert_int_equal(dvol_read_until(fds[0], b, sizeof(b), dvol_now_ms() + 1000, &n), 0);
	assert_int_equal(n, 0);
	close(fds[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_read_to_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
