/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "escape.h"
#include "exitcode.h"
#include "fdutil.h"
#include "log.h"
#include "nfsmount.h"
#include "probechild.h"
#include "sandbox.h"
#include "timeutil.h"

static _Noreturn void child_fail(const struct dvol_probe_job *job, enum dvol_probe_step step, int r)
{
	if (job->failed)
		job->failed(step, r, job->userdata);
	_exit(DVOL_EX_SYSERR);
}

struct sender {
	int fd;
	unsigned attempts;
};

/* In the probe process: one target's verdict, as soon as it is in. */
static void frame_send(const struct dvol_nfs_target *t, size_t index, void *userdata)
{
	const struct sender *s = userdata;
	struct dvol_probe_frame frame;

	dvol_probe_frame_pack(t, s->attempts, &frame);
	frame.index = (uint32_t)index;
	if (dvol_write_all(s->fd, &frame, frame.size) < 0)
		_exit(DVOL_EX_SYSERR);
}

/* Many targets in one poll loop, each verdict handed over as it comes. */
static _Noreturn void probe_many(const struct dvol_probe_job *job, int fd)
{
	struct dvol_backoff backoff = job->backoff.pause_ms ? job->backoff : DVOL_NFS_BACKOFF;
	struct sender s = {.fd = fd};
	struct dvol_nfs_probe_params params = job->params;
	uint64_t deadline_ms = job->retry_ms ? dvol_now_ms() + job->retry_ms : 0, pause;
	int r;

	params.finished = frame_send;
	params.userdata = &s;
	for (;;) {
		bool again = false;

		s.attempts++;
		r = dvol_nfs_probe(job->target, job->n_targets, &params);
		if (r < 0)
			child_fail(job, DVOL_PROBE_STEP_PROBE, r);
		for (size_t i = 0; i < job->n_targets; i++)
			if (job->target[i].err != DVOL_NFS_OK &&
			    (job->retry_any || dvol_nfs_err_is_transient(job->target[i].err)))
				again = true;
		if (!again)
			break;
		pause = dvol_backoff_next(&backoff, dvol_now_ms(), deadline_ms);
		if (!pause)
			break;
		if (job->retrying)
			for (size_t i = 0; i < job->n_targets; i++)
				if (job->target[i].err != DVOL_NFS_OK)
					job->retrying(&job->target[i], pause, job->userdata);
		dvol_sleep_ms(pause);
	}
	_exit(0);
}

static _Noreturn void probe_child(const struct dvol_probe_job *job, int fd, pid_t parent)
{
	struct dvol_nfs_target *t = job->target;
	struct dvol_backoff backoff = job->backoff.pause_ms ? job->backoff : DVOL_NFS_BACKOFF;
	struct dvol_probe_frame frame;
	uint64_t deadline_ms, pause;
	unsigned attempts = 0;
	int r;

	/* Nothing of the parent's but the pipe and stdio. */
	if (fd > 3)
		(void)close_range(3, (unsigned)fd - 1, 0);
	(void)close_range((unsigned)fd + 1, ~0u, 0);
	r = dvol_nfs_drop_privileges();
	if (r < 0)
		child_fail(job, DVOL_PROBE_STEP_PRIVILEGES, r);
	/* Set after the uid change, which clears it: no orphan probes a server on. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(DVOL_EX_SYSERR);
	r = dvol_sandbox_enter(DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_INET);
	if (r < 0)
		child_fail(job, DVOL_PROBE_STEP_SANDBOX, r);
	/* A server that closes its end must not kill the probe with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	dvol_debug_stop("probe");

	if (job->n_targets > 1)
		probe_many(job, fd);
	deadline_ms = job->retry_ms ? dvol_now_ms() + job->retry_ms : 0;
	for (;;) {
		attempts++;
		r = dvol_nfs_probe(t, 1, &job->params);
		if (r < 0)
			child_fail(job, DVOL_PROBE_STEP_PROBE, r);
		if (t->err == DVOL_NFS_OK ||
		    (!job->retry_any && !dvol_nfs_err_is_transient(t->err)))
			break;
		pause = dvol_backoff_next(&backoff, dvol_now_ms(), deadline_ms);
		if (!pause)
			break;
		if (job->retrying)
			job->retrying(t, pause, job->userdata);
		dvol_sleep_ms(pause);
	}
	dvol_probe_frame_pack(t, attempts, &frame);
	if (dvol_write_all(fd, &frame, frame.size) < 0)
		_exit(DVOL_EX_SYSERR);
	_exit(0);
}

int dvol_probe_start(const struct dvol_probe_job *job, int *ret_fd)
{
	pid_t parent = getpid(), pid;
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	signal(SIGCHLD, SIG_IGN);
	/* What stdio holds would otherwise be written twice, once by each process. */
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int r = -errno;

		safe_close(fds[0]);
		safe_close(fds[1]);
		return r;
	}
	if (pid == 0) {
		safe_close(fds[0]);
		probe_child(job, fds[1], parent);
	}
	safe_close(fds[1]);
	*ret_fd = fds[0];
	return 0;
}

