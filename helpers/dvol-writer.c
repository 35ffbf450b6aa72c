/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dvol-writer: one writer at a time on a shared volume (writer=exclusive).
 *
 *   hold:   parse -> resolve the mount -> crash watcher -> private copy of the mount ->
 *           lock (or report the holder, and wait or go) -> record -> sandbox ->
 *           heartbeat and watch the mount table -> release when it is unmounted, fence
 *           when the lease may be lost
 *   fence:  make the mount read-only (or detach it)
 *   status: who holds the lease, read without taking it
 *
 * The lease and its record are common/lease.c, their I/O common/writer.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>

#include "cleanup.h"
#include "escape.h"
#include "exitcode.h"
#include "fdutil.h"
#include "json.h"
#include "lease.h"
#include "log.h"
#include "mountop.h"
#include "parse.h"
#include "sandbox.h"
#include "timeutil.h"
#include "version.h"
#include "writer.h"

/* dvol-writer's own exit codes, beside the shared 0, 1, 2 and 4 (common/exitcode.h). */
enum {
	WRITER_EX_NOT_HELD = 3, /* hold: another holds the lease; status: nobody holds it */
	WRITER_EX_FENCED = 32,	/* hold: the lease may be lost, the mount was fenced */
};

/* on-conflict=wait: how often the lock is asked for again. */
#define RETRY_MS 500
/* How long the server may take to grant or refuse the lock before it counts as unknown. */
#define LOCK_MS_DEFAULT 3000
/* How often a lease kept for files still open for writing looks again. */
#define LINGER_MS 1000

enum verb {
	VERB_HOLD,
	VERB_FENCE,
	VERB_STATUS,
};

static enum verb arg_verb;
static const char *arg_target;
static uint64_t arg_lease_ms = DVOL_LEASE_TIME_MS_DEFAULT;
static bool arg_lease_set;
static enum dvol_lease_on_conflict arg_on_conflict = DVOL_LEASE_CONFLICT_RO;
static uint64_t arg_wait_ms = DVOL_LEASE_WAIT_MS_DEFAULT;
static uint64_t arg_lock_ms = LOCK_MS_DEFAULT;
static int arg_ready_fd = STDOUT_FILENO;
static bool arg_rw;
static bool arg_json;

/* The volume (its filesystem and folder), to find its other mounts by; and the mounts whose
 * writers keep the lease after a fence or an umount: its own, and binds that were detached. */
static dev_t vol_dev;
static char *vol_root;
static uint64_t kept_ids[64];
static size_t n_kept_ids;

static void help(void)
{
	printf("Usage: dvol-writer hold TARGET [--lease-time=SEC] [--on-conflict=ro|fail|wait]\n"
	       "                   [--wait-timeout=SEC] [--lock-timeout=SEC] [--ready-fd=N]\n"
	       "       dvol-writer fence TARGET\n"
	       "       dvol-writer status TARGET [--json]\n"
	       "\n"
	       "One writer at a time on the volume mounted at TARGET: a lock on\n"
	       "TARGET/.dvol/writer.lock that the NFS server enforces, and a record there\n"
	       "naming its holder.\n"
	       "\n"
	       "  hold     take the lease and keep it while TARGET is mounted: a heartbeat\n"
	       "           every lease/6; TARGET is made read-only if none reached the server\n"
	       "           for lease/2, or one failed with EIO, or this process dies. Released\n"
	       "           when TARGET is unmounted. Reports one line on --ready-fd (stdout):\n"
	       "           'held RECORD', or 'conflict RECORD' naming the holder\n"
	       "           ('conflict unreadable' if its record is not one), or 'pending'\n"
	       "           when the server neither granted nor refused the lock in time\n"
	       "  fence    make TARGET read-only now (detach it if that cannot be done)\n"
	       "  status   who holds the lease, since when, its generation and heartbeat\n"
	       "\n"
	       "  --lease-time=SEC     the server's lease where the NFS client does not show\n"
	       "                       it (default 90, 2s to 1h); NFSv4's is read from\n"
	       "                       /proc/self/mountstats\n"
	       "  --on-conflict=WHAT   ro, fail (both: report and exit 3) or wait\n"
	       "  --wait-timeout=SEC   on-conflict=wait: for how long (default 60)\n"
	       "  --lock-timeout=SEC   how long the server may take to answer the lock before\n"
	       "                       'pending' (default 3; a server in its grace period\n"
	       "                       after a restart answers no lock until it ends)\n"
	       "  --ready-fd=N         where hold reports (default 1)\n"
	       "  --rw                 hold: make TARGET read-write once the lease is held\n"
	       "                       (mount.dvol mounts it read-only until then)\n"
	       "  --json               status: one JSON object\n"
	       "  -v                   verbose\n"
	       "  -h, --help, -V, --version\n"
	       "\n"
	       "Exit status: 0 hold: released (TARGET unmounted) or stopped (TARGET made\n"
	       "read-only first); fence: done; status: held. 1 usage. 2 system error.\n"
	       "3 hold: another holds the lease; status: nobody holds it.\n"
	       "32 hold: the lease may be lost, and TARGET was fenced.\n");
}

static int parse_duration(const char *name, const char *v, uint64_t *ret)
{
	if (dvol_parse_duration_ms(v, ret) < 0) {
		_cleanup_free_ char *a = dvol_escape_shown(v, 256);

		log_error("--%s=%s: not a duration (seconds, or 500ms, 2m...)", name, a ?: "?");
		return -EINVAL;
	}
	return 0;
}

