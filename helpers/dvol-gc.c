/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dvol-gc: keep cache roots within their budgets, and clear dvol's stale state.
 *
 *   parse -> open the roots -> stale state -> narrow the sandbox -> walk each root -> report
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <inttypes.h>
#include <limits.h>
#include <unistd.h>

#include "cleanup.h"
#include "escape.h"
#include "exitcode.h"
#include "fdutil.h"
#include "fscache.h"
#include "gc.h"
#include "gcconf.h"
#include "json.h"
#include "landlock.h"
#include "parse.h"
#include "log.h"
#include "rootdir.h"
#include "sandbox.h"
#include "stale.h"
#include "version.h"

#define GC_CONFDIR DVOL_SYSCONFDIR "/dvol"

static bool arg_dry_run;
static bool arg_json;
static bool arg_unmount_stale;
static bool arg_verbose;
static const char *arg_config;
static char **arg_roots;
static size_t arg_n_roots;
static struct dvol_gc_budget arg_budget;
static bool arg_budget_given;
static const char *arg_fscache_dir;
static const char *arg_cache_size;
static const char *arg_output;

static void help(void)
{
	printf("Usage: dvol-gc [OPTIONS]\n"
	       "\n"
	       "Keep cache roots within their budgets, evicting the least recently used files\n"
	       "first, and clear dvol's stale mount records.\n"
	       "\n"
	       "  -n, --dry-run        change nothing; list what would be removed\n"
	       "      --json           print the summary as JSON\n"
	       "      --root DIR       a one-off run on DIR (repeatable) instead of the config\n"
	       "      --max-size SIZE  keep the root under SIZE (200G)\n"
	       "      --max-age AGE    remove what was last used longer ago than AGE (30d)\n"
	       "      --min-free N     keep N free on the filesystem (10%% or 50G)\n"
	       "      --grace AGE      never touch what was used within AGE (default 1h)\n"
	       "      --unmount-stale  detach dvol's NFS mounts that answer ESTALE\n"
	       "      --config FILE    read FILE instead of %s/gc.conf and gc.d/*.conf\n"
	       "      --fscache-conf DIR  write cachefilesd's configuration for a cache in DIR,\n"
	       "                       limits from --cache-size and the roots' budgets there\n"
	       "      --cache-size SIZE   the cache's share of its volume (200G or 80%%)\n"
	       "      --output FILE    --fscache-conf: write FILE (replaced whole), not stdout\n"
	       "  -v, --verbose        list every removal\n"
	       "  -h, --help           this text\n"
	       "  -V, --version\n"
	       "\n"
	       "Exit: 0 ok, 1 usage or configuration error, or a root not walked whole,\n"
	       "2 some root failed.\n"
	       "See dvol-gc(8).\n",
	       GC_CONFDIR);
}

