/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dvol-warm: read a manifest's files through, so that a network volume's local cache
 * (FS-Cache) holds them before a job starts; or, with --check, tell how much of them it
 * holds already.
 *
 *   parse (argv, manifests) -> open the root -> Landlock beneath it -> plan (match the
 *   patterns) -> act (a pool of readers; the main thread reports) -> report
 *
 * Its seccomp stage from the start is stdio and rpath: no write, no exec, no socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "escape.h"
#include "exitcode.h"
#include "json.h"
#include "landlock.h"
#include "log.h"
#include "parse.h"
#include "rootdir.h"
#include "sandbox.h"
#include "timeutil.h"
#include "version.h"
#include "warm.h"
#include "warmplan.h"

#define JOBS_MAX     64
#define BLOCK_MIN    4096
#define BLOCK_MAX    (256ULL << 20)
#define SAMPLES_MAX  1024
#define SAMPLE_LEN   (64ULL << 10)
#define MANIFEST_MAX (16ULL << 20)
/* A file larger than this is read by several readers at once, a piece each: one large file
 * is then as many sequential streams as there are readers. */
#define CHUNK		 (256ULL << 20)
#define PROGRESS_TICK_MS 250

static bool arg_json;
static bool arg_check;
static bool arg_quiet;
static const char *arg_root;
static unsigned arg_jobs = 4;
static uint64_t arg_block = 4ULL << 20;
static unsigned arg_samples = 16;
static uint64_t arg_threshold_ms = 2;
static char **arg_manifests;
static size_t arg_n_manifests;

static void help(void)
{
	printf("Usage: dvol-warm [OPTIONS] MANIFEST...\n"
	       "       dvol-warm [OPTIONS] --root DIR PATTERN...\n"
	       "\n"
	       "Read the files a manifest names through, several at once with large reads, so\n"
	       "that the volume's local cache holds them; or tell how much of them it holds.\n"
	       "\n"
	       "  -m, --manifest FILE   a manifest (repeatable); also with --root and patterns\n"
	       "      --root DIR        the volume: patterns are relative to it (it wins over a\n"
	       "                        manifest's root line)\n"
	       "  -j, --jobs N          files read at once (default 4, at most %d)\n"
	       "      --block-size SIZE one read's size (default 4M)\n"
	       "      --check           sample each file with timed reads instead of reading it\n"
	       "      --samples N       --check: samples per file (default 16)\n"
	       "      --threshold TIME  --check: a sample faster than this is local (default 2ms)\n"
	       "      --json            one JSON object per file and a summary, even on a tty\n"
	       "  -q, --quiet           no progress line and no line per file; the summary only\n"
	       "  -v, --verbose         say more\n"
	       "  -h, --help            this text\n"
	       "  -V, --version\n"
	       "\n"
	       "Exit: 0 every file read, 1 usage or a bad manifest, 2 some file failed,\n"
	       "8 interrupted.\n"
	       "See dvol-warm(8).\n",
	       JOBS_MAX);
}

static int bad_value(const char *opt, const char *v, const char *what)
{
	_cleanup_free_ char *a = dvol_escape_shown(v, 256);

	log_error("--%s %s: %s", opt, a ?: "?", what);
	return -EINVAL;
}

static int parse_uint(const char *s, unsigned min, unsigned max, unsigned *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || *s == '-' || v < min || v > max)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