static int parse_argv(int argc, char *argv[])
{
	enum { ARG_LEASE = 0x100, ARG_CONFLICT, ARG_WAIT, ARG_LOCK, ARG_READY, ARG_RW };
	static const struct option longopts[] = {
	    {"lease-time", required_argument, NULL, ARG_LEASE},
	    {"on-conflict", required_argument, NULL, ARG_CONFLICT},
	    {"wait-timeout", required_argument, NULL, ARG_WAIT},
	    {"lock-timeout", required_argument, NULL, ARG_LOCK},
	    {"ready-fd", required_argument, NULL, ARG_READY},
	    {"rw", no_argument, NULL, ARG_RW},
	    {"json", no_argument, NULL, 'j'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {},
	};
	struct dvol_lease_timing t;
	const char *verb;
	int c;

	while ((c = getopt_long(argc, argv, "jvhV", longopts, NULL)) >= 0) {
		switch (c) {
		case ARG_LEASE:
			if (parse_duration("lease-time", optarg, &arg_lease_ms) < 0)
				return -EINVAL;
			arg_lease_set = true;
			if (dvol_lease_timing(arg_lease_ms, &t) < 0) {
				log_error("--lease-time=%s: the server's lease is 2 s to 1 h",
					  optarg);
				return -EINVAL;
			}
			break;
		case ARG_CONFLICT:
			if (dvol_lease_on_conflict_from_string(optarg, &arg_on_conflict) < 0) {
				_cleanup_free_ char *a = dvol_escape_shown(optarg, 256);

				log_error("--on-conflict=%s: ro, fail or wait", a ?: "?");
				return -EINVAL;
			}
			break;
		case ARG_WAIT:
			if (parse_duration("wait-timeout", optarg, &arg_wait_ms) < 0)
				return -EINVAL;
			break;
		case ARG_LOCK:
			if (parse_duration("lock-timeout", optarg, &arg_lock_ms) < 0)
				return -EINVAL;
			if (arg_lock_ms == 0) {
				log_error("--lock-timeout=%s: give the server some time", optarg);
				return -EINVAL;
			}
			break;
		case ARG_READY: {
			char *end;
			long v;

			errno = 0;
			v = strtol(optarg, &end, 10);
			if (!*optarg || *end || errno || v < 0 || v > INT32_MAX ||
			    fcntl((int)v, F_GETFD) < 0) {
				_cleanup_free_ char *a = dvol_escape_shown(optarg, 256);

				log_error("--ready-fd=%s: not an open file descriptor", a ?: "?");
				return -EINVAL;
			}
			arg_ready_fd = (int)v;
			break;
		}
		case ARG_RW:
			arg_rw = true;
			break;
		case 'j':
			arg_json = true;
			break;
		case 'v':
			dvol_log_verbose();
			break;
		case 'h':
			help();
			return 0;
		case 'V':
			dvol_print_version("dvol-writer");
			return 0;
		default:
			return -EINVAL;
		}
	}
	if (argc - optind != 2) {
		log_error("expected a command and TARGET, got %d argument%s", argc - optind,
			  argc - optind == 1 ? "" : "s");
		return -EINVAL;
	}
	verb = argv[optind];
	arg_target = argv[optind + 1];
	if (strcmp(verb, "hold") == 0)
		arg_verb = VERB_HOLD;
	else if (strcmp(verb, "fence") == 0)
		arg_verb = VERB_FENCE;
	else if (strcmp(verb, "status") == 0)
		arg_verb = VERB_STATUS;
	else {
		_cleanup_free_ char *a = dvol_escape_shown(verb, 64);

		log_error("unknown command '%s' (hold, fence or status)", a ?: "?");
		return -EINVAL;
	}
	if (arg_target[0] != '/') {
		_cleanup_free_ char *a = dvol_escape_shown(arg_target, 256);

		log_error("TARGET '%s': not an absolute path", a ?: "?");
		return -EINVAL;
	}
	if (arg_rw && arg_verb != VERB_HOLD) {
		log_error("--rw: only hold makes TARGET read-write");
		return -EINVAL;
	}
	if (arg_json && arg_verb != VERB_STATUS) {
		log_error("--json: only status prints JSON");
		return -EINVAL;
	}
	return 1;
}

/* TARGET, as messages show it. */
static const char *target_shown(void)
{
	static char *s;

	if (!s)
		s = dvol_escape_shown(arg_target, 256);
	return s ?: "?";
}

/* TARGET as an O_PATH fd, its mount, and its mount point as mountinfo spells it. */
static int resolve(int *ret_fd, struct dvol_writer_mount *ret_mnt, char **ret_path)
{
	_cleanup_close_ int fd = -EBADF;
	int r;

	r = dvol_open_dir(arg_target, &fd);
	if (r == -ELOOP)
		return log_error_errno(r, "%s is a symbolic link; give the mount point itself",
				       target_shown());
	if (r < 0)
		return log_error_errno(r, "cannot open %s", target_shown());
	r = dvol_writer_mount_of(fd, ret_mnt, ret_path);
	if (r == -EREMOTEIO)
		return log_error_errno(r,
				       "%s is not a mount point; the lease is kept on a mounted "
				       "volume",
				       target_shown());
	if (r < 0)
		return log_error_errno(r, "cannot find the mount at %s in the mount table",
				       target_shown());
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* Who holds it, in words (lease.h), or NULL when out of memory. */
static char *describe(const struct dvol_lease_record *r, const struct dvol_lease_record *me)
{
	char *s = NULL;

	return dvol_lease_describe(r, me && dvol_lease_same_host(r, me), &s) < 0 ? NULL : s;
}

/* One line on --ready-fd: WORD and the record as one JSON object, or "unreadable". */
static void report(const char *word, const struct dvol_lease_record *r)
{
	char buf[DVOL_LEASE_RECORD_SIZE];
	size_t l = 0;

	if (r && dvol_lease_record_encode(r, buf, sizeof(buf)) == 0) {
		l = sizeof(buf) - 1;
		while (l > 0 && buf[l - 1] == ' ')
			l--;
	}
	if (arg_ready_fd < 0)
		return;
	if (dprintf(arg_ready_fd, "%s %.*s\n", word, (int)(l ? l : strlen("unreadable")),
		    l ? buf : "unreadable") < 0)
		log_warning_errno(-errno, "cannot report '%s' on fd %d", word, arg_ready_fd);
}

/* One line on --ready-fd: WORD alone. */
static void report_word(const char *word)
{
	if (arg_ready_fd >= 0 && dprintf(arg_ready_fd, "%s\n", word) < 0)
		log_warning_errno(-errno, "cannot report '%s' on fd %d", word, arg_ready_fd);
}

static void ready_done(void)
{
	if (arg_ready_fd > STDERR_FILENO)
		arg_ready_fd = safe_close(arg_ready_fd);
	else if (arg_ready_fd == STDOUT_FILENO)
		fflush(stdout);
}

/*
 * Make the mount read-only, or detach it; said loudly, since writers there now fail.
 * AT_RISK: the lease may be lost (no heartbeat reached the server): requests in flight are
 * ended too. 1 when it was detached (files may still be open for writing there), 0 when it
 * is read-only or not the volume's mount any more, -errno when it could not be fenced.
 */
static void keep_id(uint64_t id)
{
	for (size_t i = 0; i < n_kept_ids; i++)
		if (kept_ids[i] == id)
			return;
	if (n_kept_ids < ELEMENTSOF(kept_ids))
		kept_ids[n_kept_ids++] = id;
}

/*
 * The volume's other mounts (binds of TARGET made before the fence, a container's volume),
 * in every mount namespace, made read-only too; those a write keeps busy are detached, and
 * their ids kept for linger(). 1 when one was detached, 0, or -errno.
 */
static int fence_binds(uint64_t id)
{
	struct dvol_writer_bind *b = NULL;
	unsigned ro = 0, detached = 0;
	size_t n = 0;
	int r;

	if (!vol_root)
		return 0;
	r = dvol_writer_binds(vol_dev, vol_root, id, &b, &n);
	if (r < 0)
		return log_error_errno(r,
				       "%s: cannot list the volume's other mounts, which keep "
				       "their read-write flag",
				       target_shown());
	if (n == 0)
		return 0;
	r = dvol_writer_fence_binds(b, n, &ro, &detached);
	for (size_t i = 0; i < n; i++)
		if (!b[i].ro)
			keep_id(b[i].id);
	if (ro)
		log_error("%s: %u other mount%s of the volume in other mount namespaces (a "
			  "container's) made read-only",
			  target_shown(), ro, ro == 1 ? "" : "s");
	if (detached)
		log_error("%s: %u other mount%s of the volume in other mount namespaces (a "
			  "container's) detached (a write kept %s busy); programs with files open "
			  "there keep them",
			  target_shown(), detached, detached == 1 ? "" : "s",
			  detached == 1 ? "it" : "them");
	if (r < 0)
		log_error_errno(r,
				"%s: a mount of the volume in another mount namespace could not be "
				"fenced; it may still write there",
				target_shown());
	dvol_writer_binds_free(b, n);
	return detached > 0;
}

static int fence(const char *path, const struct dvol_writer_mount *m, bool at_risk, const char *why)
{
	_cleanup_free_ char *p = dvol_escape_shown(path, 256);
	enum dvol_writer_fenced how;
	int se = 0, r, rb;

	keep_id(m->id);
	r = dvol_writer_fence(path, m, at_risk, &how, &se);
	rb = fence_binds(m->id);
	if (r == -ESTALE) {
		log_warning("%s: %s, but %s is no longer the volume's mount; nothing to fence", p,
			    why, p);
		return rb > 0;
	}
	if (r < 0) {
		if (se)
			log_error_errno(se, "%s: %s; making it read-only failed", p, why);
		return log_error_errno(r,
				       "%s: %s, and it could not be fenced: detaching it failed "
				       "too. Another host may take the lease over while this "
				       "one can still write; unmount %s by hand",
				       p, why, p);
	}
	if (how == DVOL_WRITER_FENCED_RO)
		log_error("%s: %s; it is now read-only (fenced). Unmount it and mount it again "
			  "to write once the lease can be held",
			  p, why);
	else
		log_error_errno(se,
				"%s: %s; it could not be made read-only, and was detached "
				"(fenced): programs with files open there keep them, new opens "
				"see the folder beneath. Mount it again to write",
				p, why);
	return how == DVOL_WRITER_FENCED_DETACHED || rb > 0;
}

/*
 * The mount MNT_ID is gone (unmounted lazily, or detached by a fence) but files may still be
 * open for writing on it: whoever has them still writes to the volume, so the lease is kept
 * (the caller holds the lock) until they are closed. On a host that can still reach the
 * server its NFS client renews the lease meanwhile; one that cannot loses it anyway.
 */
static void linger(void)
{
	bool said = false;

	for (;;) {
		pid_t pid = 0;
		int n = dvol_writer_mount_writers(kept_ids, n_kept_ids, &pid);

		if (n < 0)
			log_warning_errno(n,
					  "%s: cannot tell whether files are still open for "
					  "writing there; the writer's lease is released",
					  target_shown());
		if (n <= 0)
			break;
		if (!said)
			log_warning("%s: %d file%s still open for writing on the volume (process "
				    "%d%s); the writer's lease is kept until %s closed",
				    target_shown(), n, n == 1 ? " is" : "s are", (int)pid,
				    n > 1 ? " and others" : "", n == 1 ? "it is" : "they are");
		said = true;
		dvol_sleep_ms(LINGER_MS);
	}
	if (said)
		log_info("%s: no file is open for writing on the volume any more; the writer's "
			 "lease is released",
			 target_shown());
}

/* --- the crash watcher ------------------------------------------------------------------ */

/*
 * A child that outlives the holder: it holds the read end of a pipe whose write end only
 * the holder has, and, forked once the lease is held, the lock file's open file
 * description, so the lock, which belongs to that description, is not released by the
 * holder's death alone. A clean end writes 'r' first; any other end (a crash, SIGKILL, the
 * OOM killer) is an end of file, and the child fences the mount; where it had to detach it,
 * it keeps the lock until the files open for writing there are closed. Its volume's fds are
 * on the holder's private copy of the mount, which pins no mount point.
 */
static int watch(int rfd, const char *path, const struct dvol_writer_mount *m, uint64_t fence_ms)
{
	bool armed = false;
	char c = 0;
	ssize_t n;
	int r;

	/* A ^C or a stop of the unit reaches the holder too, which fences first and then says
	 * so here; this one waits to hear it. */
	(void)signal(SIGINT, SIG_IGN);
	(void)signal(SIGTERM, SIG_IGN);
	(void)signal(SIGHUP, SIG_IGN);
	r = dvol_sandbox_enter(DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_MOUNT | DVOL_SB_NS);
	if (r < 0)
		return log_error_errno(r, "watcher: cannot enter the sandbox"), DVOL_EX_SYSERR;
	/* Once the lease is held ('h'), a heartbeat ('b') is due within FENCE_MS: a holder that
	 * is stopped or frozen cannot fence itself, so this one does. */
	for (;;) {
		struct pollfd pfd = {.fd = rfd, .events = POLLIN};

		r = poll(&pfd, 1, armed ? (int)fence_ms : -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			r = fence(path, m, true,
				  "the writer's lease holder has not renewed it for lease/2 and "
				  "more (is it stopped?)");
			if (r > 0)
				linger();
			return r < 0 ? DVOL_EX_SYSERR : WRITER_EX_FENCED;
		}
		do
			n = read(rfd, &c, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1)
			break;
		if (c == 'r')
			return DVOL_EX_OK;
		armed = true;
	}
	r = fence(path, m, false, "the writer's lease holder ended without releasing it");
	if (r > 0)
		linger();
	return r < 0 ? DVOL_EX_SYSERR : WRITER_EX_FENCED;
}

static int start_watcher(int target_fd, const char *path, const struct dvol_writer_mount *m,
			 uint64_t fence_ms, int *ret_w)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return log_error_errno(-errno, "cannot make the watcher's pipe");
	/* Nobody waits for it: it ends on its own, after the holder. */
	(void)signal(SIGCHLD, SIG_IGN);
	pid = fork();
	if (pid < 0) {
		int r = -errno;

		safe_close(p[0]);
		safe_close(p[1]);
		return log_error_errno(r, "cannot start the watcher");
	}
	if (pid == 0) {
		safe_close(p[1]);
		safe_close(target_fd);
		if (arg_ready_fd > STDERR_FILENO)
			safe_close(arg_ready_fd);
		_exit(watch(p[0], path, m, fence_ms));
	}
	safe_close(p[0]);
	/* A watcher that stopped reading must not stop the holder. */
	(void)fcntl(p[1], F_SETFL, O_NONBLOCK);
	*ret_w = p[1];
	return 0;
}

/* Tell the watcher the lease is held ('h'), or renewed ('b'). */
static void watcher_beat(int w, char c)
{
	(void)!write(w, &c, 1);
}

/* The holder is done: the watcher may go without fencing. */
static void watcher_release(int *w)
{
	if (*w >= 0)
		(void)!write(*w, "r", 1);
	*w = safe_close(*w);
}

/* --- the heartbeat --------------------------------------------------------------------- */

/*
 * The heartbeat's write and fsync run in a thread of their own: against a server that does
 * not answer they block (hard mounts block for ever), and the main loop must still fence
 * by lease/2.
 */
struct beat {
	int fd;	  /* the lock file */
	int go;	  /* read: the heartbeat time of the next write (unix seconds) */
	int done; /* write: its result (0 or -errno) */
	struct dvol_lease_record rec;
};

static void *beat_main(void *arg)
{
	struct beat *b = arg;

	for (;;) {
		uint64_t t;
		int r;

		if (dvol_read_all_until(b->go, &t, sizeof(t), UINT64_MAX) < 0)
			return NULL;
		b->rec.heartbeat = t;
		r = dvol_writer_write_record(b->fd, &b->rec);
		if (dvol_write_all(b->done, &r, sizeof(r)) < 0)
			return NULL;
	}
}

/* --- hold ------------------------------------------------------------------------------ */

static int sig_pipe[2] = {-EBADF, -EBADF};

static void on_signal(int sig)
{
	int saved = errno;

	(void)!write(sig_pipe[1], "s", 1);
	errno = saved;
}

static int setup_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	(void)sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0 ||
	    sigaction(SIGHUP, &sa, NULL) < 0)
		return -errno;
	(void)signal(SIGPIPE, SIG_IGN);
	return 0;
}