static int parse_argv(int argc, char *argv[])
{
	enum {
		ARG_JSON = 0x100,
		ARG_ROOT,
		ARG_MAX_SIZE,
		ARG_MAX_AGE,
		ARG_MIN_FREE,
		ARG_GRACE,
		ARG_UNMOUNT_STALE,
		ARG_CONFIG,
		ARG_FSCACHE_CONF,
		ARG_CACHE_SIZE,
		ARG_OUTPUT,
	};
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"json", no_argument, NULL, ARG_JSON},
	    {"root", required_argument, NULL, ARG_ROOT},
	    {"max-size", required_argument, NULL, ARG_MAX_SIZE},
	    {"max-age", required_argument, NULL, ARG_MAX_AGE},
	    {"min-free", required_argument, NULL, ARG_MIN_FREE},
	    {"grace", required_argument, NULL, ARG_GRACE},
	    {"unmount-stale", no_argument, NULL, ARG_UNMOUNT_STALE},
	    {"config", required_argument, NULL, ARG_CONFIG},
	    {"fscache-conf", required_argument, NULL, ARG_FSCACHE_CONF},
	    {"cache-size", required_argument, NULL, ARG_CACHE_SIZE},
	    {"output", required_argument, NULL, ARG_OUTPUT},
	    {},
	};
	const char *why;
	char **n;
	int c;

	dvol_gc_budget_init(&arg_budget);
	while ((c = getopt_long(argc, argv, "hVvn", longopts, NULL)) >= 0) {
		switch (c) {
		case 'h':
			help();
			return 0;
		case 'V':
			dvol_print_version("dvol-gc");
			return 0;
		case 'v':
			arg_verbose = true;
			dvol_log_verbose();
			break;
		case 'n':
			arg_dry_run = true;
			break;
		case ARG_JSON:
			arg_json = true;
			break;
		case ARG_UNMOUNT_STALE:
			arg_unmount_stale = true;
			break;
		case ARG_CONFIG:
			arg_config = optarg;
			break;
		case ARG_FSCACHE_CONF:
			arg_fscache_dir = optarg;
			break;
		case ARG_CACHE_SIZE:
			arg_cache_size = optarg;
			break;
		case ARG_OUTPUT:
			arg_output = optarg;
			break;
		case ARG_ROOT:
			n = reallocarray(arg_roots, arg_n_roots + 1, sizeof(*n));
			if (!n)
				return log_error_errno(-ENOMEM, "out of memory");
			arg_roots = n;
			arg_roots[arg_n_roots++] = optarg;
			break;
		case ARG_MAX_SIZE:
		case ARG_MAX_AGE:
		case ARG_MIN_FREE:
		case ARG_GRACE: {
			const char *key = c == ARG_MAX_SIZE   ? "max-size"
					  : c == ARG_MAX_AGE  ? "max-age"
					  : c == ARG_MIN_FREE ? "min-free"
							      : "grace";

			if (dvol_gc_budget_set(&arg_budget, key, optarg, &why) < 0) {
				_cleanup_free_ char *v = dvol_escape_shown(optarg, 256);

				log_error("--%s=%s: the value %s", key, v ?: "?", why);
				return -EINVAL;
			}
			arg_budget_given = true;
			break;
		}
		default:
			return -EINVAL;
		}
	}
	if (optind < argc) {
		_cleanup_free_ char *a = dvol_escape_shown(argv[optind], 256);

		log_error("unexpected argument '%s'", a ?: "?");
		return -EINVAL;
	}
	if ((arg_cache_size || arg_output) && !arg_fscache_dir) {
		log_error("--cache-size and --output go with --fscache-conf");
		return -EINVAL;
	}
	if (arg_fscache_dir && (arg_dry_run || arg_json || arg_unmount_stale || arg_n_roots)) {
		log_error("--fscache-conf only reads the configured roots: it takes none of "
			  "--dry-run, --json, --unmount-stale, --root");
		return -EINVAL;
	}
	if (arg_budget_given && arg_n_roots == 0) {
		log_error("--max-size, --max-age, --min-free and --grace apply to --root; for the "
			  "configured roots, set them in the configuration");
		return -EINVAL;
	}
	if (arg_n_roots > 0 && !dvol_gc_budget_any(&arg_budget)) {
		log_error("--root needs a budget: --max-size, --max-age or --min-free");
		return -EINVAL;
	}
	return 1;
}

static int load_config(struct dvol_gc_conf *conf)
{
	_cleanup_(dvol_gc_conf_error_done) struct dvol_gc_conf_error err = {0};
	int r = 0;

	for (size_t i = 0; i < arg_n_roots; i++) {
		r = dvol_gc_conf_add(conf, arg_roots[i], &arg_budget);
		if (r == -EEXIST)
			return log_error("--root %s is given twice", arg_roots[i]), -EINVAL;
		if (r < 0)
			return log_error_errno(r, "out of memory");
	}
	if (arg_config)
		r = dvol_gc_conf_load_file(conf, arg_config, &err);
	else if (arg_n_roots == 0)
		r = dvol_gc_conf_load_dir(conf, GC_CONFDIR, &err);
	if (r == -EINVAL && err.key)
		log_error("%s:%u: option '%s' %s; see dvol-gc(8) for the format", err.file,
			  err.line, err.key, err.why);
	else if (r == -EINVAL && err.line)
		log_error("%s:%u: the line %s; see dvol-gc(8) for the format", err.file, err.line,
			  err.why);
	else if (r < 0)
		log_error_errno(r, "cannot read the configuration %s",
				err.file     ? err.file
				: arg_config ? arg_config
					     : GC_CONFDIR);
	return r;
}

struct root_run {
	const struct dvol_gc_root_conf *rc;
	int fd;
	int error; /* -errno: the root failed */
	bool dup;  /* the same folder as an earlier root: walked there, once */
	struct dvol_file_id id;
	const char *what;
	char *what_buf; /* WHAT, when it names more than the root */
	char *epath;	/* the root's path, and its name, escaped for human output */
	char *ename;
	char *eshown; /* the path as a message shows it: escaped, and cut short past 256 bytes */
	struct dvol_gc_stats st;
};

