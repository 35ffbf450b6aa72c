/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "mkfs.h"
#include "strv.h"
#include "timeutil.h"

#define OUTPUT_MAX ((size_t)64 * 1024)

int dvol_mkfs_argv(const struct dvol_mkfs *m, char ***ret_argv)
{
	_cleanup_strv_free_ char **v = NULL;
	const char *a[16];
	size_t n = 0;
	bool xfs;

	if (!m->fstype || !m->device)
		return -EINVAL;
	xfs = strcmp(m->fstype, "xfs") == 0;
	if (!xfs && strcmp(m->fstype, "ext4") != 0)
		return -EINVAL;

	char uuidopt[64];
	if (xfs) {
		/* -K: no discard. xfs has no lazy init to ask for: it writes only its headers
		 * and zeroes its log (as write-zeroes). */
		a[n++] = "mkfs.xfs";
		a[n++] = "-q";
		a[n++] = "-K";
		if (m->force)
			a[n++] = "-f";
		if (m->uuid) {
			snprintf(uuidopt, sizeof(uuidopt), "uuid=%s", m->uuid);
			a[n++] = "-m";
			a[n++] = uuidopt;
		}
	} else {
		a[n++] = "mkfs.ext4";
		a[n++] = "-q";
		a[n++] = "-E";
		a[n++] = "nodiscard,lazy_itable_init=1,lazy_journal_init=1";
		if (m->force)
			a[n++] = "-F";
		if (m->uuid) {
			a[n++] = "-U";
			a[n++] = m->uuid;
		}
	}
	if (m->label) {
		a[n++] = "-L";
		a[n++] = m->label;
	}
	a[n++] = m->device;

	v = calloc(n + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(v[i] = strdup(a[i])))
			return -ENOMEM;
	*ret_argv = TAKE_PTR(v);
	return 0;
}

void dvol_mkfs_label_from_path(const char *path, char ret[13])
{
	const char *s = strrchr(path, '/');
	size_t n = 0;

	for (s = s ? s + 1 : path; *s && n < 12; s++)
		if (isalnum((unsigned char)*s) || *s == '-' || *s == '_')
			ret[n++] = *s;
	ret[n] = 0;
	if (n == 0)
		snprintf(ret, 13, "dvol");
}

int dvol_mkfs_new_uuid(char ret[37])
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -errno;
	b[6] = (b[6] & 0x0f) | 0x40; /* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	snprintf(ret, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
	return 0;
}

static int find_program(const char *name, char **ret)
{
	static const char *const dirs[] = {"/usr/sbin", "/sbin", "/usr/bin", "/bin"};

	for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
		char *p;

		if (asprintf(&p, "%s/%s", dirs[i], name) < 0)
			return -ENOMEM;
		if (access(p, X_OK) == 0) {
			*ret = p;
			return 0;
		}
		free(p);
	}
	return -ENOENT;
}

/* PROG started with its input on /dev/null and its output into a pipe, and KEEP_FD left
 * open across the exec: its pid, with *ret_rd the pipe's end to read, or -errno. */
static pid_t mkfs_start(const char *prog, char *const *argv, int keep_fd, int *ret_rd)
{
	static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
	_cleanup_close_ int rd = -EBADF, wr = -EBADF, null = -EBADF;
	int p[2];
	pid_t pid;

	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null < 0)
		return -errno;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	rd = p[0];
	wr = p[1];

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (dup2(null, STDIN_FILENO) < 0 || dup2(wr, STDOUT_FILENO) < 0 ||
		    dup2(wr, STDERR_FILENO) < 0)
			_exit(127);
		if (keep_fd >= 0 && fcntl(keep_fd, F_SETFD, 0) < 0)
			_exit(127);
		execve(prog, argv, envp);
		_exit(127);
	}
	*ret_rd = TAKE_FD(rd);
	return pid;
}

/* The child's output into OUT, its head up to OUTPUT_MAX bytes, until it closes it; at
 * DEADLINE it is killed instead, and this says true. */
static bool mkfs_read_output(int rd, pid_t pid, uint64_t deadline, char *out, size_t *ret_len)
{
	size_t len = 0;
	bool timed_out = false;

	for (;;) {
		struct pollfd pfd = {.fd = rd, .events = POLLIN};
		uint64_t now = dvol_now_ms();
		ssize_t n;
		char sink[4096];
		int r;

		if (now >= deadline) {
			timed_out = true;
			(void)kill(pid, SIGKILL);
			break;
		}
		r = poll(&pfd, 1, (int)(deadline - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		if (len < OUTPUT_MAX)
			n = read(rd, out + len, OUTPUT_MAX - len);
		else
			n = read(rd, sink, sizeof(sink)); /* keep the head, drop the rest */
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* EOF: it exited (or closed its output) */
		if (len < OUTPUT_MAX)
			len += (size_t)n;
	}
	*ret_len = len;
	return timed_out;
}

/* Its output is closed; it may still be finishing: wait, up to the deadline, then kill it
 * (and set *timed_out). */
static int mkfs_wait(pid_t pid, uint64_t deadline, bool *timed_out, int *ret_status)
{
	for (;;) {
		pid_t w = waitpid(pid, ret_status, *timed_out ? 0 : WNOHANG);

		if (w == pid)
			return 0;
		if (w < 0 && errno != EINTR)
			return -errno;
		if (w == 0 && dvol_now_ms() >= deadline) {
			*timed_out = true;
			(void)kill(pid, SIGKILL);
		} else if (w == 0) {
			dvol_sleep_ms(10);
		}
	}
}

int dvol_mkfs_run(char *const *argv, int keep_fd, uint64_t timeout_ms, char **ret_output,
		  int *ret_status)
{
	_cleanup_free_ char *prog = NULL, *out = NULL;
	_cleanup_close_ int rd = -EBADF;
	uint64_t deadline = dvol_now_ms() + timeout_ms;
	size_t len;
	bool timed_out;
	int status, r;
	pid_t pid;

	*ret_output = NULL;
	*ret_status = 0;
	r = find_program(argv[0], &prog);
	if (r < 0)
		return r;
	out = calloc(1, OUTPUT_MAX + 1);
	if (!out)
		return -ENOMEM;
	pid = mkfs_start(prog, argv, keep_fd, &rd);
	if (pid < 0)
		return pid;
	timed_out = mkfs_read_output(rd, pid, deadline, out, &len);
	r = mkfs_wait(pid, deadline, &timed_out, &status);
	if (r < 0)
		return r;
	out[len] = 0;
	*ret_output = TAKE_PTR(out);
	*ret_status = status;
	if (timed_out)
		return -ETIMEDOUT;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EPROTO;
}
