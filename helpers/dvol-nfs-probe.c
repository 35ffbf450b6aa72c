/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dvol-nfs-probe: is this NFS server there, what does it speak, does it have the export?
 *
 *   parse -> probe process (nobody; stdio, rpath, inet) -> sandbox (stdio) -> its verdicts
 *   as they come -> report
 *
 * Needs no privilege. Exit 0: every target is ok; 1: usage; 2: some target failed.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "escape.h"
#include "exitcode.h"
#include "json.h"
#include "log.h"
#include "nfsprobe.h"
#include "parse.h"
#include "probechild.h"
#include "sandbox.h"
#include "version.h"
#include "timeutil.h"

static bool arg_json;
static bool arg_exports;
static uint64_t arg_timeout_ms = 3000;
static uint64_t arg_wait_ms;
static unsigned arg_rtt = 3;

/* How long past its own deadline a probe process is waited for (fork, start-up, exit). */
#define PROBE_SLACK_MS 2000

static void help(void)
{
	printf("Usage: dvol-nfs-probe [OPTIONS] TARGET...\n"
	       "\n"
	       "Probe NFS servers, all at once, each within a hard deadline.\n"
	       "\n"
	       "TARGET: host[:port], [v6addr][:port], nfs://host[:port]/export[?vers=V],\n"
	       "        host:/export\n"
	       "\n"
	       "  -j, --json          one JSON object per target (fields in dvol-nfs-probe(1))\n"
	       "  -t, --timeout SEC   deadline per target, connect included (default 3)\n"
	       "  -e, --exports       list each server's exports (MOUNT EXPORT, v3)\n"
	       "  -r, --rtt N         NULL calls for the round-trip time median (default 3)\n"
	       "  -w, --wait SEC      probe again until every target is ok, for up to SEC\n"
	       "  -h, --help          this text\n"
	       "  -V, --version\n"
	       "\n"
	       "Exit status: 0 every target ok, 1 usage, 2 some target failed.\n");
}

static int parse_argv(int argc, char *argv[])
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},	    {"timeout", required_argument, NULL, 't'},
	    {"exports", no_argument, NULL, 'e'},    {"rtt", required_argument, NULL, 'r'},
	    {"wait", required_argument, NULL, 'w'}, {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},    {},
	};
	int c;

	while ((c = getopt_long(argc, argv, "jt:er:w:hV", longopts, NULL)) >= 0) {
		switch (c) {
		case 'j':
			arg_json = true;
			break;
		case 'e':
			arg_exports = true;
			break;
		case 't':
		case 'w': {
			uint64_t *v = c == 't' ? &arg_timeout_ms : &arg_wait_ms;

			if (dvol_parse_duration_ms(optarg, v) < 0 || (c == 't' && *v == 0)) {
				_cleanup_free_ char *a = dvol_escape_shown(optarg, 256);

				log_error("--%s %s: not a duration (seconds, or 500ms, 2m...)",
					  c == 't' ? "timeout" : "wait", a ?: "?");
				return -EINVAL;
			}
			break;
		}
		case 'r': {
			char *end;
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (!*optarg || *end || errno || v > DVOL_NFS_RTT_MAX) {
				_cleanup_free_ char *a = dvol_escape_shown(optarg, 256);

				log_error("--rtt %s: a number of calls from 0 to %d", a ?: "?",
					  DVOL_NFS_RTT_MAX);
				return -EINVAL;
			}
			arg_rtt = (unsigned)v;
			break;
		}
		case 'h':
			help();
			return 0;
		case 'V':
			dvol_print_version("dvol-nfs-probe");
			return 0;
		default:
			return -EINVAL;
		}
	}
	if (optind >= argc) {
		log_error("no TARGET given");
		return -EINVAL;
	}
	return 1;
}

static void targets_free(struct dvol_nfs_target *t, size_t n)
{
	for (size_t i = 0; t && i < n; i++)
		dvol_nfs_target_done(&t[i]);
	free(t);
}

static int report_json(const struct dvol_nfs_target *t, size_t n, const unsigned *attempts)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_json_ json_object *o = NULL;
		int r = dvol_nfs_target_to_json(&t[i], arg_exports, &o);

		if (r >= 0 && arg_wait_ms && attempts[i])
			r = dvol_json_add_int(o, "attempts", attempts[i]);
		if (r >= 0)
			r = dvol_json_print(o, stdout);
		if (r < 0)
			return r;
	}
	return 0;
}