static uint64_t unix_now(void)
{
	return (uint64_t)time(NULL);
}

struct holder {
	char *path; /* the mount point, as mountinfo spells it */
	struct dvol_writer_mount mnt;
	int target_fd; /* O_PATH on TARGET, until the private copy is made */
	int tree;      /* the private copy of the mount */
	int fd;	       /* the lock file */
	int watch_w;   /* the watcher's pipe */
	struct dvol_lease_record me;
	struct dvol_lease_timing tm;
};

static void holder_done(struct holder *h)
{
	free(h->path);
	safe_close(h->target_fd);
	safe_close(h->tree);
	safe_close(h->fd);
	safe_close(h->watch_w);
}

/*
 * The lock is asked for in a thread of its own: a server in its grace period after a
 * restart answers no lock request until the grace period ends (the NFS client waits and
 * asks again, killably only), and the answer to the caller must not wait that long.
 */
struct locker {
	int tree;   /* the private copy of the mount */
	int fd;	    /* the lock file, once opened */
	int go[2];  /* one byte: 'o' open the lock file, 'l' ask for the lock */
	int res[2]; /* the result: 0 or -errno (-EBUSY: another holds the lock) */
	bool asked; /* a request is under way, its result not read yet */
};

static void *locker_main(void *arg)
{
	struct locker *l = arg;

	for (;;) {
		char c;
		int r;

		if (dvol_read_all_until(l->go[0], &c, 1, UINT64_MAX) < 0)
			return NULL;
		r = c == 'o' ? dvol_writer_open_lock(l->tree, true, &l->fd)
			     : dvol_writer_lock(l->fd);
		if (dvol_write_all(l->res[1], &r, sizeof(r)) < 0)
			return NULL;
	}
}