static int parse_argv(int argc, char *argv[])
{
	enum {
		ARG_ROOT = 0x100,
		ARG_BLOCK,
		ARG_CHECK,
		ARG_SAMPLES,
		ARG_THRESHOLD,
		ARG_JSON,
	};
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"manifest", required_argument, NULL, 'm'},
	    {"jobs", required_argument, NULL, 'j'},
	    {"root", required_argument, NULL, ARG_ROOT},
	    {"block-size", required_argument, NULL, ARG_BLOCK},
	    {"check", no_argument, NULL, ARG_CHECK},
	    {"samples", required_argument, NULL, ARG_SAMPLES},
	    {"threshold", required_argument, NULL, ARG_THRESHOLD},
	    {"json", no_argument, NULL, ARG_JSON},
	    {},
	};
	char **n;
	int c;

	while ((c = getopt_long(argc, argv, "hVvqm:j:", longopts, NULL)) >= 0) {
		switch (c) {
		case 'h':
			help();
			return 0;
		case 'V':
			dvol_print_version("dvol-warm");
			return 0;
		case 'v':
			dvol_log_verbose();
			break;
		case 'q':
			arg_quiet = true;
			break;
		case 'm':
			n = reallocarray(arg_manifests, arg_n_manifests + 1, sizeof(*n));
			if (!n)
				return log_error_errno(-ENOMEM, "out of memory");
			arg_manifests = n;
			arg_manifests[arg_n_manifests++] = optarg;
			break;
		case 'j':
			if (parse_uint(optarg, 1, JOBS_MAX, &arg_jobs) < 0)
				return bad_value("jobs", optarg,
						 "a number of readers from 1 to 64");
			break;
		case ARG_ROOT:
			if (optarg[0] != '/')
				return bad_value("root", optarg,
						 "the volume must be an absolute folder");
			arg_root = optarg;
			break;
		case ARG_BLOCK:
			if (dvol_parse_size(optarg, &arg_block) < 0 || arg_block < BLOCK_MIN ||
			    arg_block > BLOCK_MAX)
				return bad_value("block-size", optarg,
						 "a size from 4K to 256M (e.g. 1M, 4M)");
			break;
		case ARG_CHECK:
			arg_check = true;
			break;
		case ARG_SAMPLES:
			if (parse_uint(optarg, 1, SAMPLES_MAX, &arg_samples) < 0)
				return bad_value("samples", optarg,
						 "a number of samples per file from 1 to 1024");
			break;
		case ARG_THRESHOLD:
			if (dvol_parse_duration_ms(optarg, &arg_threshold_ms) < 0 ||
			    arg_threshold_ms > 60000)
				return bad_value("threshold", optarg,
						 "a duration up to 60s (e.g. 2ms, 500ms)");
			break;
		case ARG_JSON:
			arg_json = true;
			break;
		default:
			return -EINVAL;
		}
	}
	if (!arg_root && optind >= argc && arg_n_manifests == 0) {
		log_error("no MANIFEST given (or --root DIR and PATTERNs)");
		return -EINVAL;
	}
	if (arg_root && optind >= argc && arg_n_manifests == 0) {
		log_error("--root %s: no PATTERN given", arg_root);
		return -EINVAL;
	}
	return 1;
}

/* --- parse: the manifests and the patterns ---------------------------------------------- */

/* Where each pattern came from, for messages: a manifest file, or the command line. */
struct patterns {
	struct dvol_warm_manifest m; /* all patterns; m.root: the root they are relative to */
	const char **file;	     /* per pattern: its manifest, NULL for an argument */
	const char *root_from;	     /* the manifest whose root line gave m.root */
	unsigned root_line;
};

static void patterns_done(struct patterns *ps)
{
	dvol_warm_manifest_done(&ps->m);
	free(ps->file);
}

static int note_file(struct patterns *ps, size_t from, const char *file)
{
	const char **nf = reallocarray(ps->file, ps->m.n ? ps->m.n : 1, sizeof(*nf));

	if (!nf)
		return -ENOMEM;
	ps->file = nf;
	for (size_t i = from; i < ps->m.n; i++)
		ps->file[i] = file;
	return 0;
}