static void on_gc_event(void *userdata, enum dvol_gc_event ev, enum dvol_gc_skip why,
			const char *path, uint64_t bytes, int err)
{
	/* A name escaped may take four bytes for each of its own. */
	static char e[4 * PATH_MAX + 1];
	const struct root_run *rr = userdata;

	dvol_escape_name(path, e, sizeof(e));
	switch (ev) {
	case DVOL_GC_EVICT:
	case DVOL_GC_RMDIR:
		/* A dry run always lists; a real run with -v. */
		if (arg_dry_run || arg_verbose)
			fprintf(arg_json ? stderr : stdout, "%s%s %s/%s\n",
				arg_dry_run ? "would remove" : "removed",
				ev == DVOL_GC_RMDIR ? " folder" : "", rr->epath, e);
		break;
	case DVOL_GC_SKIP:
		/* What was not walked is not counted: the root's size and its budget are not
		 * known, and the run fails. */
		if (why == DVOL_GC_SKIP_ERROR)
			log_error_errno(err,
					"%s/%s: cannot walk or remove it; it stays, and the "
					"root's size is not known",
					rr->epath, e);
		else if (why == DVOL_GC_SKIP_DEPTH)
			log_error("%s/%s: deeper than %d levels (or its path too long); it was not "
				  "walked, so the root's size is not known: flatten the tree or "
				  "keep it out of the root",
				  rr->epath, e, DVOL_GC_MAX_DEPTH);
		else
			log_debug("skipping %s/%s: %s", rr->epath, e, dvol_gc_skip_to_string(why));
		break;
	}
}

static void print_bytes(char *buf, size_t sz, uint64_t b)
{
	static const char units[] = "BKMGTPE";
	double v = (double)b;
	unsigned u = 0;

	while (v >= 1024 && u < sizeof(units) - 2)
		v /= 1024, u++;
	if (u == 0)
		snprintf(buf, sz, "%" PRIu64 "B", b);
	else
		snprintf(buf, sz, "%.1f%c", v, units[u]);
}

static void report_human(const struct root_run *rr)
{
	const struct dvol_gc_stats *st = &rr->st;
	char b1[32], b2[32];
	bool any = false;

	if (rr->error) {
		printf("%s: FAILED: %s\n", rr->epath, rr->what);
		return;
	}
	print_bytes(b1, sizeof(b1), st->bytes);
	print_bytes(b2, sizeof(b2), st->freed);
	printf("%s%s%s%s: %" PRIu64 " files (%s) in %" PRIu64 " folders; %s %" PRIu64
	       " files (%s) and %" PRIu64 " folders",
	       rr->epath, rr->ename ? " (" : "", rr->ename ? rr->ename : "", rr->ename ? ")" : "",
	       st->files, b1, st->dirs, arg_dry_run ? "would evict" : "evicted", st->evicted, b2,
	       st->dirs_removed);
	for (int i = 0; i < _DVOL_GC_SKIP_MAX; i++)
		if (st->skipped[i]) {
			printf("%s%" PRIu64 " %s", any ? ", " : "; skipped: ", st->skipped[i],
			       dvol_gc_skip_to_string(i));
			any = true;
		}
	if (st->not_walked)
		printf("; %" PRIu64 " not walked: budget NOT known\n", st->not_walked);
	else
		printf("; budget %s\n", st->budget_met ? "met" : "NOT met");
}