static int locker_start(struct locker *l, int tree)
{
	pthread_t t;
	int r;

	*l = (struct locker){
	    .tree = tree, .fd = -EBADF, .go = {-EBADF, -EBADF}, .res = {-EBADF, -EBADF}};
	if (pipe2(l->go, O_CLOEXEC) < 0 || pipe2(l->res, O_CLOEXEC) < 0)
		return -errno;
	r = pthread_create(&t, NULL, locker_main, l);
	if (r != 0)
		return -r;
	(void)pthread_detach(t);
	return 0;
}

/* OP asked for (unless a request is under way) and its answer awaited until UNTIL_MS: its
 * result, or -ETIMEDOUT when there is none yet. */
static int locker_try(struct locker *l, char op, uint64_t until_ms)
{
	int res = 0, r;

	if (!l->asked) {
		r = dvol_write_all(l->go[1], &op, 1);
		if (r < 0)
			return r;
		l->asked = true;
	}
	r = dvol_read_all_until(l->res[0], &res, sizeof(res), until_ms);
	if (r == -ETIMEDOUT)
		return r;
	l->asked = false;
	return r < 0 ? r : res;
}

static int open_failed(int r)
{
	return log_error_errno(r, "%s: cannot open .dvol/writer.lock%s", target_shown(),
			       r == -ELOOP     ? ": it, or .dvol, is a symbolic link; refused"
			       : r == -EBADFD  ? ": it is not a regular file; refused"
			       : r == -EMLINK  ? ": it has other hard links (it could be another "
						 "file of the volume); refused"
			       : r == -ENOTDIR ? ": .dvol is not a folder; refused"
					       : "");
}

