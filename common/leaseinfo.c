/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "escape.h"
#include "json.h"
#include "leaseinfo.h"
#include "timeutil.h"

/* dvol-writer status's exit codes (dvol-writer(8)). */
#define WRITER_STATUS_HELD 0
#define WRITER_STATUS_FREE 3

/* After the kill: how long a run may take to go before it is left to be reaped later. */
#define REAP_GRACE_MS 1000

static inline void json_tokener_freep(struct json_tokener **t)
{
	if (*t)
		json_tokener_free(*t);
}

/* The child: `PROG status --json TARGET` on OUT and ERR. Never returns. */
static void ask_child(const char *prog, const char *target, int out, int err)
{
	char *argv[] = {(char *)"dvol-writer", (char *)"status", (char *)"--json", (char *)target,
			NULL};
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
	    dup2(err, STDERR_FILENO) < 0)
		_exit(127);
	if (setenv("DVOL_LOG", "stderr", 1) < 0)
		_exit(127);
	execv(prog, argv);
	dprintf(STDERR_FILENO, "cannot run %s: %s\n", prog, strerror(errno));
	_exit(127);
}

int dvol_lease_ask_start(const char *prog, const char *target, struct dvol_lease_ask *ret)
{
	int out[2] = {-EBADF, -EBADF}, err[2] = {-EBADF, -EBADF};
	pid_t pid;

	*ret = (struct dvol_lease_ask){.out_fd = -EBADF, .err_fd = -EBADF};
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		ret->answer.spawn_error = -errno;
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		ret->answer.spawn_error = -errno;
		goto fail;
	}
	if (pid == 0)
		ask_child(prog, target, out[1], err[1]);
	safe_close(out[1]);
	safe_close(err[1]);
	ret->pid = pid;
	ret->out_fd = out[0];
	ret->err_fd = err[0];
	return 0;
fail:
	safe_close(out[0]);
	safe_close(out[1]);
	safe_close(err[0]);
	safe_close(err[1]);
	return ret->answer.spawn_error == -ENOMEM ? -ENOMEM : 0;
}

/* What is there to read on *FD into *BUF (*LEN; what does not fit is read and dropped);
 * the fd closed at its end or on an error. Whether something was read. */
static bool ask_read(int *fd, char **buf, size_t *len)
{
	char chunk[4096];
	ssize_t l;

	l = read(*fd, chunk, sizeof(chunk));
	if (l < 0 && (errno == EINTR || errno == EAGAIN))
		return false;
	if (l <= 0) {
		*fd = safe_close(*fd);
		return false;
	}
	if (!*buf) {
		*buf = malloc(DVOL_LEASE_ANSWER_MAX + 1);
		if (!*buf) {
			*fd = safe_close(*fd);
			return false;
		}
	}
	if ((size_t)l > DVOL_LEASE_ANSWER_MAX - *len)
		l = (ssize_t)(DVOL_LEASE_ANSWER_MAX - *len);
	memcpy(*buf + *len, chunk, (size_t)l);
	*len += (size_t)l;
	(*buf)[*len] = '\0';
	return true;
}

/* A run that has ended: the rest of what it wrote, which no one writes to any more. */
static void ask_drain(struct dvol_lease_ask *a)
{
	if (a->out_fd >= 0 && fcntl(a->out_fd, F_SETFL, O_NONBLOCK) == 0)
		while (a->out_fd >= 0 && ask_read(&a->out_fd, &a->answer.out, &a->answer.out_len))
			;
	if (a->err_fd >= 0 && fcntl(a->err_fd, F_SETFL, O_NONBLOCK) == 0)
		while (a->err_fd >= 0 && ask_read(&a->err_fd, &a->answer.err, &a->answer.err_len))
			;
}

/* Reap A if it has ended: true once it is reaped. */
static bool ask_reap(struct dvol_lease_ask *a)
{
	int status;
	pid_t p;

	if (a->pid <= 0)
		return true;
	p = waitpid(a->pid, &status, WNOHANG);
	if (p == 0 || (p < 0 && errno == EINTR))
		return false;
	if (p == a->pid)
		a->answer.status = status;
	a->pid = 0;
	return true;
}