static json_object *report_json(const struct root_run *rr)
{
	_cleanup_json_ json_object *o = json_object_new_object(), *sk = json_object_new_object();
	const struct dvol_gc_stats *st = &rr->st;
	int r;

	if (!o || !sk)
		return NULL;
	r = dvol_json_add_string(o, "root", rr->rc->path);
	if (r >= 0)
		r = dvol_json_add_string(o, "name", rr->rc->name);
	if (r >= 0 && rr->error) {
		r = dvol_json_add_string(o, "error", rr->what);
		if (r >= 0)
			r = dvol_json_add_string(o, "errno", strerrorname_np(-rr->error));
		return r < 0 ? NULL : TAKE_PTR(o);
	}
	if (r >= 0)
		r = dvol_json_add_u64(o, "files", st->files);
	if (r >= 0)
		r = dvol_json_add_u64(o, "bytes", st->bytes);
	if (r >= 0)
		r = dvol_json_add_u64(o, "dirs", st->dirs);
	if (r >= 0)
		r = dvol_json_add_u64(o, "evicted", st->evicted);
	if (r >= 0)
		r = dvol_json_add_u64(o, "bytes_freed", st->freed);
	if (r >= 0)
		r = dvol_json_add_u64(o, "dirs_removed", st->dirs_removed);
	for (int i = 0; r >= 0 && i < _DVOL_GC_SKIP_MAX; i++)
		r = dvol_json_add_u64(sk, dvol_gc_skip_to_string(i), st->skipped[i]);
	if (r >= 0)
		r = dvol_json_add(o, "skipped", TAKE_PTR(sk));
	if (r >= 0)
		r = dvol_json_add_u64(o, "not_walked", st->not_walked);
	if (r >= 0)
		r = dvol_json_add_u64(o, "need_bytes", st->need);
	if (r >= 0 && st->cutoff_age != UINT64_MAX)
		r = dvol_json_add_u64(o, "cutoff_age_s", st->cutoff_age);
	if (r >= 0)
		r = dvol_json_add_bool(o, "budget_met", st->budget_met);
	return r < 0 ? NULL : TAKE_PTR(o);
}

struct stale_report {
	json_object *records, *estale, *unmounted;
	bool failed;
};

static void on_stale_event(void *userdata, enum dvol_stale_event ev, const char *source,
			   const char *target, const char *kind, int err)
{
	struct stale_report *sr = userdata;
	json_object *arr = ev == DVOL_STALE_RECORD ? sr->records
			   : ev == DVOL_STALE_NFS  ? sr->estale
						   : sr->unmounted;
	json_object *o;

	if (err < 0) {
		sr->failed = true;
		log_error_errno(err, "%s (%s): cannot %s", target, source ? source : "?",
				ev == DVOL_STALE_RECORD ? "remove its stale utab entry"
							: "detach the stale NFS mount");
		return;
	}
	switch (ev) {
	case DVOL_STALE_RECORD:
		if (!arg_json)
			printf("%s stale utab entry: %s on %s (dvol.kind=%s), not mounted\n",
			       arg_dry_run ? "would remove" : "removed", source ? source : "?",
			       target, kind);
		break;
	case DVOL_STALE_NFS:
		log_warning("NFS mount %s (%s) is stale (ESTALE)%s", target, source ? source : "?",
			    arg_unmount_stale ? "" : "; dvol-gc --unmount-stale detaches it");
		break;
	case DVOL_STALE_UNMOUNTED:
		if (!arg_json)
			printf("detached stale NFS mount %s (%s)\n", target, source ? source : "?");
		break;
	}
	o = json_object_new_object();
	if (!o || dvol_json_add_string(o, "source", source) < 0 ||
	    dvol_json_add_string(o, "target", target) < 0 ||
	    dvol_json_add_string(o, "kind", kind) < 0 || dvol_json_append(arr, o) < 0)
		sr->failed = true;
}

static int open_root(struct root_run *rr)
{
	_cleanup_free_ char *at = NULL;
	const char *p = rr->rc->path, *sys = NULL;
	struct statvfs sv;
	struct stat st;
	int r;

	if (p[0] != '/') {
		rr->what = "a root must be an absolute folder";
		return rr->error = -EINVAL;
	}
	/* No symlink in any component: a link above the root, written by whoever can write
	 * there (a container), would move the whole root wherever it points. */
	r = dvol_rootdir_open(p, &rr->fd, &at);
	if (r < 0 && at) {
		char *e = dvol_escape_name_dup(at);

		free(at);
		at = e;
	}
	if (r < 0) {
		rr->error = r;
		if (r == -ELOOP && at)
			r = asprintf(&rr->what_buf,
				     "%s is a symbolic link; dvol-gc follows none in a root: give "
				     "the real folder",
				     at);
		else if (r == -ENOENT && at)
			r = asprintf(&rr->what_buf, "%s does not exist", at);
		else if (r == -ENOTDIR && at)
			r = asprintf(&rr->what_buf, "%s is not a folder", at);
		else
			r = 0, rr->what = "cannot open the root";
		if (r < 0)
			rr->what = "cannot open the root (out of memory)";
		else if (rr->what_buf)
			rr->what = rr->what_buf;
		return rr->error;
	}
	/* By what it is, not by how it is spelled: "//", "/.", "/etc/.." and a bind mount of
	 * "/" elsewhere are all "/". */
	r = dvol_rootdir_is_system(rr->fd, &sys);
	if (r != 0) {
		rr->error = r < 0 ? r : -EPERM;
		if (r < 0)
			rr->what = "cannot tell whether the root is a system folder";
		else if (asprintf(&rr->what_buf,
				  "the root is the same folder as %s; dvol-gc refuses \"/\" and "
				  "the system's own folders as roots",
				  sys) < 0)
			rr->what = "the root is a system folder";
		else
			rr->what = rr->what_buf;
		return rr->error;
	}
	if (fstat(rr->fd, &st) < 0) {
		rr->what = "cannot look at the root";
		return rr->error = -errno;
	}
	rr->id = (struct dvol_file_id){.dev = st.st_dev, .ino = st.st_ino};
	/* ProtectSystem=strict without a ReadWritePaths= for this root, or a ro mount. */
	if (!arg_dry_run && fstatvfs(rr->fd, &sv) == 0 && (sv.f_flag & ST_RDONLY)) {
		rr->what = "the root is read-only here; under dvol-gc.service, add it to "
			   "ReadWritePaths= in a drop-in (systemctl edit dvol-gc.service)";
		return rr->error = -EROFS;
	}
	return 0;
}