static void report_table(const struct dvol_nfs_target *t, size_t n)
{
	printf("%-32s %-16s %-14s %-15s %-4s %-5s %-7s %s\n", "TARGET", "ADDRESS", "STATE",
	       "VERSIONS", "PMAP", "MOUNT", "EXPORT", "RTT");
	for (size_t i = 0; i < n; i++) {
		char vers[64], rtt[32] = "-";
		const char *e = "-";

		if (t[i].rtt_count)
			snprintf(rtt, sizeof(rtt), "%.2fms", t[i].rtt_ms);
		if (t[i].export)
			e = t[i].export_v4 == DVOL_NFS_YES || t[i].export_v3 == DVOL_NFS_YES ? "yes"
			    : t[i].export_v4 == DVOL_NFS_NO || t[i].export_v3 == DVOL_NFS_NO ? "no"
											     : "?";
		printf("%-32s %-16s %-14s %-15s %-4s %-5s %-7s %s\n", t[i].name,
		       t[i].resolved ? t[i].addr : "-", dvol_nfs_err_to_string(t[i].err),
		       t[i].tcp ? dvol_nfs_versions_format(t[i].versions, vers, sizeof(vers)) : "-",
		       t[i].portmapper == DVOL_NFS_YES	? "yes"
		       : t[i].portmapper == DVOL_NFS_NO ? "no"
							: "?",
		       t[i].mountd == DVOL_NFS_YES  ? "yes"
		       : t[i].mountd == DVOL_NFS_NO ? "no"
						    : "?",
		       e, rtt);
	}
	for (size_t i = 0; i < n; i++) {
		if (t[i].detail && t[i].err != DVOL_NFS_OK)
			printf("%s: %s: %s\n", t[i].name, dvol_nfs_err_to_string(t[i].err),
			       t[i].detail);
		if (arg_exports && t[i].exports) {
			printf("%s: exports:", t[i].name);
			for (char **x = t[i].exports; *x; x++)
				printf(" %s", *x);
			printf("%s\n", t[i].exports_cut ? " (and more, cut)" : "");
		}
	}
}

/* In a probe process, whose only voice is stderr: why it stopped, and why it goes on. */
static void probe_failed(enum dvol_probe_step step, int r, void *userdata)
{
	if (step == DVOL_PROBE_STEP_PRIVILEGES)
		log_error_errno(r, "probe process: cannot drop privileges to uid %u",
				DVOL_NFS_PROBE_UID);
	else if (step == DVOL_PROBE_STEP_SANDBOX)
		log_error_errno(r, "probe process: cannot enter the sandbox");
	else
		log_error_errno(r, "probe process: probing failed");
}

static void probe_retrying(const struct dvol_nfs_target *t, uint64_t pause_ms, void *userdata)
{
	_cleanup_free_ char *a = dvol_escape_shown(t->name, 256);

	log_debug("%s: %s; probing again in %llu ms", a ?: "?", dvol_nfs_err_to_string(t->err),
		  (unsigned long long)pause_ms);
}