int dvol_lease_ask_wait(struct dvol_lease_ask *asks, size_t n, uint64_t deadline_ms)
{
	_cleanup_free_ struct pollfd *pfd = calloc(2 * n + 1, sizeof(*pfd));
	_cleanup_free_ int **which = calloc(2 * n + 1, sizeof(*which));
	_cleanup_free_ size_t *owner = calloc(2 * n + 1, sizeof(*owner));
	int r = 0;

	if (!pfd || !which || !owner)
		r = -ENOMEM;
	for (;;) {
		uint64_t now = dvol_now_ms();
		bool waiting = false, ended_unreaped = false;
		size_t k = 0;
		int timeout;

		for (size_t i = 0; i < n; i++) {
			struct dvol_lease_ask *a = &asks[i];

			if (a->out_fd < 0 && a->err_fd < 0 && ask_reap(a))
				continue;
			waiting = true;
			if (a->out_fd < 0 && a->err_fd < 0)
				ended_unreaped = true;
			if (r < 0)
				continue;
			if (a->out_fd >= 0) {
				pfd[k] = (struct pollfd){.fd = a->out_fd, .events = POLLIN};
				which[k] = &a->out_fd;
				owner[k++] = i;
			}
			if (a->err_fd >= 0) {
				pfd[k] = (struct pollfd){.fd = a->err_fd, .events = POLLIN};
				which[k] = &a->err_fd;
				owner[k++] = i;
			}
		}
		if (!waiting || r < 0 || now >= deadline_ms)
			break;
		/* Both pipes at their end, the process not yet reaped: look again soon. */
		timeout = deadline_ms - now > 10000 ? 10000 : (int)(deadline_ms - now);
		if (ended_unreaped && timeout > 10)
			timeout = 10;
		if (poll(pfd, k, timeout) < 0) {
			if (errno != EINTR)
				r = -errno;
			continue;
		}
		for (size_t j = 0; j < k; j++) {
			struct dvol_lease_answer *ans = &asks[owner[j]].answer;

			if (!pfd[j].revents)
				continue;
			if (which[j] == &asks[owner[j]].out_fd)
				ask_read(which[j], &ans->out, &ans->out_len);
			else
				ask_read(which[j], &ans->err, &ans->err_len);
		}
	}

	/* The deadline: what still runs is killed, and not waited for past the grace; what
	 * ended right at it has its say. */
	for (size_t i = 0; i < n; i++) {
		struct dvol_lease_ask *a = &asks[i];

		if (a->pid > 0 && !ask_reap(a)) {
			(void)kill(a->pid, SIGKILL);
			a->answer.timed_out = true;
		} else if (r >= 0) {
			ask_drain(a);
		}
		a->out_fd = safe_close(a->out_fd);
		a->err_fd = safe_close(a->err_fd);
	}
	for (uint64_t until = dvol_now_ms() + REAP_GRACE_MS;;) {
		bool left = false;

		for (size_t i = 0; i < n; i++)
			if (!ask_reap(&asks[i]))
				left = true;
		if (!left || dvol_now_ms() >= until)
			break;
		dvol_sleep_ms(10);
	}
	return r;
}

void dvol_lease_ask_done(struct dvol_lease_ask *a)
{
	safe_close(a->out_fd);
	safe_close(a->err_fd);
	free(a->answer.out);
	free(a->answer.err);
	*a = (struct dvol_lease_ask){.out_fd = -EBADF, .err_fd = -EBADF};
}

/* --- judging ------------------------------------------------------------------------- */

const char *dvol_lease_state_to_string(enum dvol_lease_state s)
{
	switch (s) {
	case DVOL_LEASE_STATE_HELD:
		return "held";
	case DVOL_LEASE_STATE_FREE:
		return "free";
	case DVOL_LEASE_STATE_UNKNOWN:
		break;
	}
	return "unknown";
}

const char *dvol_lease_rec_to_string(enum dvol_lease_rec r)
{
	switch (r) {
	case DVOL_LEASE_REC_VALID:
		return "valid";
	case DVOL_LEASE_REC_UNREADABLE:
		return "unreadable";
	case DVOL_LEASE_REC_NONE:
		break;
	}
	return "none";
}

/* The last line of ERR that is not blank, escaped; NULL when there is none. */
static char *last_line(const char *err, size_t len)
{
	_cleanup_free_ char *line = NULL;
	size_t end = len, start;

	while (end > 0 && (err[end - 1] == '\n' || err[end - 1] == ' '))
		end--;
	if (end == 0)
		return NULL;
	start = end;
	while (start > 0 && err[start - 1] != '\n')
		start--;
	line = strndup(err + start, end - start);
	return line ? dvol_escape_shown(line, 400) : NULL;
}