/* The same folder named twice under two spellings ("/x" and "//x/", or a bind mount of
 * it) would be walked twice, with two budgets: the first one counts, the other is said. */
static void dedupe_root(struct root_run *runs, size_t i)
{
	for (size_t j = 0; j < i; j++) {
		if (runs[j].error || runs[j].dup ||
		    dvol_rootdir_match(&runs[i].id, &runs[j].id, 1) < 0)
			continue;
		runs[i].dup = true;
		runs[i].fd = safe_close(runs[i].fd);
		log_notice("%s: the same folder as the root %s named before it; walked once, "
			   "with the first one's budget (name each root once)",
			   runs[i].eshown, runs[j].eshown);
		return;
	}
}

/* Open every root first; from here on the walk works only beneath these fds. A root that
 * cannot be opened is logged and reported, and the others go on. 0 or -ENOMEM. */
static int open_roots(const struct dvol_gc_conf *conf, struct root_run **ret)
{
	struct root_run *runs = calloc(conf->n_roots ? conf->n_roots : 1, sizeof(*runs));

	if (!runs)
		return -ENOMEM;
	*ret = runs;
	for (size_t i = 0; i < conf->n_roots; i++) {
		runs[i] = (struct root_run){.rc = &conf->roots[i], .fd = -EBADF};
		runs[i].epath = dvol_escape_name_dup(conf->roots[i].path);
		runs[i].ename =
		    conf->roots[i].name ? dvol_escape_name_dup(conf->roots[i].name) : NULL;
		/* A long root is cut short in messages, or the reason would not fit in the line. */
		runs[i].eshown = dvol_escape_shown(conf->roots[i].path, 256);
		if (!runs[i].epath || (conf->roots[i].name && !runs[i].ename) || !runs[i].eshown)
			return -ENOMEM;
		/* A message of its own says all there is; strerror() would only blur it. */
		if (open_root(&runs[i]) < 0 && runs[i].what_buf)
			log_error("%s: %s", runs[i].eshown, runs[i].what);
		else if (runs[i].error)
			log_error_errno(runs[i].error, "%s: %s", runs[i].eshown, runs[i].what);
		if (!runs[i].error)
			dedupe_root(runs, i);
	}
	return 0;
}

/* dvol's stale utab records and stale NFS mounts, into *ret_json (caller puts). 0, 1 when
 * some record could not be handled, or -ENOMEM. */
static int stale_pass(json_object **ret_json)
{
	_cleanup_json_ json_object *j = json_object_new_object();
	struct stale_report sr = {0};
	struct dvol_stale_opts so;
	int r;

	sr.records = json_object_new_array();
	sr.estale = json_object_new_array();
	sr.unmounted = json_object_new_array();
	if (!j || dvol_json_add(j, "records", sr.records) < 0 ||
	    dvol_json_add(j, "nfs_estale", sr.estale) < 0 ||
	    dvol_json_add(j, "unmounted", sr.unmounted) < 0)
		return -ENOMEM;

	so = (struct dvol_stale_opts){.dry_run = arg_dry_run,
				      .unmount = arg_unmount_stale,
				      .event = on_stale_event,
				      .userdata = &sr};
	r = dvol_stale_run(&so);
	if (r < 0)
		log_error_errno(r, "cannot check dvol's mount records in %s", dvol_utab_path());
	*ret_json = TAKE_PTR(j);
	return r < 0 || sr.failed;
}

