/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <syslog.h>

/*
 * Where messages go: stderr when it is a terminal, syslog when it is not (udev, systemd,
 * fstab at boot). Errors and warnings also always reach stderr, so that mount(8) and a
 * calling script show them. DVOL_LOG=stderr|syslog|both overrides the choice.
 *
 * Only helpers log. common/ modules return -errno and leave the words to their caller.
 */
void dvol_log_open(const char *ident);
void dvol_log_set_level(int level); /* LOG_ERR .. LOG_DEBUG */
int dvol_log_get_level(void);
void dvol_log_verbose(void); /* one -v: raise by one level */

void dvol_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Logs at level; returns r (a -errno) so that callers can `return log_error_errno(r, ...)`. */
int dvol_log_errno(int level, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_debug(...)		  dvol_log(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)		  dvol_log(LOG_INFO, __VA_ARGS__)
#define log_notice(...)		  dvol_log(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...)	  dvol_log(LOG_WARNING, __VA_ARGS__)
#define log_error(...)		  dvol_log(LOG_ERR, __VA_ARGS__)
#define log_error_errno(r, ...)	  dvol_log_errno(LOG_ERR, (r), __VA_ARGS__)
#define log_warning_errno(r, ...) dvol_log_errno(LOG_WARNING, (r), __VA_ARGS__)
#define log_debug_errno(r, ...)	  dvol_log_errno(LOG_DEBUG, (r), __VA_ARGS__)

/*
 * DVOL_DEBUG_STOP=STAGE: stop the process (SIGSTOP) on reaching STAGE ("act", ...), so
 * that a test can look at it there (its sandbox in /proc/PID/status, its fds) before it
 * goes on with SIGCONT. A stopped helper holds a device's lock, and mount(8) passes the
 * environment through: only test builds (-DDVOL_TEST_HOOKS, build/test/) have it.
 */
#ifdef DVOL_TEST_HOOKS
void dvol_debug_stop(const char *stage);
#else
static inline void dvol_debug_stop(const char *stage)
{
}
#endif
