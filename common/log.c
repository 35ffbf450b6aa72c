/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

static const char *log_ident = "dvol";
static int log_level = LOG_NOTICE;
static bool to_stderr = true;
static bool to_syslog;
static bool stderr_is_journal;
static int syslog_fd = -EBADF;

/* Under a unit, systemd sets $JOURNAL_STREAM to the device and inode of the stream it
 * connected stderr to: a warning sent to the journal need not go there a second time. */
static bool stderr_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
	       (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/*
 * The syslog socket is connected once, here, before any sandbox: the narrow stages allow
 * no socket(2) or connect(2), so unlike syslog(3) this never reconnects. A message the
 * socket refuses goes to stderr instead.
 */
static int syslog_connect(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = "/dev/log"};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

static bool syslog_send(int level, const char *msg)
{
	char buf[2304];
	int n;

	if (syslog_fd < 0)
		return false;
	n = snprintf(buf, sizeof(buf), "<%d>%s[%d]: %s", LOG_DAEMON | level, log_ident,
		     (int)getpid(), msg);
	if (n < 0)
		return false;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	return send(syslog_fd, buf, n, MSG_NOSIGNAL) == n;
}

void dvol_log_open(const char *ident)
{
	const char *e = getenv("DVOL_LOG");

	log_ident = ident;
	stderr_is_journal = stderr_journal();
	to_stderr = isatty(STDERR_FILENO);
	to_syslog = !to_stderr;
	if (e && strcmp(e, "stderr") == 0)
		to_stderr = true, to_syslog = false;
	else if (e && strcmp(e, "syslog") == 0)
		to_stderr = false, to_syslog = true;
	else if (e && strcmp(e, "both") == 0)
		to_stderr = to_syslog = true;

	/* No syslog daemon (a container, an early boot): stderr is all there is. */
	if (to_syslog && !e && access("/dev/log", F_OK) < 0)
		to_syslog = false, to_stderr = true;
	if (to_syslog && syslog_fd < 0) {
		syslog_fd = syslog_connect();
		if (syslog_fd < 0)
			to_stderr = true;
	}
}

void dvol_log_set_level(int level)
{
	log_level = level;
}

int dvol_log_get_level(void)
{
	return log_level;
}

void dvol_log_verbose(void)
{
	if (log_level < LOG_DEBUG)
		log_level++;
}

static void log_va(int level, int r, const char *fmt, va_list ap)
{
	char msg[2048];
	int saved = errno;

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (r < 0) {
		size_t n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(-r));
	}
	if ((to_syslog && !syslog_send(level, msg)) || to_stderr ||
	    (level <= LOG_WARNING && !(to_syslog && stderr_is_journal)))
		fprintf(stderr, "%s: %s\n", log_ident, msg);
	errno = saved;
}

void dvol_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_va(level, 0, fmt, ap);
	va_end(ap);
}

int dvol_log_errno(int level, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_va(level, r, fmt, ap);
	va_end(ap);
	return r < 0 ? r : -r;
}

#ifdef DVOL_TEST_HOOKS
void dvol_debug_stop(const char *stage)
{
	const char *e = getenv("DVOL_DEBUG_STOP");

	if (e && strcmp(e, stage) == 0) {
		log_notice("stopping at stage '%s' (DVOL_DEBUG_STOP); continue with SIGCONT",
			   stage);
		raise(SIGSTOP);
	}
}
#endif