/*
 * Ask for the lease until it is held, or on-conflict says to stop. 1 held, 0 not, -errno.
 * *ret_stuck: not held, and a request is still under way in the locker's thread (the caller
 * must not close the lock file under it: it ends the process instead).
 */
static int take(struct holder *h, bool *ret_stuck)
{
	static struct locker l;
	uint64_t start = dvol_now_ms(), deadline = start + arg_wait_ms, until;
	bool waiting = arg_on_conflict == DVOL_LEASE_CONFLICT_WAIT;
	bool told_conflict = false, told_pending = false, answered = false;
	int r;

	*ret_stuck = false;
	r = locker_start(&l, h->tree);
	if (r < 0)
		return log_error_errno(r, "cannot start the lock's thread");
	for (;;) {
		struct dvol_lease_record other;
		_cleanup_free_ char *who = NULL;
		bool opened = l.fd >= 0;
		int rr;

		/* The first answer is due by lock-timeout; a wait waits as long as it lasts. A
		 * server in its grace period answers no new OPEN either, so the open goes
		 * first, in the same thread. */
		until = dvol_now_ms() + arg_lock_ms;
		if (!answered && !told_pending)
			until = start + arg_lock_ms;
		else if (waiting && deadline > until)
			until = deadline;
		r = locker_try(&l, opened ? 'l' : 'o', until);
		if (r != -ETIMEDOUT)
			answered = true;
		if (r == 0 && !opened) {
			h->fd = l.fd;
			continue;
		}
		if (r < 0 && r != -ETIMEDOUT && !opened)
			return open_failed(r);
		if (r == -ETIMEDOUT) {
			if (!told_pending) {
				report_word("pending");
				told_pending = true;
			}
			if (waiting && dvol_now_ms() < deadline) {
				log_notice(
				    "%s: the NFS server has not answered the writer's lock "
				    "within %.1f s (a grace period after a restart?); waiting "
				    "up to %.1f s",
				    target_shown(), arg_lock_ms / 1000.0, arg_wait_ms / 1000.0);
				continue;
			}
			log_error("%s: the NFS server neither granted nor refused the writer's "
				  "lock within %.1f s; not held. After a restart a server grants "
				  "no lock for a grace period (one lease)",
				  target_shown(), (waiting ? arg_wait_ms : arg_lock_ms) / 1000.0);
			*ret_stuck = true;
			return 0;
		}
		if (r == 0)
			return 1;
		if (r != -EBUSY)
			return log_error_errno(r,
					       "%s: cannot take the writer's lock on "
					       ".dvol/writer.lock",
					       target_shown());
		if (told_conflict && dvol_now_ms() < deadline) {
			r = dvol_writer_mount_present(&h->mnt, h->path);
			if (r == 0) {
				log_notice("%s was unmounted while waiting for the writer's lease",
					   target_shown());
				return 0;
			}
			dvol_sleep_ms(RETRY_MS);
			continue;
		}
		rr = dvol_writer_read_record(h->fd, &other);
		who = rr == 0 ? describe(&other, &h->me) : NULL;
		if (!told_conflict) {
			report("conflict", rr == 0 ? &other : NULL);
			told_conflict = true;
		}
		if (waiting && dvol_now_ms() < deadline) {
			log_notice("%s: the writer's lease is held by %s; waiting up to %.1f s",
				   target_shown(), who ?: "a holder whose record is unreadable",
				   arg_wait_ms / 1000.0);
			dvol_sleep_ms(RETRY_MS);
			continue;
		}
		log_error("%s: the writer's lease is held by %s%s; %s", target_shown(),
			  who ?: "a holder whose record is unreadable (not one dvol wrote)",
			  waiting ? ", still, after the wait" : "",
			  "only one host writes at a time. Mount it read-only, or stop the "
			  "holder's writes (unmount it there) first");
		return 0;
	}
}

/* The lease is held: the record says so, and what it says reaches the server. */
static int record(struct holder *h)
{
	struct dvol_lease_record prev;
	uint64_t now = unix_now();
	int r;

	r = dvol_writer_read_record(h->fd, &prev);
	if (r == -EBADMSG)
		log_warning("%s: the last holder's record in .dvol/writer.lock is unreadable; "
			    "overwriting it, generation 1",
			    target_shown());
	else if (r < 0 && r != -ENODATA)
		return log_error_errno(r, "%s: cannot read .dvol/writer.lock", target_shown());
	r = dvol_lease_next_generation(r == 0 ? &prev : NULL, &h->me.generation);
	if (r < 0)
		return log_error_errno(r, "%s: the lease's generation is at its end",
				       target_shown());
	if (snprintf(h->me.mount_point, sizeof(h->me.mount_point), "%s", h->path) >=
	    (int)sizeof(h->me.mount_point))
		return log_error_errno(-ENAMETOOLONG, "%s: mount point too long for the record",
				       target_shown());
	h->me.pid = getpid();
	h->me.since = now;
	h->me.heartbeat = now;
	r = dvol_writer_trim(h->fd);
	if (r >= 0)
		r = dvol_writer_write_record(h->fd, &h->me);
	if (r == -ENAMETOOLONG)
		return log_error_errno(r, "%s: mount point too long for the record",
				       target_shown());
	if (r < 0)
		return log_error_errno(r,
				       "%s: cannot write the holder's record in "
				       ".dvol/writer.lock",
				       target_shown());
	return 0;
}