static int read_text(const char *path, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EMEDIUMTYPE;
	for (;;) {
		ssize_t k;

		if (len == cap) {
			char *nb;

			if (cap >= MANIFEST_MAX)
				return -EFBIG;
			nb = realloc(buf, cap = cap ? cap * 2 : 4096);
			if (!nb)
				return -ENOMEM;
			buf = nb;
		}
		k = read(fd, buf + len, cap - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		len += (size_t)k;
	}
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

/* One manifest into PS. 0, or -EINVAL/-errno said here. */
static int load_manifest(struct patterns *ps, const char *path)
{
	_cleanup_(dvol_warm_manifest_done) struct dvol_warm_manifest one = {0};
	_cleanup_free_ char *text = NULL, *e = dvol_escape_shown(path, 256);
	const char *why = NULL;
	size_t len = 0, from = ps->m.n;
	unsigned line = 0;
	int r;

	r = read_text(path, &text, &len);
	if (r == -EMEDIUMTYPE)
		return log_error("%s: not a regular file; a manifest is a text file", e ?: "?"),
		       -EINVAL;
	if (r == -EFBIG)
		return log_error("%s: larger than 16 MiB; split it", e ?: "?"), -EINVAL;
	if (r < 0)
		return log_error_errno(r, "%s: cannot read the manifest", e ?: "?");
	r = dvol_warm_manifest_parse(text, len, &one, &line, &why);
	if (r == -EINVAL)
		return log_error("%s:%u: the line %s; see dvol-warm(8) for the format", e ?: "?",
				 line, why),
		       r;
	if (r < 0)
		return log_error_errno(r, "out of memory");
	if (one.root && !arg_root) {
		if (ps->m.root && strcmp(ps->m.root, one.root) != 0) {
			_cleanup_free_ char *e1 = dvol_escape_shown(ps->root_from, 256);

			log_error("%s:%u: root %s differs from %s's root %s; run dvol-warm once "
				  "per root, or give --root",
				  e ?: "?", one.root_line, one.root, e1 ?: "?", ps->m.root);
			return -EINVAL;
		}
		if (!ps->m.root) {
			ps->m.root = TAKE_PTR(one.root);
			ps->root_from = path;
			ps->root_line = one.root_line;
		}
	}
	for (size_t i = 0; i < one.n; i++) {
		r = dvol_warm_manifest_add(&ps->m, one.p[i].text, one.p[i].line, &why);
		if (r < 0)
			return log_error_errno(r, "out of memory");
	}
	r = note_file(ps, from, path);
	return r < 0 ? log_error_errno(r, "out of memory") : 0;
}

static int load_patterns(struct patterns *ps, int argc, char *argv[])
{
	int r;

	for (size_t i = 0; i < arg_n_manifests; i++) {
		r = load_manifest(ps, arg_manifests[i]);
		if (r < 0)
			return r;
	}
	for (int i = optind; i < argc; i++) {
		const char *why = NULL;
		size_t from = ps->m.n;

		if (!arg_root) {
			r = load_manifest(ps, argv[i]);
			if (r < 0)
				return r;
			continue;
		}
		r = dvol_warm_manifest_add(&ps->m, argv[i], (unsigned)(i - optind + 1), &why);
		if (r == -EINVAL) {
			_cleanup_free_ char *a = dvol_escape_shown(argv[i], 256);

			log_error("pattern '%s' %s", a ?: "?", why);
			return r;
		}
		if (r < 0 || note_file(ps, from, NULL) < 0)
			return log_error_errno(-ENOMEM, "out of memory");
	}
	if (arg_root) {
		free(ps->m.root);
		ps->m.root = strdup(arg_root);
		if (!ps->m.root)
			return log_error_errno(-ENOMEM, "out of memory");
	}
	if (!ps->m.root) {
		log_error("no root: give --root DIR, or a 'root /path' line in the manifest");
		return -EINVAL;
	}
	return 0;
}

/* "manifest:line" or "argument N", for messages. */
static void pattern_where(const struct patterns *ps, size_t i, char *buf, size_t size)
{
	_cleanup_free_ char *e = ps->file[i] ? dvol_escape_shown(ps->file[i], 256) : NULL;

	if (ps->file[i])
		snprintf(buf, size, "%s:%u", e ?: "?", ps->m.p[i].line);
	else
		snprintf(buf, size, "argument %u", ps->m.p[i].line);
}

/* --- report: what goes to stdout and stderr --------------------------------------------- */

static bool out_json;	    /* JSON lines on stdout */
static bool out_progress;   /* the progress line on stderr */
static bool progress_shown; /* a progress line is on the screen now */
static char *eroot;	    /* the root, escaped for messages */

static void progress_clear(void)
{
	if (progress_shown)
		fputs("\r\033[K", stderr);
	progress_shown = false;
}

static bool out_broken; /* stdout failed (its reader went away): said once */

static void emit(json_object *o)
{
	_cleanup_json_ json_object *j = o;

	if (out_broken)
		return;
	/* With --json on a terminal, stdout and the progress line may share a screen. */
	progress_clear();
	if (!j || dvol_json_print_line(j, stdout) < 0) {
		log_error("cannot write the JSON report");
		out_broken = true;
	}
}

struct counts {
	size_t files_ok, errors, skipped, unmatched, dups;
	uint64_t bytes;
	unsigned samples[_DVOL_WARM_SAMPLE_MAX];
	double cached_bytes; /* --check: the estimate, by each file's fraction */
};

static void on_skip(void *userdata, const struct dvol_warm_pattern *p, enum dvol_warm_skip why,
		    const char *path, int err)
{
	struct counts *c = userdata;
	_cleanup_free_ char *e = dvol_escape_shown(path, 512);
	json_object *o;

	switch (why) {
	case DVOL_WARM_SKIP_SYMLINK:
		c->skipped++;
		log_warning("%s/%s: a symbolic link; dvol-warm follows none: name the file it "
			    "points to",
			    eroot, e ?: "?");
		break;
	case DVOL_WARM_SKIP_DIR:
		c->skipped++;
		log_notice("%s/%s: a folder; patterns name files (add '/*' for the files in it)",
			   eroot, e ?: "?");
		break;
	case DVOL_WARM_SKIP_SPECIAL:
		c->errors++;
		log_error("%s/%s: not a regular file (a FIFO, socket or device); not read", eroot,
			  e ?: "?");
		break;
	default:
		c->errors++;
		log_error_errno(err, "%s/%s: cannot look at it", eroot, e ?: "?");
		break;
	}
	if (!out_json || arg_quiet)
		return;
	o = json_object_new_object();
	if (o && (dvol_json_add_string(o, "type", "file") < 0 ||
		  dvol_json_add_string(o, "path", path) < 0 ||
		  dvol_json_add_string(o, "result",
				       why == DVOL_WARM_SKIP_SYMLINK || why == DVOL_WARM_SKIP_DIR
					   ? "skipped"
					   : "failed") < 0 ||
		  dvol_json_add_string(o, "reason", dvol_warm_skip_to_string(why)) < 0 ||
		  (err && dvol_json_add_string(o, "errno", strerrorname_np(-err)) < 0))) {
		json_object_put(o);
		o = NULL;
	}
	emit(o);
}

/* --- resolve and plan ------------------------------------------------------------------- */

static int open_root(const char *root, int *ret_fd)
{
	_cleanup_free_ char *at = NULL, *eat = NULL;
	int r = dvol_rootdir_open(root, ret_fd, &at);

	if (r >= 0)
		return 0;
	eat = at ? dvol_escape_shown(at, 256) : NULL;
	if (r == -ELOOP && eat)
		log_error("%s: %s is a symbolic link; dvol-warm follows none in a root: give the "
			  "real folder",
			  eroot, eat);
	else if (r == -ENOENT && eat)
		log_error("%s: %s does not exist (is the volume mounted?)", eroot, eat);
	else if (r == -ENOTDIR && eat)
		log_error("%s: %s is not a folder", eroot, eat);
	else
		log_error_errno(r, "%s: cannot open the root", eroot);
	return r;
}

static int plan_all(int root_fd, const struct patterns *ps, struct dvol_warm_plan *plan,
		    struct counts *c)
{
	for (size_t i = 0; i < ps->m.n; i++) {
		size_t matched = 0, dups = plan->dups;
		int r = dvol_warm_plan_add(root_fd, &ps->m.p[i], (unsigned)i, plan, on_skip, c,
					   &matched);

		if (r < 0)
			return log_error_errno(r, "out of memory");
		if (matched == 0) {
			char where[300];
			_cleanup_free_ char *e = dvol_escape_shown(ps->m.p[i].text, 256);

			pattern_where(ps, i, where, sizeof(where));
			log_warning("%s: pattern '%s' matches nothing in %s", where, e ?: "?",
				    eroot);
			c->unmatched++;
		}
		if (plan->dups > dups)
			log_debug("pattern '%s': %zu files already matched before; read once",
				  ps->m.p[i].text, plan->dups - dups);
	}
	c->dups = plan->dups;
	return 0;
}

/* --- act: the readers ------------------------------------------------------------------- */

struct job {
	size_t file;
	uint64_t off;
	uint64_t len; /* UINT64_MAX: to the end */
};

struct file_state {
	uint64_t start_us, end_us;
	uint64_t bytes;
	unsigned chunks_left;
	int err;
	unsigned samples[_DVOL_WARM_SAMPLE_MAX];
	bool nowait_unsupported;
};

struct pool {
	int root_fd;
	const struct dvol_warm_plan *plan;
	struct job *jobs;
	size_t n_jobs;
	struct file_state *fs;
	atomic_size_t next;
	atomic_uint_fast64_t bytes_done;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t *done; /* files finished, in the order they finished */
	size_t n_done;
	unsigned running;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = 1;
}

static int read_chunk(struct pool *p, const struct job *j, char *buf, uint64_t *ret_bytes)
{
	_cleanup_close_ int fd = -EBADF;
	uint64_t off = j->off, left = j->len;
	int r;

	*ret_bytes = 0;
	r = dvol_warm_open(p->root_fd, &p->plan->f[j->file], &fd);
	if (r < 0)
		return r;
	(void)posix_fadvise(fd, (off_t)j->off, j->len == UINT64_MAX ? 0 : (off_t)j->len,
			    POSIX_FADV_SEQUENTIAL);
	while (left > 0 && !interrupted) {
		size_t want = left < arg_block ? (size_t)left : (size_t)arg_block;
		ssize_t k = pread(fd, buf, want, (off_t)off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break; /* the end: the file may have shrunk, which is no error here */
		off += (uint64_t)k;
		left -= j->len == UINT64_MAX ? 0 : (uint64_t)k;
		*ret_bytes += (uint64_t)k;
		atomic_fetch_add(&p->bytes_done, (uint64_t)k);
	}
	return interrupted ? -EINTR : 0;
}

/* Sample the file of job J: in memory (RWF_NOWAIT read it whole), or timed. */
static int check_file(struct pool *p, const struct job *j, char *buf, struct file_state *fs,
		      uint64_t *ret_bytes)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ uint64_t *offs = calloc(arg_samples, sizeof(*offs));
	const struct dvol_warm_file *f = &p->plan->f[j->file];
	unsigned n;
	int r;

	*ret_bytes = 0;
	if (!offs)
		return -ENOMEM;
	r = dvol_warm_open(p->root_fd, f, &fd);
	if (r < 0)
		return r;
	n = dvol_warm_sample_offsets(f->size, arg_samples, SAMPLE_LEN, offs);
	for (unsigned i = 0; i < n && !interrupted; i++) {
		size_t want = f->size - offs[i] < SAMPLE_LEN ? (size_t)(f->size - offs[i])
							     : (size_t)SAMPLE_LEN;
		struct iovec iov = {.iov_base = buf, .iov_len = want};
		uint64_t t0;
		ssize_t k = -1;

		if (!fs->nowait_unsupported) {
			k = preadv2(fd, &iov, 1, (off_t)offs[i], RWF_NOWAIT);
			if (k < 0 && (errno == EOPNOTSUPP || errno == EINVAL))
				fs->nowait_unsupported = true;
		}
		if (k == (ssize_t)want) {
			fs->samples[DVOL_WARM_SAMPLE_MEMORY]++;
			*ret_bytes += want;
			continue;
		}
		t0 = dvol_now_us();
		do
			k = pread(fd, buf, want, (off_t)offs[i]);
		while (k < 0 && errno == EINTR);
		if (k < 0)
			return -errno;
		fs->samples[dvol_warm_sample_classify(dvol_now_us() - t0,
						      arg_threshold_ms * 1000)]++;
		*ret_bytes += (uint64_t)k;
	}
	atomic_fetch_add(&p->bytes_done, *ret_bytes);
	return interrupted ? -EINTR : 0;
}

static void *reader_main(void *userdata)
{
	struct pool *p = userdata;
	_cleanup_free_ char *buf = malloc(arg_check ? SAMPLE_LEN : arg_block);

	for (;;) {
		size_t i = atomic_fetch_add(&p->next, 1);
		struct file_state local = {0}, *fs;
		uint64_t bytes = 0, start;
		int r;

		if (i >= p->n_jobs || interrupted)
			break;
		fs = &p->fs[p->jobs[i].file];
		start = dvol_now_us();
		if (!buf)
			r = -ENOMEM;
		else if (arg_check)
			r = check_file(p, &p->jobs[i], buf, &local, &bytes);
		else
			r = read_chunk(p, &p->jobs[i], buf, &bytes);

		pthread_mutex_lock(&p->lock);
		if (!fs->start_us || start < fs->start_us)
			fs->start_us = start;
		fs->bytes += bytes;
		for (int s = 0; s < _DVOL_WARM_SAMPLE_MAX; s++)
			fs->samples[s] += local.samples[s];
		if (r < 0 && !fs->err)
			fs->err = r;
		if (--fs->chunks_left == 0) {
			fs->end_us = dvol_now_us();
			p->done[p->n_done++] = p->jobs[i].file;
			pthread_cond_signal(&p->cond);
		}
		pthread_mutex_unlock(&p->lock);
	}
	pthread_mutex_lock(&p->lock);
	p->running--;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* The pieces to read: one per file, or CHUNK-sized ones of a large file. */
static int make_jobs(struct pool *p)
{
	uint64_t chunk = CHUNK < arg_block ? arg_block : CHUNK / arg_block * arg_block;
	size_t n = 0;

	for (size_t i = 0; i < p->plan->n; i++)
		n += arg_check || p->plan->f[i].size <= chunk
			 ? 1
			 : (size_t)((p->plan->f[i].size + chunk - 1) / chunk);
	p->jobs = calloc(n ? n : 1, sizeof(*p->jobs));
	if (!p->jobs)
		return -ENOMEM;
	for (size_t i = 0; i < p->plan->n; i++) {
		uint64_t size = p->plan->f[i].size;

		if (arg_check || size <= chunk) {
			p->jobs[p->n_jobs++] = (struct job){.file = i, .len = UINT64_MAX};
			p->fs[i].chunks_left = 1;
			continue;
		}
		for (uint64_t off = 0; off < size; off += chunk) {
			/* The last piece reads to the end, wherever that is by then. */
			p->jobs[p->n_jobs++] = (struct job){
			    .file = i, .off = off, .len = off + chunk >= size ? UINT64_MAX : chunk};
			p->fs[i].chunks_left++;
		}
	}
	return 0;
}

static double secs(uint64_t us)
{
	return (double)us / 1e6;
}

static void report_file(const struct pool *p, size_t i, struct counts *c)
{
	const struct dvol_warm_file *f = &p->plan->f[i];
	const struct file_state *fs = &p->fs[i];
	unsigned n = 0, cached;
	double t = secs(fs->end_us - fs->start_us), frac = 0;
	_cleanup_json_ json_object *o = NULL;
	int r;

	for (int s = 0; s < _DVOL_WARM_SAMPLE_MAX; s++)
		n += fs->samples[s];
	cached = fs->samples[DVOL_WARM_SAMPLE_MEMORY] + fs->samples[DVOL_WARM_SAMPLE_LOCAL];
	frac = n ? (double)cached / n : 1;
	if (fs->err && fs->err != -EINTR) {
		_cleanup_free_ char *e = dvol_escape_shown(f->path, 512);

		c->errors++;
		progress_clear();
		if (fs->err == -ELOOP)
			log_error("%s/%s: a symbolic link is in its path now (it was not when it "
				  "was matched); not followed",
				  eroot, e ?: "?");
		else if (fs->err == -EXDEV)
			log_error("%s/%s: replaced since it was matched; not read", eroot,
				  e ?: "?");
		else if (fs->err == -EMEDIUMTYPE)
			log_error("%s/%s: not a regular file now; not read", eroot, e ?: "?");
		else
			log_error_errno(fs->err, "%s/%s: cannot %s it", eroot, e ?: "?",
					arg_check ? "sample" : "read");
	} else if (!fs->err) {
		c->files_ok++;
		c->bytes += arg_check ? f->size : fs->bytes;
		for (int s = 0; s < _DVOL_WARM_SAMPLE_MAX; s++)
			c->samples[s] += fs->samples[s];
		c->cached_bytes += frac * (double)f->size;
	}
	if (!out_json || arg_quiet || fs->err == -EINTR)
		return;
	o = json_object_new_object();
	if (!o)
		return;
	r = dvol_json_add_string(o, "type", "file");
	if (r >= 0)
		r = dvol_json_add_string(o, "path", f->path);
	if (r >= 0)
		r = dvol_json_add_u64(o, "bytes", arg_check ? f->size : fs->bytes);
	if (r >= 0)
		r = dvol_json_add_double(o, "seconds", t);
	if (r >= 0 && !arg_check)
		r = dvol_json_add_double(o, "rate", t > 0 ? (double)fs->bytes / t : 0);
	if (r >= 0 && arg_check) {
		for (int s = 0; r >= 0 && s < _DVOL_WARM_SAMPLE_MAX; s++)
			r = dvol_json_add_u64(o, dvol_warm_sample_to_string(s), fs->samples[s]);
		if (r >= 0)
			r = dvol_json_add_u64(o, "samples", n);
		if (r >= 0)
			r = dvol_json_add_double(o, "cached", frac);
	}
	if (r >= 0)
		r = dvol_json_add_string(o, "result", fs->err ? "failed" : "ok");
	if (r >= 0 && fs->err)
		r = dvol_json_add_string(o, "error", strerror(-fs->err));
	if (r >= 0 && fs->err)
		r = dvol_json_add_string(o, "errno", strerrorname_np(-fs->err));
	if (r >= 0)
		emit(TAKE_PTR(o));
	else
		log_error("cannot write the JSON report");
}

static void progress_draw(const struct pool *p, uint64_t start_us, size_t files_done)
{
	char line[256];

	if (arg_check)
		/* What the samples take is not known ahead: the files are the measure. */
		snprintf(line, sizeof(line), "checking: files %zu/%zu", files_done, p->plan->n);
	else
		dvol_warm_progress_line(
		    &(struct dvol_warm_progress){.bytes_done = atomic_load(&p->bytes_done),
						 .bytes_total = p->plan->bytes,
						 .files_done = files_done,
						 .files_total = p->plan->n,
						 .seconds = secs(dvol_now_us() - start_us)},
		    line, sizeof(line));
	fprintf(stderr, "\r\033[K%s", line);
	fflush(stderr);
	progress_shown = true;
}

static void deadline_in(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_nsec += (long)ms * 1000000L;
	ts->tv_sec += ts->tv_nsec / 1000000000L;
	ts->tv_nsec %= 1000000000L;
}

/* The readers, and the main thread's reports as files finish. 0, -EINTR or -errno. */
static int act(int root_fd, const struct dvol_warm_plan *plan, struct counts *c, uint64_t start_us)
{
	_cleanup_free_ pthread_t *threads = NULL;
	_cleanup_free_ struct file_state *fs = calloc(plan->n ? plan->n : 1, sizeof(*fs));
	_cleanup_free_ size_t *done = calloc(plan->n ? plan->n : 1, sizeof(*done));
	struct pool p = {.root_fd = root_fd, .plan = plan, .fs = fs, .done = done};
	pthread_condattr_t ca;
	unsigned n_threads;
	size_t reported = 0;
	uint64_t last_draw = 0;
	int r = 0;

	if (!fs || !done || make_jobs(&p) < 0)
		return log_error_errno(-ENOMEM, "out of memory");
	n_threads = arg_jobs < p.n_jobs ? arg_jobs : (unsigned)p.n_jobs;
	threads = calloc(n_threads ? n_threads : 1, sizeof(*threads));
	if (!threads) {
		free(p.jobs);
		return log_error_errno(-ENOMEM, "out of memory");
	}
	pthread_mutex_init(&p.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p.cond, &ca);
	pthread_condattr_destroy(&ca);

	for (unsigned i = 0; i < n_threads; i++) {
		int e = pthread_create(&threads[i], NULL, reader_main, &p);

		if (e) {
			log_error_errno(-e, "cannot start a reader thread");
			n_threads = i;
			if (i == 0)
				r = -e;
			break;
		}
		p.running++;
	}

	pthread_mutex_lock(&p.lock);
	for (;;) {
		struct timespec ts;

		while (reported < p.n_done) {
			size_t i = p.done[reported++];

			pthread_mutex_unlock(&p.lock);
			report_file(&p, i, c);
			pthread_mutex_lock(&p.lock);
		}
		if (p.running == 0)
			break;
		if (out_progress && dvol_now_ms() - last_draw >= PROGRESS_TICK_MS) {
			size_t nd = p.n_done;

			pthread_mutex_unlock(&p.lock);
			progress_draw(&p, start_us, nd);
			last_draw = dvol_now_ms();
			pthread_mutex_lock(&p.lock);
		}
		deadline_in(&ts, PROGRESS_TICK_MS);
		pthread_cond_timedwait(&p.cond, &p.lock, &ts);
	}
	pthread_mutex_unlock(&p.lock);
	for (unsigned i = 0; i < n_threads; i++)
		pthread_join(threads[i], NULL);
	if (out_progress) {
		progress_draw(&p, start_us, reported);
		fputc('\n', stderr);
		progress_shown = false;
	}
	pthread_cond_destroy(&p.cond);
	pthread_mutex_destroy(&p.lock);
	free(p.jobs);
	if (interrupted)
		return -EINTR;
	return r;
}

/* --- report: the summary ---------------------------------------------------------------- */

static int report_summary(const struct dvol_warm_plan *plan, const struct counts *c,
			  const char *root, double t)
{
	unsigned n = 0;
	double frac;

	for (int s = 0; s < _DVOL_WARM_SAMPLE_MAX; s++)
		n += c->samples[s];
	frac = plan->bytes ? c->cached_bytes / (double)plan->bytes : 1;
	if (out_json) {
		_cleanup_json_ json_object *o = json_object_new_object();
		int r = o ? 0 : -ENOMEM;

		if (r >= 0)
			r = dvol_json_add_string(o, "type", "summary");
		if (r >= 0)
			r = dvol_json_add_string(o, "mode", arg_check ? "check" : "warm");
		if (r >= 0)
			r = dvol_json_add_string(o, "root", root);
		if (r >= 0)
			r = dvol_json_add_u64(o, "files", plan->n);
		if (r >= 0)
			r = dvol_json_add_u64(o, "files_ok", c->files_ok);
		if (r >= 0)
			r = dvol_json_add_u64(o, "bytes", c->bytes);
		if (r >= 0)
			r = dvol_json_add_double(o, "seconds", t);
		if (r >= 0 && !arg_check)
			r = dvol_json_add_double(o, "rate", t > 0 ? (double)c->bytes / t : 0);
		for (int s = 0; r >= 0 && arg_check && s < _DVOL_WARM_SAMPLE_MAX; s++)
			r = dvol_json_add_u64(o, dvol_warm_sample_to_string(s), c->samples[s]);
		if (r >= 0 && arg_check)
			r = dvol_json_add_u64(o, "samples", n);
		if (r >= 0 && arg_check)
			r = dvol_json_add_double(o, "cached", frac);
		if (r >= 0 && arg_check)
			r = dvol_json_add_u64(o, "cached_bytes", (uint64_t)c->cached_bytes);
		if (r >= 0)
			r = dvol_json_add_u64(o, "errors", c->errors);
		if (r >= 0)
			r = dvol_json_add_u64(o, "skipped", c->skipped);
		if (r >= 0)
			r = dvol_json_add_u64(o, "duplicates", c->dups);
		if (r >= 0)
			r = dvol_json_add_u64(o, "unmatched", c->unmatched);
		if (r >= 0)
			r = dvol_json_add_bool(o, "interrupted", interrupted);
		if (r >= 0 && !out_broken)
			r = dvol_json_print_line(o, stdout);
		if (r < 0 && !out_broken)
			log_error_errno(r, "cannot write the JSON report");
		return r < 0 || out_broken ? -EIO : 0;
	}
	if (arg_check) {
		char b[32];

		dvol_warm_format_bytes(plan->bytes, b, sizeof(b));
		printf("%s: %zu files, %s: about %.0f%% cached (samples: %u in memory, %u local, "
		       "%u remote)",
		       eroot, plan->n, b, frac * 100, c->samples[DVOL_WARM_SAMPLE_MEMORY],
		       c->samples[DVOL_WARM_SAMPLE_LOCAL], c->samples[DVOL_WARM_SAMPLE_REMOTE]);
	} else {
		char b[32], rate[32], d[32];

		dvol_warm_format_bytes(c->bytes, b, sizeof(b));
		dvol_warm_format_rate(c->bytes, t, rate, sizeof(rate));
		if (t < 60)
			snprintf(d, sizeof(d), "%.1f s", t);
		else
			dvol_warm_format_eta(t, d, sizeof(d));
		printf("%s: read %zu of %zu files, %s in %s (%s)", eroot, c->files_ok, plan->n, b,
		       d, rate);
	}
	if (c->errors)
		printf("; %zu failed", c->errors);
	if (c->skipped)
		printf("; %zu skipped", c->skipped);
	if (c->unmatched)
		printf("; %zu pattern%s matched nothing", c->unmatched,
		       c->unmatched == 1 ? "" : "s");
	printf("%s\n", interrupted ? "; interrupted" : "");
	return fflush(stdout) == 0 ? 0 : -EIO;
}

/* 0; -errno with *ret_fail: usage (1) for a bad manifest, target (2) for a failed file. */
static int run(int argc, char *argv[], enum dvol_fail *ret_fail)
{
	_cleanup_(patterns_done) struct patterns ps = {0};
	_cleanup_(dvol_warm_plan_done) struct dvol_warm_plan plan = {0};
	_cleanup_close_ int root_fd = -EBADF;
	struct counts c = {0};
	uint64_t start_us;
	int r;

	*ret_fail = DVOL_FAIL_USAGE;
	r = load_patterns(&ps, argc, argv);
	if (r < 0)
		return r;

	*ret_fail = DVOL_FAIL_TARGET;
	eroot = dvol_escape_shown(ps.m.root, 256);
	if (!eroot)
		return log_error_errno(-ENOMEM, "out of memory");
	r = open_root(ps.m.root, &root_fd);
	if (r < 0)
		return r;
	/* Nothing but the tree beneath the root, and only to read it. */
	r = dvol_landlock_beneath(&root_fd, 1, false);
	if (r < 0)
		return log_error_errno(r, "cannot confine dvol-warm to %s with Landlock", eroot);
	log_debug("landlock: %s", r > 0 ? "confined to the root" : "not in this kernel");
	dvol_debug_stop("plan");

	start_us = dvol_now_us();
	r = plan_all(root_fd, &ps, &plan, &c);
	if (r < 0)
		return r;
	log_debug("%zu patterns: %zu files, %llu bytes", ps.m.n, plan.n,
		  (unsigned long long)plan.bytes);
	dvol_debug_stop("act");

	r = act(root_fd, &plan, &c, start_us);
	if (r < 0 && r != -EINTR)
		return r;
	if (report_summary(&plan, &c, ps.m.root, secs(dvol_now_us() - start_us)) < 0)
		return -EIO;
	if (out_broken)
		return -EIO;
	if (interrupted)
		return -EINTR;
	return c.errors ? -EIO : 0;
}

int main(int argc, char *argv[])
{
	enum dvol_fail fail = DVOL_FAIL_SYSTEM;
	struct sigaction sa = {.sa_handler = on_signal};
	const char *why;
	int r;

	dvol_log_open("dvol-warm");
	if (dvol_refuse_elevation(&why) < 0) {
		log_error("refusing to run: %s", why);
		return dvol_exit_code(DVOL_FAIL_USAGE, -EPERM);
	}
	/* Reading only, from the start: no write, no exec, no socket. Threads are clone()s
	 * without namespaces, which every stage allows. */
	r = dvol_sandbox_enter(DVOL_SB_STDIO | DVOL_SB_RPATH);
	if (r < 0)
		return log_error_errno(r, "cannot enter the sandbox"),
		       dvol_exit_code(DVOL_FAIL_SYSTEM, r);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	r = parse_argv(argc, argv);
	if (r <= 0) {
		if (r < 0)
			fprintf(stderr, "Try 'dvol-warm --help' for more information.\n");
		free(arg_manifests);
		return dvol_exit_code(DVOL_FAIL_USAGE, r);
	}
	out_json = arg_json || !isatty(STDOUT_FILENO);
	out_progress = !arg_quiet && isatty(STDERR_FILENO);

	r = run(argc, argv, &fail);
	free(arg_manifests);
	free(eroot);
	return dvol_exit_code(fail, r);
}