int dvol_probe_wait(int fd, uint64_t until_ms, struct dvol_nfs_target *t, unsigned *ret_attempts)
{
	/* One byte more than the longest frame: a longer message is told from a whole one. */
	union {
		struct dvol_probe_frame frame;
		char bytes[DVOL_PROBE_FRAME_MAX + 1];
	} buf;
	size_t len = 0;
	int r;

	r = dvol_read_until(fd, buf.bytes, sizeof(buf.bytes), until_ms, &len);
	if (r < 0)
		return r;
	if (len == 0)
		return -EPIPE;
	return dvol_probe_frame_unpack(buf.bytes, len, t, ret_attempts);
}

/* The list as far as it fits: whole names only, the first that does not fit ends it. */
static void exports_pack(const struct dvol_nfs_target *t, struct dvol_probe_frame *f)
{
	char name[DVOL_PROBE_EXPORT_NAME_MAX + 1];

	if (!t->exports)
		return;
	f->export_flags = DVOL_PROBE_EXPORTS_LISTED | (t->exports_cut ? DVOL_PROBE_EXPORTS_CUT : 0);
	for (char **x = t->exports; *x; x++) {
		size_t len = dvol_escape_name(*x, name, sizeof(name));

		if (f->export_count == DVOL_PROBE_EXPORTS_MAX || len > DVOL_PROBE_EXPORT_NAME_MAX ||
		    len + 1 > sizeof(f->exports) - f->export_bytes) {
			f->export_flags |= DVOL_PROBE_EXPORTS_CUT;
			return;
		}
		memcpy(f->exports + f->export_bytes, name, len + 1);
		f->export_bytes += (uint32_t)len + 1;
		f->export_count++;
	}
}

/* Every name counted is there, whole, within bounds and printable; nothing else is. */
static bool exports_valid(const struct dvol_probe_frame *f)
{
	size_t pos = 0;

	if ((f->export_flags & ~(DVOL_PROBE_EXPORTS_LISTED | DVOL_PROBE_EXPORTS_CUT)) ||
	    f->export_count > DVOL_PROBE_EXPORTS_MAX || f->export_bytes > sizeof(f->exports))
		return false;
	if (!(f->export_flags & DVOL_PROBE_EXPORTS_LISTED) &&
	    (f->export_flags || f->export_count || f->export_bytes))
		return false;
	for (uint32_t i = 0; i < f->export_count; i++) {
		const char *s = f->exports + pos, *z = memchr(s, 0, f->export_bytes - pos);

		if (!z || (size_t)(z - s) > DVOL_PROBE_EXPORT_NAME_MAX)
			return false;
		for (; s < z; s++)
			if (*s < 0x20 || *s > 0x7e)
				return false;
		pos += (size_t)(z - (f->exports + pos)) + 1;
	}
	return pos == f->export_bytes;
}