/*
 * Held: a heartbeat every lease/6; released when the mount is gone; fenced when no
 * heartbeat reached the server for lease/2 or one failed with EIO; fenced and released on
 * SIGTERM, SIGINT, SIGHUP.
 */
static int keep(struct holder *h)
{
	_cleanup_close_ int mi = -EBADF, go_r = -EBADF, go_w = -EBADF, done_r = -EBADF,
			    done_w = -EBADF;
	struct beat b = {.fd = h->fd, .rec = h->me};
	uint64_t last_ok = dvol_now_ms(), next = last_ok + h->tm.heartbeat_ms, started = 0;
	bool in_flight = false, lingering = false;
	/* An unmount between "held" and the open of mountinfo sends no event: look once. */
	bool look = true;
	pthread_t thread;
	pid_t pid = 0;
	int p[2], r;

	mi = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (mi < 0)
		return log_error_errno(-errno, "cannot open /proc/self/mountinfo");
	if (pipe2(p, O_CLOEXEC) < 0)
		return log_error_errno(-errno, "cannot make the heartbeat's pipes");
	go_r = p[0], go_w = p[1];
	if (pipe2(p, O_CLOEXEC) < 0)
		return log_error_errno(-errno, "cannot make the heartbeat's pipes");
	done_r = p[0], done_w = p[1];
	b.go = go_r;
	b.done = done_w;
	r = pthread_create(&thread, NULL, beat_main, &b);
	if (r != 0)
		return log_error_errno(-r, "cannot start the heartbeat");
	(void)pthread_detach(thread);

	for (;;) {
		struct pollfd pfd[4] = {
		    {.fd = mi, .events = POLLPRI},
		    {.fd = done_r, .events = POLLIN},
		    {.fd = sig_pipe[0], .events = POLLIN},
		    {.fd = h->watch_w, .events = 0},
		};
		uint64_t now = dvol_now_ms(), until;

		if (now - last_ok >= h->tm.fence_ms) {
			char why[128];

			snprintf(why, sizeof(why),
				 "no heartbeat reached the server for %.1f s (lease/2 of %.0f s); "
				 "the lease may be lost",
				 (now - last_ok) / 1000.0, h->tm.lease_ms / 1000.0);
			fence(h->path, &h->mnt, true, why);
			return WRITER_EX_FENCED;
		}
		if (!in_flight && now >= next) {
			uint64_t t = unix_now();

			r = dvol_write_all(go_w, &t, sizeof(t));
			if (r < 0)
				return log_error_errno(r, "cannot start a heartbeat");
			in_flight = true;
			started = now;
		}
		until = last_ok + h->tm.fence_ms;
		if (!in_flight && next < until)
			until = next;
		if (lingering && now + LINGER_MS < until)
			until = now + LINGER_MS;
		if (poll(pfd, ELEMENTSOF(pfd), until > now ? (int)(until - now) : 0) < 0) {
			if (errno == EINTR)
				continue;
			return log_error_errno(-errno, "poll failed");
		}
		if (pfd[2].revents) {
			if (fence(h->path, &h->mnt, false,
				  "dvol-writer was stopped, and the lease is released") > 0)
				linger();
			return DVOL_EX_OK;
		}
		if ((pfd[0].revents || look) && !lingering) {
			look = false;
			r = dvol_writer_mount_present(&h->mnt, h->path);
			if (r < 0)
				log_warning_errno(r, "cannot read the mount table");
			if (r == 0) {
				/* The volume's other mounts go read-only with it; files may still
				 * be open for writing on it (unmounted lazily) or on them. */
				keep_id(h->mnt.id);
				(void)fence_binds(h->mnt.id);
				r = dvol_writer_mount_writers(kept_ids, n_kept_ids, &pid);
				if (r <= 0) {
					log_info("%s was unmounted; the writer's lease is released",
						 target_shown());
					return DVOL_EX_OK;
				}
				log_warning("%s was unmounted, but %d file%s still open for "
					    "writing on the volume (process %d%s); the writer's "
					    "lease is kept until %s closed",
					    target_shown(), r, r == 1 ? " is" : "s are", (int)pid,
					    r > 1 ? " and others" : "",
					    r == 1 ? "it is" : "they are");
				lingering = true;
			}
		}
		if (lingering && dvol_writer_mount_writers(kept_ids, n_kept_ids, &pid) <= 0) {
			log_info("%s: no file is open for writing on the volume any more; the "
				 "writer's lease is released",
				 target_shown());
			return DVOL_EX_OK;
		}
		if (pfd[3].revents & (POLLERR | POLLHUP)) {
			fence(h->path, &h->mnt, false,
			      "the watcher that fences it if this holder dies is gone");
			return WRITER_EX_FENCED;
		}
		if (pfd[1].revents & POLLIN) {
			int br = 0;

			r = dvol_read_all_until(done_r, &br, sizeof(br), dvol_now_ms() + 1000);
			if (r < 0)
				return log_error_errno(r, "the heartbeat's pipe failed");
			in_flight = false;
			now = dvol_now_ms();
			switch (dvol_lease_after_beat(&h->tm, br, now, last_ok)) {
			case DVOL_LEASE_BEAT_OK:
				/* The write began after this: the server saw us alive then. */
				last_ok = started;
				next = started + h->tm.heartbeat_ms;
				watcher_beat(h->watch_w, 'b');
				log_debug("heartbeat on %s", target_shown());
				break;
			case DVOL_LEASE_BEAT_RETRY:
				log_warning_errno(br, "%s: a heartbeat failed; trying again",
						  target_shown());
				next =
				    now + (h->tm.heartbeat_ms < 1000 ? h->tm.heartbeat_ms : 1000);
				break;
			case DVOL_LEASE_BEAT_FENCE: {
				char why[160];

				snprintf(why, sizeof(why), "a heartbeat failed (%s)%s",
					 strerror(-br),
					 br == -EIO ? "; the server may have given the lease to "
						      "another host"
						    : "");
				fence(h->path, &h->mnt, true, why);
				return WRITER_EX_FENCED;
			}
			}
		}
	}
}