/* Landlock where the kernel has it, then the walk's sandbox: from here on, nothing but the
 * trees beneath the roots, read, and (unless a dry run) unlinked; no mount. */
static int confine(const struct root_run *runs, size_t n)
{
	_cleanup_free_ int *fds = calloc(n ? n : 1, sizeof(*fds));
	int r;

	if (!fds)
		return log_error("out of memory"), -ENOMEM;
	for (size_t i = 0; i < n; i++)
		fds[i] = runs[i].fd;
	r = dvol_landlock_beneath(fds, n, !arg_dry_run);
	if (r < 0)
		return log_error_errno(r, "cannot confine the walk to the roots with Landlock");
	log_debug("landlock: %s", r > 0 ? "confined to the roots" : "not in this kernel");

	r = dvol_sandbox_enter(arg_dry_run ? DVOL_SB_STDIO | DVOL_SB_RPATH
					   : DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_WPATH);
	if (r < 0)
		return log_error_errno(r, "cannot narrow the sandbox");
	return 0;
}

/* A root's messages and names, once it is reported. */
static void root_run_release(struct root_run *rr)
{
	rr->what = NULL;
	free(rr->what_buf);
	free(rr->epath);
	free(rr->ename);
	free(rr->eshown);
	rr->what_buf = rr->epath = rr->ename = rr->eshown = NULL;
}

/* Walk one root (unless it failed to open), report it, and let go of it. 0 or -ENOMEM. */
static int walk_one(struct root_run *rr, json_object *jroots)
{
	struct dvol_gc_opts go = {.budget = &rr->rc->budget,
				  .dry_run = arg_dry_run,
				  .event = on_gc_event,
				  .userdata = rr};
	int r = 0;

	if (rr->dup) {
		root_run_release(rr);
		return 0;
	}
	if (!rr->error) {
		r = dvol_gc_root_run(rr->fd, &go, &rr->st);
		if (r < 0) {
			rr->error = r;
			rr->what = "walking the root failed";
			log_error_errno(r, "%s: %s", rr->epath, rr->what);
		}
	}
	rr->fd = safe_close(rr->fd);
	/* r is the report's alone: a failed root is counted by the caller. */
	if (arg_json)
		r = dvol_json_append(jroots, report_json(rr));
	else
		report_human(rr), r = 0;
	root_run_release(rr);
	return r;
}

/* Is folder A the same as B, or inside it? Both canonical. */
static bool path_within(const char *a, const char *b)
{
	size_t l = strlen(b);

	return strncmp(a, b, l) == 0 && (a[l] == 0 || a[l] == '/' || (l == 1 && b[0] == '/'));
}

/* cache-size=: a size, or a share of the volume (1% to 95%), as mount.dvol reads it. */
static int parse_cache_size(const char *v, struct dvol_fscache_in *in)
{
	size_t l = strlen(v);
	char *end;
	unsigned long n;

	if (l > 1 && v[l - 1] == '%') {
		errno = 0;
		n = strtoul(v, &end, 10);
		if (errno || end != v + l - 1 || v[0] < '0' || v[0] > '9' || n < 1 || n > 95)
			return -EINVAL;
		in->cache_size = n;
		in->cache_size_pct = true;
		return 0;
	}
	return dvol_parse_size(v, &in->cache_size) < 0 || in->cache_size == 0 ? -EINVAL : 0;
}

/*
 * --fscache-conf DIR: cachefilesd's configuration for the host's FS-Cache in DIR, with
 * culling limits from --cache-size and from the budgets of the configured roots that lie
 * on DIR's filesystem. DIR is made (0700) if its parent is there. A cache inside a root,
 * or a root inside the cache, is refused: dvol-gc would remove the cache's files behind
 * cachefilesd's back, or count them against a budget they are not part of.
 */