static int exports_unpack(const struct dvol_probe_frame *f, struct dvol_nfs_target *t)
{
	const char *s = f->exports;

	if (!(f->export_flags & DVOL_PROBE_EXPORTS_LISTED))
		return 0;
	t->exports = calloc(f->export_count + 1, sizeof(char *));
	if (!t->exports)
		return -ENOMEM;
	for (uint32_t i = 0; i < f->export_count; i++) {
		t->exports[i] = strdup(s);
		if (!t->exports[i])
			return -ENOMEM;
		s += strlen(s) + 1;
	}
	t->exports_cut = f->export_flags & DVOL_PROBE_EXPORTS_CUT;
	return 0;
}

void dvol_probe_frame_pack(const struct dvol_nfs_target *t, unsigned attempts,
			   struct dvol_probe_frame *ret)
{
	/* The header only: exports_pack() writes the list, and no more of it is sent. */
	memset(ret, 0, DVOL_PROBE_FRAME_HEADER);
	ret->magic = DVOL_PROBE_FRAME_MAGIC;
	ret->version = DVOL_PROBE_FRAME_VERSION;
	dvol_nfs_result_pack(t, attempts, &ret->result);
	exports_pack(t, ret);
	ret->size = (uint32_t)(DVOL_PROBE_FRAME_HEADER + ret->export_bytes);
}

/* The length of the frame whose header is H, from what it says of itself; -EBADMSG when
 * that is not a frame of this version or is longer than any frame may be. */
static ssize_t frame_len(const struct dvol_probe_frame *h)
{
	if (h->magic != DVOL_PROBE_FRAME_MAGIC || h->version != DVOL_PROBE_FRAME_VERSION ||
	    h->export_bytes > DVOL_PROBE_EXPORTS_BYTES ||
	    h->size != DVOL_PROBE_FRAME_HEADER + h->export_bytes)
		return -EBADMSG;
	return h->size;
}

/* LEN bytes as one frame for a job of N targets, into T[index]; the index, or -errno. */
static int frame_unpack(const void *buf, size_t len, struct dvol_nfs_target *t, size_t n,
			unsigned *ret_attempts)
{
	struct dvol_probe_frame f;
	int r;

	if (len < DVOL_PROBE_FRAME_HEADER)
		return -EBADMSG;
	/* A copy: BUF need not be aligned for the frame. The header first, to learn how
	 * long the frame says it is, and only then its list, never past LEN. */
	memcpy(&f, buf, DVOL_PROBE_FRAME_HEADER);
	if (frame_len(&f) != (ssize_t)len)
		return -EBADMSG;
	memcpy(f.exports, (const char *)buf + DVOL_PROBE_FRAME_HEADER, f.export_bytes);
	if (f.reserved != 0 || f.index >= n || !exports_valid(&f))
		return -EBADMSG;
	r = dvol_nfs_result_unpack(&f.result, &t[f.index], ret_attempts);
	if (r < 0)
		return r;
	r = exports_unpack(&f, &t[f.index]);
	return r < 0 ? r : (int)f.index;
}

int dvol_probe_frame_unpack(const void *buf, size_t len, struct dvol_nfs_target *t,
			    unsigned *ret_attempts)
{
	int r = frame_unpack(buf, len, t, 1, ret_attempts);

	return r < 0 ? r : 0;
}

int dvol_probe_wait_all(int fd, uint64_t until_ms, struct dvol_nfs_target *t, size_t n,
			unsigned *attempts, bool *got)
{
	struct dvol_probe_frame buf;
	unsigned a = 0;

	for (;;) {
		size_t len = 0, more = 0;
		ssize_t want;
		int r = dvol_read_until(fd, &buf, DVOL_PROBE_FRAME_HEADER, until_ms, &len);

		if (r < 0)
			return r;
		if (len == 0)
			return 0;
		if (len < DVOL_PROBE_FRAME_HEADER)
			return -EBADMSG;
		want = frame_len(&buf);
		if (want < 0)
			return (int)want;
		r = dvol_read_until(fd, buf.exports, buf.export_bytes, until_ms, &more);
		if (r < 0)
			return r;
		if (more < buf.export_bytes)
			return -EBADMSG;
		r = frame_unpack(&buf, (size_t)want, t, n, &a);
		if (r < 0)
			return r;
		attempts[r] = a;
		got[r] = true;
	}
}