/*
 * The lease time: the server's, where the NFS client shows it (NFSv4, in mountstats);
 * --lease-time= elsewhere. NFS without a lease (v3: NLM locks) cannot bound a takeover.
 */
static int lease_time(const struct holder *h, uint64_t *ret_ms)
{
	uint64_t ms = 0;
	int r;

	r = dvol_writer_server_lease(h->path, &ms);
	if (r == 0) {
		if (ms < DVOL_LEASE_TIME_MS_MIN || ms > DVOL_LEASE_TIME_MS_MAX)
			return log_error_errno(
			    -ERANGE,
			    "%s: the server's lease is %llu s, outside the %d s to "
			    "%d s dvol-writer keeps",
			    target_shown(), (unsigned long long)(ms / 1000),
			    DVOL_LEASE_TIME_MS_MIN / 1000, DVOL_LEASE_TIME_MS_MAX / 1000);
		if (arg_lease_set && ms != arg_lease_ms)
			log_notice("%s: the server's lease is %llu s (as the NFS client shows it), "
				   "not the %.0f s given; keeping the server's",
				   target_shown(), (unsigned long long)(ms / 1000),
				   arg_lease_ms / 1000.0);
		*ret_ms = ms;
		return 0;
	}
	if (r != -ENOENT)
		log_warning_errno(r,
				  "%s: cannot read the server's lease from "
				  "/proc/self/mountstats; taking %.0f s",
				  target_shown(), arg_lease_ms / 1000.0);
	else if (dvol_writer_on_nfs(h->target_fd) > 0)
		return log_error_errno(-EPROTONOSUPPORT,
				       "%s is NFS without a lease (NFSv3?): its locks (NLM) "
				       "outlive a dead holder until its host comes back, so no "
				       "takeover could be bounded. The writer's lease needs NFSv4",
				       target_shown());
	*ret_ms = arg_lease_ms;
	return 0;
}

static int hold(void)
{
	_cleanup_(holder_done) struct holder h = {
	    .target_fd = -EBADF, .tree = -EBADF, .fd = -EBADF, .watch_w = -EBADF};
	uint64_t lease_ms = 0;
	bool stuck = false;
	int r;

	r = setup_signals();
	if (r < 0)
		return log_error_errno(r, "cannot set up signal handling"), DVOL_EX_SYSERR;
	r = dvol_sandbox_enter(DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_WPATH | DVOL_SB_MOUNT |
			       DVOL_SB_NS);
	if (r < 0)
		return log_error_errno(r, "cannot enter the sandbox"), DVOL_EX_SYSERR;

	r = resolve(&h.target_fd, &h.mnt, &h.path);
	if (r >= 0 && dvol_writer_volume_of(h.mnt.id, &vol_dev, &vol_root) < 0)
		log_warning("%s: cannot tell which filesystem it is; its other mounts are not "
			    "fenced with it",
			    target_shown());
	if (r < 0)
		return DVOL_EX_SYSERR;
	r = lease_time(&h, &lease_ms);
	if (r < 0)
		return DVOL_EX_SYSERR;
	r = dvol_lease_timing(lease_ms, &h.tm);
	if (r < 0)
		return DVOL_EX_SYSERR;
	r = dvol_writer_identity(&h.me);
	if (r < 0)
		return log_error_errno(r, "cannot read this host's identity (/etc/machine-id, "
					  "boot id, host name)"),
		       DVOL_EX_SYSERR;
	r = dvol_writer_clone_tree(h.target_fd, &h.tree);
	if (r < 0) {
		log_error_errno(r, "%s: cannot make a private copy of its mount", target_shown());
		goto fail;
	}
	h.target_fd = safe_close(h.target_fd);
	r = take(&h, &stuck);
	if (r <= 0) {
		watcher_release(&h.watch_w);
		if (stuck) {
			/* The request keeps the volume busy; the exit ends it. */
			fflush(stdout);
			fflush(stderr);
			_exit(WRITER_EX_NOT_HELD);
		}
		return r < 0 ? DVOL_EX_SYSERR : WRITER_EX_NOT_HELD;
	}
	r = record(&h);
	if (r < 0)
		goto fail;
	/* The watcher is the backstop, one heartbeat later than the holder's own fence and still
	 * well before the lease can end (lease/2 + lease/6). Forked now, it shares the lock. */
	r = start_watcher(-EBADF, h.path, &h.mnt, h.tm.fence_ms + h.tm.heartbeat_ms, &h.watch_w);
	if (r < 0)
		goto fail;
	if (arg_rw) {
		r = dvol_writer_set_rw(h.path, &h.mnt);
		if (r < 0) {
			log_error_errno(r,
					"%s: the writer's lease is held, but the mount cannot be "
					"made read-write%s; letting the lease go",
					target_shown(),
					r == -ESTALE ? " (it is not the volume's mount any more)"
						     : "");
			goto fail;
		}
	}
	watcher_beat(h.watch_w, 'h');
	report("held", &h.me);
	ready_done();
	log_info("%s: holding the writer's lease, generation %llu (lease %.0f s, heartbeat "
		 "every %.1f s)",
		 target_shown(), (unsigned long long)h.me.generation, h.tm.lease_ms / 1000.0,
		 h.tm.heartbeat_ms / 1000.0);

	/* From here: the record's writes and fsync (blkdev's), the mount table, the fence. */
	r = dvol_sandbox_enter(DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_BLKDEV | DVOL_SB_MOUNT |
			       DVOL_SB_NS);
	if (r < 0) {
		log_error_errno(r, "cannot narrow the sandbox");
		goto fail;
	}
	r = keep(&h);
	if (r < 0)
		r = fence(h.path, &h.mnt, false, "the holder of the writer's lease failed") < 0
			? DVOL_EX_SYSERR
			: WRITER_EX_FENCED;
	watcher_release(&h.watch_w);
	/*
	 * No close of the lock file by hand: with a heartbeat blocked in the filesystem, the
	 * close would wait behind it (the inode's lock; an NFS flush and unlock) for as long
	 * as the server is away. The process's exit ends the heartbeat's thread first, then
	 * closes the files, which releases the lock.
	 */
	fflush(stdout);
	fflush(stderr);
	_exit(r);

fail:
	/* Nothing held: the mount stays as it was. */
	watcher_release(&h.watch_w);
	return DVOL_EX_SYSERR;
}