static int fscache_conf(enum dvol_fail *ret_fail)
{
	_cleanup_(dvol_gc_conf_done) struct dvol_gc_conf conf = {0};
	_cleanup_free_ char *dir = NULL, *text = NULL, *tmp = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct dvol_fscache_in in = {0};
	struct dvol_fscache_limits l;
	struct statvfs sv;
	struct stat st;
	const char *why;
	int r;

	*ret_fail = DVOL_FAIL_USAGE;
	if (arg_cache_size && parse_cache_size(arg_cache_size, &in) < 0)
		return log_error("--cache-size=%s is not a size (like 200G) or a share of the "
				 "cache's volume (1%% to 95%%)",
				 arg_cache_size),
		       -EINVAL;
	if (!arg_fscache_dir[0])
		return log_error("--fscache-conf: no cache folder is set. dvol-generator sets it "
				 "from fstab's cache=local lines (cache-dir=, or fscache/ on the "
				 "nvme:instance-store mount); see mount.dvol(8)"),
		       -EINVAL;
	if (arg_fscache_dir[0] != '/')
		return log_error("--fscache-conf=%s: the cache's folder must be an absolute path",
				 arg_fscache_dir),
		       -EINVAL;
	r = load_config(&conf);
	if (r < 0)
		return r;

	*ret_fail = DVOL_FAIL_TARGET;
	if (mkdir(arg_fscache_dir, 0700) < 0 && errno != EEXIST)
		return log_error_errno(-errno,
				       "cannot make the cache's folder %s (is its volume mounted?)",
				       arg_fscache_dir);
	dir = realpath(arg_fscache_dir, NULL);
	if (!dir || stat(dir, &st) < 0 || statvfs(dir, &sv) < 0)
		return log_error_errno(-errno, "cannot look at the cache's folder %s",
				       arg_fscache_dir);
	if (!S_ISDIR(st.st_mode))
		return log_error("the cache's folder %s is not a folder", dir), -ENOTDIR;
	in.fs_bytes = (uint64_t)sv.f_blocks * sv.f_frsize;

	for (size_t i = 0; i < conf.n_roots; i++) {
		const struct dvol_gc_root_conf *rc = &conf.roots[i];
		_cleanup_free_ char *root = realpath(rc->path, NULL);
		struct stat rst;

		/* A root not there yet is taken as written: it may come. */
		if (!root && !(root = strdup(rc->path)))
			return log_error_errno(-ENOMEM, "out of memory");
		if (path_within(dir, root) || path_within(root, dir)) {
			*ret_fail = DVOL_FAIL_USAGE;
			return log_error("the cache's folder %s and dvol-gc's root %s (%s:%u) lie "
					 "one inside the other: dvol-gc would remove cache files "
					 "behind cachefilesd, or count them against the root's "
					 "budget. Put the cache in a folder of its own",
					 dir, root, rc->file ? rc->file : "--root", rc->line),
			       -EINVAL;
		}
		/* ...and holds nothing yet: its run reports it. */
		if (stat(root, &rst) < 0 || rst.st_dev != st.st_dev)
			continue;
		if (rc->budget.has_max_size)
			in.budgets_bytes += rc->budget.max_size;
		if (rc->budget.has_min_free) {
			uint64_t pct =
			    rc->budget.min_free_ppm
				? (rc->budget.min_free + 9999) / 10000
				: (rc->budget.min_free * 100 + in.fs_bytes - 1) / in.fs_bytes;

			if (pct > in.gc_min_free_pct)
				in.gc_min_free_pct = pct > 100 ? 100 : (unsigned)pct;
		}
	}
	r = dvol_fscache_limits(&in, &l, &why);
	if (r < 0) {
		*ret_fail = DVOL_FAIL_USAGE;
		return log_error("the cache in %s: %s; give a smaller --cache-size, or smaller "
				 "budgets",
				 dir, why),
		       r;
	}
	r = dvol_fscache_conf(dir, &l, &text);
	if (r < 0)
		return log_error_errno(r,
				       "the cache's folder %s cannot be named in "
				       "cachefilesd.conf",
				       dir);
	log_info("FS-Cache in %s: culling below %u%% free (run %u%%, stop %u%%)%s%s", dir, l.cull,
		 l.run, l.stop, in.budgets_bytes ? "; dvol-gc's budgets on it count" : "",
		 in.gc_min_free_pct ? "; dvol-gc's min-free= counts" : "");
	if (!arg_output)
		return fputs(text, stdout) < 0 || fflush(stdout) ? -EIO : 0;
	if (asprintf(&tmp, "%s.new", arg_output) < 0)
		return log_error_errno(-ENOMEM, "out of memory");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || dvol_write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0 ||
	    rename(tmp, arg_output) < 0) {
		r = -errno;
		(void)unlink(tmp);
		return log_error_errno(r, "cannot write %s", arg_output);
	}
	return 0;
}