static int unknown(struct dvol_lease_info *ret, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int unknown(struct dvol_lease_info *ret, const char *fmt, ...)
{
	va_list ap;

	*ret = (struct dvol_lease_info){.state = DVOL_LEASE_STATE_UNKNOWN};
	va_start(ap, fmt);
	(void)vsnprintf(ret->why, sizeof(ret->why), fmt, ap);
	va_end(ap);
	return 0;
}

static int not_an_answer(struct dvol_lease_info *ret, int code, const char *what)
{
	return unknown(ret, "dvol-writer status gave an answer that is not one (exit %d: %s)", code,
		       what);
}

/* A string member of O under KEY, or NULL. */
static const char *get_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int dvol_lease_info_judge(const struct dvol_lease_answer *a, const char *target,
			  uint64_t timeout_ms, struct dvol_lease_info *ret)
{
	_cleanup_(json_tokener_freep) struct json_tokener *tok = NULL;
	_cleanup_json_ json_object *o = NULL;
	struct dvol_lease_info info = {0};
	json_object *h = NULL, *th;
	const char *state, *record;
	int code;

	if (a->spawn_error)
		return unknown(ret, "dvol-writer status could not be started (%s)",
			       strerror(-a->spawn_error));
	if (a->timed_out)
		return unknown(ret, "the volume did not answer within %llu s",
			       (unsigned long long)((timeout_ms + 999) / 1000));
	if (WIFSIGNALED(a->status))
		return unknown(ret, "dvol-writer status ended on signal %d (%s)",
			       WTERMSIG(a->status), strsignal(WTERMSIG(a->status)));
	code = WIFEXITED(a->status) ? WEXITSTATUS(a->status) : -1;
	if (code != WRITER_STATUS_HELD && code != WRITER_STATUS_FREE) {
		_cleanup_free_ char *line = a->err ? last_line(a->err, a->err_len) : NULL;

		return unknown(ret, "dvol-writer status failed (exit %d)%s%s", code,
			       line ? ": " : ", saying nothing", line ? line : "");
	}

	if (!a->out || a->out_len == 0)
		return not_an_answer(ret, code, "no output");
	tok = json_tokener_new_ex(4);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, a->out, (int)a->out_len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object))
		return not_an_answer(ret, code, "not one JSON object");
	for (size_t i = json_tokener_get_parse_end(tok); i < a->out_len; i++)
		if (!strchr(" \t\r\n", a->out[i]))
			return not_an_answer(ret, code, "not one JSON object");
	state = get_str(o, "state");
	record = get_str(o, "record");
	if (!state || !record)
		return not_an_answer(ret, code, "no state or record");
	if (strcmp(state, "held") == 0 && code == WRITER_STATUS_HELD)
		info.state = DVOL_LEASE_STATE_HELD;
	else if (strcmp(state, "free") == 0 && code == WRITER_STATUS_FREE)
		info.state = DVOL_LEASE_STATE_FREE;
	else
		return not_an_answer(ret, code, "a state its exit status contradicts");

	if (strcmp(record, "valid") == 0)
		info.record = DVOL_LEASE_REC_VALID;
	else if (strcmp(record, "unreadable") == 0)
		info.record = DVOL_LEASE_REC_UNREADABLE;
	else if (strcmp(record, "none") == 0)
		info.record = DVOL_LEASE_REC_NONE;
	else
		return not_an_answer(ret, code, "a record of no known kind");

	if (info.record == DVOL_LEASE_REC_VALID) {
		(void)json_object_object_get_ex(
		    o, info.state == DVOL_LEASE_STATE_HELD ? "holder" : "last_holder", &h);
		if (dvol_lease_record_from_json(h, &info.holder) < 0)
			return not_an_answer(ret, code, "a holder that is not a record");
		/* Absent when dvol-writer could not read this host's identity: not this host. */
		info.this_host = json_object_object_get_ex(h, "this_host", &th) &&
				 json_object_is_type(th, json_type_boolean) &&
				 json_object_get_boolean(th);
		info.this_mount = info.state == DVOL_LEASE_STATE_HELD && info.this_host &&
				  strcmp(info.holder.mount_point, target) == 0;
	}
	*ret = info;
	return 0;
}