/* --- fence, status ----------------------------------------------------------------------- */

static int do_fence(void)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *path = NULL;
	struct dvol_writer_mount m = {0};
	int r;

	r = dvol_sandbox_enter(DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_MOUNT | DVOL_SB_NS);
	if (r < 0)
		return log_error_errno(r, "cannot enter the sandbox"), DVOL_EX_SYSERR;
	r = resolve(&fd, &m, &path);
	if (r >= 0 && dvol_writer_volume_of(m.id, &vol_dev, &vol_root) < 0)
		log_warning("%s: cannot tell which filesystem it is; its other mounts are not "
			    "fenced with it",
			    target_shown());
	if (r < 0)
		return DVOL_EX_SYSERR;
	fd = safe_close(fd);
	r = fence(path, &m, false, "fenced by request");
	return r < 0 ? DVOL_EX_SYSERR : DVOL_EX_OK;
}

static int status_json(const char *path, int held, int rr, const struct dvol_lease_record *rec,
		       const struct dvol_lease_record *me)
{
	_cleanup_json_ json_object *o = json_object_new_object(), *hj = NULL;
	int r;

	if (!o)
		return -ENOMEM;
	r = dvol_json_add_string(o, "target", path);
	if (r >= 0)
		r = dvol_json_add_string(o, "state", held ? "held" : "free");
	if (r >= 0)
		r = dvol_json_add_string(o, "record",
					 rr == 0	  ? "valid"
					 : rr == -EBADMSG ? "unreadable"
							  : "none");
	if (r >= 0 && rr == 0) {
		r = dvol_lease_record_to_json(rec, DVOL_LEASE_JSON_HOLDER, NULL, &hj);
		if (r >= 0 && me)
			r = dvol_json_add_bool(hj, "this_host", dvol_lease_same_host(rec, me));
		if (r >= 0)
			r = dvol_json_add(o, held ? "holder" : "last_holder", TAKE_PTR(hj));
	}
	if (r >= 0)
		r = dvol_json_print(o, stdout);
	return r;
}

static int status(void)
{
	_cleanup_close_ int fd = -EBADF, tree = -EBADF, lfd = -EBADF;
	_cleanup_free_ char *path = NULL, *who = NULL;
	struct dvol_lease_record rec, me;
	struct dvol_writer_mount m = {0};
	bool have_me;
	int r, rr = -ENOENT, held = 0;

	r = dvol_sandbox_enter(DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_MOUNT);
	if (r < 0)
		return log_error_errno(r, "cannot enter the sandbox"), DVOL_EX_SYSERR;
	r = resolve(&fd, &m, &path);
	if (r < 0)
		return DVOL_EX_SYSERR;
	have_me = dvol_writer_identity(&me) == 0;
	r = dvol_writer_clone_tree(fd, &tree);
	if (r < 0)
		return log_error_errno(r, "%s: cannot make a private copy of its mount",
				       target_shown()),
		       DVOL_EX_SYSERR;
	fd = safe_close(fd);
	r = dvol_writer_open_lock(tree, false, &lfd);
	if (r < 0 && r != -ENOENT)
		return log_error_errno(r, "%s: cannot open .dvol/writer.lock", target_shown()),
		       DVOL_EX_SYSERR;
	if (r == 0) {
		held = dvol_writer_lock_held(lfd);
		if (held < 0)
			return log_error_errno(held,
					       "%s: cannot ask whether the writer's lock is "
					       "held",
					       target_shown()),
			       DVOL_EX_SYSERR;
		rr = dvol_writer_read_record(lfd, &rec);
		if (rr < 0 && rr != -EBADMSG && rr != -ENODATA)
			return log_error_errno(rr, "%s: cannot read .dvol/writer.lock",
					       target_shown()),
			       DVOL_EX_SYSERR;
	}
	r = dvol_sandbox_enter(DVOL_SB_STDIO);
	if (r < 0)
		return log_error_errno(r, "cannot narrow the sandbox"), DVOL_EX_SYSERR;

	if (arg_json) {
		r = status_json(path, held, rr, &rec, have_me ? &me : NULL);
		if (r < 0)
			return log_error_errno(r, "cannot print the status"), DVOL_EX_SYSERR;
		return held ? DVOL_EX_OK : WRITER_EX_NOT_HELD;
	}
	who = rr == 0 ? describe(&rec, have_me ? &me : NULL) : NULL;
	if (held && rr == 0) {
		char ago[64] = "";
		uint64_t now = unix_now();

		if (now >= rec.heartbeat)
			snprintf(ago, sizeof(ago), " (%llu s ago)",
				 (unsigned long long)(now - rec.heartbeat));
		printf("%s: held by %s%s\n", target_shown(), who ?: "?", ago);
	} else if (held)
		printf("%s: held, by a holder whose record is unreadable (not one dvol wrote)\n",
		       target_shown());
	else if (rr == 0)
		printf("%s: free; last held by %s\n", target_shown(), who ?: "?");
	else if (rr == -EBADMSG)
		printf("%s: free; the record left in .dvol/writer.lock is unreadable\n",
		       target_shown());
	else
		printf("%s: free; no writer's lease was taken here yet\n", target_shown());
	return held ? DVOL_EX_OK : WRITER_EX_NOT_HELD;
}

int main(int argc, char *argv[])
{
	const char *why;
	int r;

	dvol_log_open("dvol-writer");
	/* Times are shown in UTC; glibc still reads the zone file once, before the sandbox. */
	tzset();
	if (dvol_refuse_elevation(&why) < 0) {
		log_error("refusing to run: %s", why);
		return DVOL_EX_USAGE;
	}
	r = parse_argv(argc, argv);
	if (r < 0)
		fprintf(stderr, "Try 'dvol-writer --help' for more information.\n");
	if (r <= 0)
		return r < 0 ? DVOL_EX_USAGE : DVOL_EX_OK;

	switch (arg_verb) {
	case VERB_HOLD:
		return hold();
	case VERB_FENCE:
		return do_fence();
	case VERB_STATUS:
		return status();
	}
	return DVOL_EX_SOFTWARE;
}