/* Exit: 0; 1 (DVOL_FAIL_USAGE, DVOL_FAIL_INCOMPLETE) for a configuration error or a root not
 * walked whole; 2 (DVOL_FAIL_TARGET, DVOL_FAIL_SYSTEM) when a root or the stale pass failed. */
static int run(enum dvol_fail *ret_fail)
{
	_cleanup_(dvol_gc_conf_done) struct dvol_gc_conf conf = {0};
	_cleanup_json_ json_object *jroots = NULL, *jstale = NULL, *top = NULL;
	_cleanup_free_ struct root_run *runs = NULL;
	bool failed = false, incomplete = false;
	int r;

	*ret_fail = DVOL_FAIL_USAGE;
	r = load_config(&conf);
	if (r < 0)
		return r;

	*ret_fail = DVOL_FAIL_SYSTEM;
	r = open_roots(&conf, &runs);
	if (r < 0)
		return log_error("out of memory"), r;
	r = stale_pass(&jstale);
	if (r < 0)
		return log_error("out of memory"), r;
	failed = r > 0;
	r = confine(runs, conf.n_roots);
	if (r < 0)
		return r;
	dvol_debug_stop("walk");

	jroots = json_object_new_array();
	if (!jroots)
		return log_error("out of memory"), -ENOMEM;
	for (size_t i = 0; i < conf.n_roots; i++) {
		r = walk_one(&runs[i], jroots);
		if (r < 0)
			return log_error("out of memory"), r;
		failed = failed || runs[i].error;
		incomplete = incomplete || (!runs[i].error && runs[i].st.not_walked > 0);
	}
	if (conf.n_roots == 0 && !arg_json)
		printf("no roots configured (%s/gc.conf, %s/gc.d/*.conf)\n", GC_CONFDIR,
		       GC_CONFDIR);

	if (arg_json) {
		top = json_object_new_object();
		if (!top || dvol_json_add_bool(top, "dry_run", arg_dry_run) < 0 ||
		    dvol_json_add(top, "roots", TAKE_PTR(jroots)) < 0 ||
		    dvol_json_add(top, "stale", TAKE_PTR(jstale)) < 0 ||
		    dvol_json_print(top, stdout) < 0)
			return log_error("cannot write the JSON report"), -EIO;
	}
	*ret_fail = failed ? DVOL_FAIL_TARGET : DVOL_FAIL_INCOMPLETE;
	return failed || incomplete ? -EIO : 0;
}

int main(int argc, char *argv[])
{
	enum dvol_fail fail = DVOL_FAIL_SYSTEM;
	const char *why;
	int r;

	dvol_log_open("dvol-gc");
	if (dvol_refuse_elevation(&why) < 0) {
		log_error("refusing to run: %s", why);
		return dvol_exit_code(DVOL_FAIL_USAGE, -EPERM);
	}
	/* Never inet, never exec; mount only until we know --unmount-stale is not asked. */
	r = dvol_sandbox_enter(DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_WPATH | DVOL_SB_MOUNT);
	if (r < 0)
		return log_error_errno(r, "cannot enter the sandbox"),
		       dvol_exit_code(DVOL_FAIL_SYSTEM, r);

	r = parse_argv(argc, argv);
	if (r <= 0) {
		if (r < 0)
			fprintf(stderr, "Try 'dvol-gc --help' for more information.\n");
		free(arg_roots);
		return dvol_exit_code(DVOL_FAIL_USAGE, r);
	}

	if (arg_fscache_dir) {
		r = dvol_sandbox_enter(DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_WPATH);
		if (r >= 0)
			r = fscache_conf(&fail);
		free(arg_roots);
		return dvol_exit_code(fail, r);
	}
	if (arg_fscache_dir) {
		r = dvol_sandbox_enter(DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_WPATH);
		if (r >= 0)
			r = fscache_conf(&fail);
		free(arg_roots);
		return dvol_exit_code(fail, r);
	}
	r = dvol_sandbox_enter(arg_dry_run ? DVOL_SB_STDIO | DVOL_SB_RPATH
			       : arg_unmount_stale
				   ? DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_WPATH | DVOL_SB_MOUNT
				   : DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_WPATH);
	if (r < 0)
		return log_error_errno(r, "cannot narrow the sandbox"),
		       dvol_exit_code(DVOL_FAIL_SYSTEM, r);

	r = run(&fail);
	free(arg_roots);
	return dvol_exit_code(fail, r);
}