/* A verdict the probe process could not give: T gets ERR and the words for it. */
static int verdict_without_probe(struct dvol_nfs_target *t, enum dvol_nfs_err err, int e,
				 uint64_t start_ms, const char *what, const char *why)
{
	_cleanup_free_ char *host = dvol_escape_name_dup(t->host);

	dvol_nfs_target_reset(t);
	t->err = err;
	t->err_errno = e;
	t->elapsed_ms = dvol_now_ms() - start_ms;
	if (asprintf(&t->detail, "%s %s%s%s", what, host ?: "?", why ? ": " : "", why ?: "") < 0) {
		t->detail = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Every target without a verdict, when the probe process gave no more: CAUSE says why (0:
 * it ended). 0 or -ENOMEM. */
static int verdicts_missing(struct dvol_nfs_target *t, size_t n, const bool *got, int cause,
			    uint64_t start_ms)
{
	enum dvol_nfs_err err = DVOL_NFS_PROTOCOL_ERROR;
	size_t missing = 0;
	char why[320];
	int e = 0;

	for (size_t i = 0; i < n; i++)
		missing += !got[i];
	if (cause == 0 && missing == 1)
		snprintf(why, sizeof(why),
			 "crashed on the server's reply (its process ended without a verdict); "
			 "the server sent something libnfs could not decode");
	else if (cause == 0)
		snprintf(why, sizeof(why),
			 "crashed on a server's reply (its process ended without a verdict for "
			 "the %zu targets still being probed); this one's server or another's "
			 "sent something libnfs could not decode: probe each alone to tell",
			 missing);
	else if (cause == -ETIMEDOUT) {
		err = DVOL_NFS_TIMEOUT;
		snprintf(why, sizeof(why),
			 "gave no verdict by its deadline and a margin: it hung, most likely on "
			 "a server's reply (killed when dvol-nfs-probe ends)");
	} else if (cause == -EBADMSG)
		snprintf(why, sizeof(why),
			 "has no verdict: the probe process handed over a malformed one, and "
			 "nothing after it was used");
	else {
		err = DVOL_NFS_LOCAL_ERROR;
		e = -cause;
		snprintf(
		    why, sizeof(why), "cannot run the probe process: %s%s", strerror(e),
		    e == EMFILE || e == ENFILE
			? "; that is a limit of this process or machine, not the server: "
			  "raise the open-file limit (ulimit -n) or probe fewer targets at once"
			: "");
	}
	for (size_t i = 0; i < n; i++)
		if (!got[i] &&
		    verdict_without_probe(&t[i], err, e, start_ms, "the probe of", why) < 0)
			return -ENOMEM;
	return 0;
}

/* The targets, as many as the command line names. */
struct targets {
	struct dvol_nfs_target *t;
	size_t n;
};

static void targets_done(struct targets *ts)
{
	targets_free(ts->t, ts->n);
}

/* parse: each target on the command line, or the first one that is not one (exit 1). */
static int parse_targets(char *argv[], struct targets *ts)
{
	for (size_t i = 0; i < ts->n; i++) {
		const char *why = "?";
		int r;

		r = dvol_nfs_target_parse(argv[i], &ts->t[i], &why);
		if (r == -ENOMEM)
			return log_error("out of memory"), r;
		if (r < 0) {
			_cleanup_free_ char *a = dvol_escape_shown(argv[i], 256);

			log_error("target '%s': %s", a ?: "?", why);
			fprintf(stderr, "Try 'dvol-nfs-probe --help' for more information.\n");
			return r;
		}
	}
	return 0;
}

/*
 * act: what the network sends is parsed in the probe process (nobody, stdio, rpath and
 * inet), all targets at once in its one poll loop, each verdict handed over as it comes:
 * a crash or a hang there costs only the targets it had not answered yet. A target with
 * no verdict gets one that says why (verdicts_missing()).
 */
static int probe_all(struct targets *ts, unsigned *attempts, bool *got, uint64_t start_ms)
{
	_cleanup_close_ int fd = -EBADF;
	int r;

	r = dvol_probe_start(
	    &(struct dvol_probe_job){
		.target = ts->t,
		.n_targets = ts->n,
		.params = {.timeout_ms = arg_timeout_ms, .rtt_count = arg_rtt, .v3_side = true},
		.retry_ms = arg_wait_ms,
		.retry_any = true,
		.backoff = DVOL_BACKOFF_INIT(250, 2000),
		.failed = probe_failed,
		.retrying = probe_retrying},
	    &fd);
	/* From here on: what the pipe says, and the report. No network at all. */
	if (r >= 0) {
		r = dvol_sandbox_enter(DVOL_SB_STDIO);
		if (r < 0)
			return log_error_errno(r, "cannot enter the sandbox");
		/* The probe keeps its own deadlines; this one is for a probe that cannot. */
		r = dvol_probe_wait_all(
		    fd, dvol_now_ms() + arg_wait_ms + arg_timeout_ms + PROBE_SLACK_MS, ts->t, ts->n,
		    attempts, got);
	}
	if (r != -ENOMEM)
		r = verdicts_missing(ts->t, ts->n, got, r, start_ms);
	if (r < 0)
		log_error("out of memory");
	return r;
}

/* 0; -errno with *ret_fail: a bad target is usage (1), a failed target or probe 2. */
static int run(int argc, char *argv[], enum dvol_fail *ret_fail)
{
	_cleanup_(targets_done) struct targets ts = {.n = (size_t)(argc - optind)};
	_cleanup_free_ unsigned *attempts = NULL;
	_cleanup_free_ bool *got = NULL;
	uint64_t start_ms = dvol_now_ms();
	size_t ok = 0;
	int r;

	ts.t = calloc(ts.n, sizeof(*ts.t));
	attempts = calloc(ts.n, sizeof(*attempts));
	got = calloc(ts.n, sizeof(*got));
	if (!ts.t || !attempts || !got)
		return log_error("out of memory"), -ENOMEM;
	*ret_fail = DVOL_FAIL_USAGE;
	r = parse_targets(argv + optind, &ts);
	if (r < 0)
		return r;

	*ret_fail = DVOL_FAIL_TARGET;
	r = probe_all(&ts, attempts, got, start_ms);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ts.n; i++)
		if (ts.t[i].err == DVOL_NFS_OK)
			ok++;

	if (arg_json)
		r = report_json(ts.t, ts.n, attempts);
	else
		report_table(ts.t, ts.n), r = 0;
	if (r < 0)
		log_error_errno(r, "cannot write the report");
	if (fflush(stdout) != 0)
		r = -EIO;
	return r < 0 ? r : ok != ts.n ? -EHOSTUNREACH : 0;
}

int main(int argc, char *argv[])
{
	enum dvol_fail fail = DVOL_FAIL_SYSTEM;
	const char *why;
	int r;

	dvol_log_open("dvol-nfs-probe");
	if (dvol_refuse_elevation(&why) < 0) {
		log_error("refusing to run: %s", why);
		return dvol_exit_code(DVOL_FAIL_USAGE, -EPERM);
	}
	/* A probe needs no privilege: run as root, it becomes nobody (root without
	 * capabilities still owns /etc/shadow), before it reads a byte of its arguments. This
	 * also spares libnfs its hunt for a free reserved source port on every connection. */
	r = dvol_nfs_drop_privileges();
	if (r < 0)
		return log_error_errno(r, "cannot drop privileges to uid %u", DVOL_NFS_PROBE_UID),
		       dvol_exit_code(DVOL_FAIL_SYSTEM, r);
	/* A reader of the report that goes away must not kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);

	r = parse_argv(argc, argv);
	if (r <= 0) {
		if (r < 0)
			fprintf(stderr, "Try 'dvol-nfs-probe --help' for more information.\n");
		return dvol_exit_code(DVOL_FAIL_USAGE, r);
	}
	r = run(argc, argv, &fail);
	return dvol_exit_code(fail, r);
}
