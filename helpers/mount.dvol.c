/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mount.dvol: the helper behind `mount -t dvol SOURCE DIR -o OPTIONS`.
 *
 *   parse -> resolve -> plan -> sandbox -> act -> record -> report
 *
 * The plan is data: -f prints it and stops, so the dry run is the same plan that would
 * be carried out. This file is the flow, with one switch on the kind per stage; each
 * kind's resolve, plan and act are in mount-dvol/ (see mount-dvol.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include <libmount/libmount.h>

#include "cleanup.h"
#include "escape.h"
#include "exitcode.h"
#include "fdutil.h"
#include "libmount-util.h"
#include "log.h"
#include "mount-dvol/mount-dvol.h"
#include "sandbox.h"
#include "stale.h"
#include "version.h"

const char *arg_spec;
const char *arg_target;
static const char *arg_ns;
bool arg_fake;
bool arg_nomtab;
static bool arg_sloppy;
bool arg_format_only;

static void plan_done(struct plan *p)
{
	dvol_nfs_target_done(&p->nfs.probe);
	dvol_nfs_mopts_done(&p->nfs.mopts);
	free(p->nfs.cache_name);
	free(p->nfs.source);
	free(p->nfs.tried);
	dvol_nfs_tries_done(p->nfs.tries, p->nfs.n_tries);
	safe_close(p->nfs.probe_fd);
	dvol_spec_done(&p->spec);
	dvol_opts_done(&p->opts);
	free(p->target);
	free(p->fallback_dir);
	safe_close(p->target_fd);
	safe_close(p->src_fd);
	safe_close(p->heal_lock);
	safe_close(p->heal_dir);
	local_done(&p->local);
	writer_done(&p->writer);
}

static void help(void)
{
	printf("Usage: mount.dvol SOURCE DIR [-sfnv] [-N NS] [-o OPTIONS] [-t dvol]\n"
	       "       mount -t dvol SOURCE DIR -o OPTIONS\n"
	       "\n"
	       "Get a data volume ready and mount it on DIR.\n"
	       "\n"
	       "SOURCE:\n"
	       "  /host/folder              bind a host folder (an instance volume)\n"
	       "  /dev/..., UUID=, LABEL=   a local block device\n"
	       "  nvme:serial=S, nvme:model=M[,index=N], nvme:instance-store\n"
	       "  nfs://host[:port]/export[/sub][?vers=V], host:/export[/sub]\n"
	       "\n"
	       "Flags (as mount(8) passes them):\n"
	       "  -f           print the plan and change nothing\n"
	       "  -n           do not record the mount in utab\n"
	       "  -s           sloppy: ignore options dvol does not know\n"
	       "  -v           verbose (repeat for more)\n"
	       "  -N NS        act in the mount namespace NS (a path or a pid)\n"
	       "  --format-only  a local volume: judge and format (if mkfs= and blank), but\n"
	       "               mount nothing (the sandboxed step of dvol-prepare@.service)\n"
	       "  -o OPTIONS   mount options, see below\n"
	       "  -h, --help   this text\n"
	       "  -V, --version\n"
	       "\n"
	       "dvol options:\n"
	       "  create, mode=OCTAL, uid=ID, gid=ID  make a missing source folder so\n"
	       "  ro, nosuid, nodev, noexec, noatime  VFS flags, set before the mount appears\n"
	       "  probe-timeout=SEC, retry=SEC        NFS: probe deadline, retries on network "
	       "errors\n"
	       "  mount-timeout=SEC                   NFS: the kernel mount's deadline\n"
	       "  vers=V, other NFS options           NFS: passed to the kernel mount\n"
	       "  mkfs=xfs|ext4       format a block device if, and only if, it is blank\n"
	       "  device-timeout=DUR  wait this long for the device and its lock (30s)\n"
	       "  mkfs-ignore-nonzero-data  skip only the zero check of the blank verdict\n"
	       "  stripe=yes|no, count=N  nvme:instance-store: several as one RAID0 (yes), or\n"
	       "                      exactly one; require N of them\n"
	       "  writer=exclusive    a folder on NFS: one writer at a time; read-only until\n"
	       "                      dvol-writer holds the lease (on-conflict=ro|fail|wait,\n"
	       "                      wait-timeout=SEC, lease-time=SEC)\n"
	       "\n"
	       "See mount.dvol(8).\n");
}

static int parse_argv(struct libmnt_context *cxt, int argc, char *argv[])
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"options", required_argument, NULL, 'o'},
	    {"fake", no_argument, NULL, 'f'},
	    {"no-mtab", no_argument, NULL, 'n'},
	    {"sloppy", no_argument, NULL, 's'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"namespace", required_argument, NULL, 'N'},
	    {"types", required_argument, NULL, 't'},
	    {"format-only", no_argument, NULL, 'F'},
	    {},
	};
	int c, r;

	while ((c = getopt_long(argc, argv, "hVo:fnsvN:t:rw", longopts, NULL)) >= 0) {
		switch (c) {
		case 'h':
			help();
			return 0;
		case 'V':
			dvol_print_version("mount.dvol");
			return 0;
		case 'N':
			arg_ns = optarg;
			continue;
		case 'F':
			arg_format_only = true;
			continue;
		case 't':
			/* "dvol" or "dvol.SUBTYPE": nothing to choose between yet. */
			if (strcmp(optarg, "dvol") != 0 && strncmp(optarg, "dvol.", 5) != 0) {
				log_error("-t %s: mount.dvol mounts type dvol only", optarg);
				return -EINVAL;
			}
			continue;
		case 'v':
			dvol_log_verbose();
			break;
		case '?':
			return -EINVAL;
		}
		r = mnt_context_helper_setopt(cxt, c, optarg);
		if (r < 0)
			return log_error_errno(r, "libmount refused option -%c", c);
		if (r > 0)
			return -EINVAL;
	}
	if (argc - optind != 2) {
		log_error("expected SOURCE and DIR, got %d argument%s", argc - optind,
			  argc - optind == 1 ? "" : "s");
		return -EINVAL;
	}
	arg_spec = argv[optind];
	arg_target = argv[optind + 1];
	arg_fake = mnt_context_is_fake(cxt);
	arg_nomtab = mnt_context_is_nomtab(cxt);
	arg_sloppy = mnt_context_is_sloppy(cxt);
	return 1;
}

static int enter_namespace(const char *ns)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -EBADF;
	char *end;

	strtoul(ns, &end, 10);
	if (*ns && !*end) {
		if (asprintf(&path, "/proc/%s/ns/mnt", ns) < 0)
			return -ENOMEM;
		ns = path;
	}
	fd = open(ns, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return log_error_errno(-errno, "-N %s: cannot open the mount namespace", ns);
	if (setns(fd, CLONE_NEWNS) < 0)
		return log_error_errno(-errno, "-N %s: cannot enter the mount namespace", ns);
	return 0;
}

/*
 * The user's SOURCE, DIR or option, as a message shows it: escaped as `ls -b` does, so that
 * it can neither forge a log line nor drive a terminal, and cut short, so that the reason
 * that follows it still fits in the line. Never NULL.
 */
char *shown(const char *s)
{
	return dvol_escape_shown(s ? s : "", 256) ?: strdup("?");
}

/* Options that do not fit the volume, in words (options.c). */
static int explain_options(const struct plan *p, enum dvol_opts_why why, const char *name)
{
	_cleanup_free_ char *text = NULL, *spec = shown(arg_spec);
	int r;

	r = dvol_opts_explain(
	    why,
	    &(struct dvol_opts_words){
		.name = name, .spec = spec, .fs = p->opts.fs, .mkfs = p->opts.mkfs, .vol = p->kind},
	    &text);
	if (r == -ENOMEM)
		return log_error_errno(r, "out of memory");
	if (text)
		log_error("%s", text);
	return r;
}

/* parse: SOURCE and options become data; nothing is touched. */
static int parse_volume(struct libmnt_context *cxt, struct plan *p)
{
	_cleanup_free_ char *bad = NULL, *spec = shown(arg_spec), *target = shown(arg_target),
			    *bad_shown = NULL;
	const char *why = NULL, *name = NULL;
	enum dvol_opts_why ow;
	int r;

	r = dvol_spec_parse(arg_spec, &p->spec, &why);
	if (r == -ENOMEM)
		return log_error_errno(r, "source '%s'", spec);
	if (r < 0) {
		log_error("source '%s': %s", spec, why);
		return r;
	}
	if (arg_target[0] != '/') {
		log_error("mount point '%s': not an absolute path", target);
		return -EINVAL;
	}
	{
		struct dvol_spec t = {0};

		r = dvol_spec_parse(arg_target, &t, &why);
		if (r < 0) {
			log_error("mount point '%s': %s", target, why);
			return r;
		}
		p->target = TAKE_PTR(t.path);
		dvol_spec_done(&t);
	}

	ow = dvol_optstr_check_setup(mnt_context_get_options(cxt), &bad);
	if (ow != DVOL_OPTS_OK)
		return explain_options(p, ow, bad);
	r = dvol_opts_parse(mnt_context_get_options(cxt), &p->opts, &bad, &why);
	if (r == -ENOMEM)
		return log_error_errno(r, "parsing options failed");
	if (r < 0) {
		bad_shown = shown(bad);
		log_error("option '%s' %s", bad_shown, why ? why : "is invalid");
		return r;
	}

	p->kind = dvol_spec_vol(&p->spec);
	/* heal's watchdog mounts again with the options utab keeps, in double quotes. */
	if (p->opts.heal && strpbrk(mnt_context_get_options(cxt), "\"\n")) {
		log_error("heal: the options of %s hold a double quote or a newline, which its "
			  "record in utab cannot keep; heal could not mount it again. Leave them "
			  "out",
			  spec);
		return -EINVAL;
	}
	ow = dvol_opts_check(&p->opts, p->kind, arg_sloppy, &name);
	if (ow == DVOL_OPTS_OK)
		ow = dvol_optstr_check_kind(mnt_context_get_options(cxt), p->kind, &name);
	r = explain_options(p, ow, name);
	if (r < 0)
		return r;
	/* heal puts a fresh mount in a stale one's place, outside the lease's hand-over. */
	if (p->opts.writer_exclusive && p->opts.heal) {
		log_error("options 'writer=exclusive' and 'heal' on %s do not go together: heal "
			  "would put a fresh mount in place of one whose holder keeps the lease; "
			  "nothing was mounted. Remove heal",
			  spec);
		p->fail = DVOL_FAIL_USAGE;
		return -EINVAL;
	}
	return 0;
}

/* SOURCE as utab keeps it: as given, except that a tag is recorded as the device it named,
 * as mount(8) does: libmount would evaluate it again, and udev's links it relies on may
 * not exist. */
static const char *recorded_source(const struct plan *p)
{
	switch (p->kind) {
	case DVOL_VOL_BIND:
	case DVOL_VOL_NFS:
		return arg_spec;
	case DVOL_VOL_LOCAL:
		return p->spec.kind == DVOL_SPEC_TAG ? p->local.dev.node : arg_spec;
	}
	return arg_spec;
}

/*
 * record: utab through libmount, as a mount helper does. The entry carries the dvol
 * SOURCE (SRC=), the userspace options, and an attribute naming the kind, so that there
 * is always an entry, and dvol-gc can tell dvol's own mounts apart.
 */
int record(struct libmnt_context *cxt, const struct plan *p)
{
	_cleanup_free_ char *attrs = NULL;
	int r;

	if (arg_nomtab || p->already)
		return 0;
	if (asprintf(&attrs, "dvol.kind=%s%s%s%s%s%s%s%s%s", dvol_vol_to_string(p->kind),
		     p->degraded ? ",dvol.degraded=" : "", p->degraded ? p->degraded : "",
		     p->degraded ? ",dvol.fallback=" : "",
		     p->degraded ? dvol_fallback_to_string(p->opts.fallback) : "",
		     p->opts.heal ? ",dvol.heal,dvol.opts=\"" : "",
		     p->opts.heal ? mnt_context_get_options(cxt) : "", p->opts.heal ? "\"" : "",
		     p->writer.held ? ",dvol.writer=held"
		     : p->writer.ro ? ",dvol.writer=ro"
				    : "") < 0)
		return -ENOMEM;
	/* The stale mount's line goes, as umount(8) would remove it. */
	if (p->heal) {
		r = dvol_utab_remove(p->target);
		if (r < 0)
			log_warning_errno(r, "cannot remove the stale mount's line from utab");
	}
	/* libmount must not evaluate or canonicalize SOURCE: it is dvol's, not a path. */
	r = mnt_context_disable_canonicalize(cxt, 1);
	if (r >= 0)
		r = mnt_context_set_source(cxt, recorded_source(p));
	if (r >= 0)
		r = mnt_context_set_target(cxt, p->target);
	if (r >= 0)
		r = mnt_context_set_fstype(cxt, "dvol");
	if (r >= 0)
		r = mnt_fs_set_attributes(mnt_context_get_fs(cxt), attrs);
	if (r >= 0)
		r = mnt_context_prepare_mount(cxt);
	if (r >= 0)
		r = mnt_context_set_syscall_status(cxt, 0);
	if (r >= 0)
		r = mnt_context_finalize_mount(cxt);
	return r;
}

/* Before the first sandbox stage: NFS starts its probe process, which alone holds inet
 * and sheds root, while this one goes on to open the mount point meanwhile. */
static int prepare(struct plan *p)
{
	int r;

	switch (p->kind) {
	case DVOL_VOL_BIND:
		return writer_prepare(p);
	case DVOL_VOL_LOCAL:
		return 0;
	case DVOL_VOL_NFS:
		r = nfs_prepare(p);
		if (r >= 0)
			r = heal_prepare(p);
		if (r >= 0)
			r = nfs_probe_start(p);
		return r < 0 ? r : writer_prepare(p);
	}
	return -EINVAL;
}

/* The sandbox stage for planning: no exec unless a format may be planned; inet never. */
static unsigned plan_sandbox(const struct plan *p)
{
	unsigned sets = DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_WPATH | DVOL_SB_MOUNT;

	switch (p->kind) {
	case DVOL_VOL_BIND:
	case DVOL_VOL_NFS:
		return sets;
	case DVOL_VOL_LOCAL:
		/* Several instance stores may be one array: mdadm runs, and md's ioctls. */
		if (p->spec.kind == DVOL_SPEC_NVME_INSTANCE_STORE && !p->opts.stripe_no)
			return sets | DVOL_SB_BLKDEV | DVOL_SB_EXEC | DVOL_SB_MD;
		return sets | DVOL_SB_BLKDEV | (p->opts.mkfs ? DVOL_SB_EXEC : 0);
	}
	return sets;
}

static int plan(struct plan *p)
{
	switch (p->kind) {
	case DVOL_VOL_BIND:
		return plan_bind(p);
	case DVOL_VOL_LOCAL:
		return plan_local(p);
	case DVOL_VOL_NFS:
		return plan_nfs(p);
	}
	return -EINVAL;
}

/* act, the part that needs more than mounting: a local volume's format. */
static int act_prepare(struct plan *p)
{
	switch (p->kind) {
	case DVOL_VOL_BIND:
	case DVOL_VOL_NFS:
		return 0;
	case DVOL_VOL_LOCAL:
		return act_local_format(p);
	}
	return -EINVAL;
}

static int act(struct plan *p)
{
	switch (p->kind) {
	case DVOL_VOL_BIND:
		return act_bind(p);
	case DVOL_VOL_LOCAL:
		return act_local_mount(p);
	case DVOL_VOL_NFS:
		if (p->heal)
			return act_heal(p);
		return p->opts.writer_exclusive ? act_nfs_writer(p) : act_nfs(p);
	}
	return -EINVAL;
}

/*
 * act, record, report: the mount itself, on the fds already held, and utab afterwards;
 * a local volume is formatted by now, so exec and the device ioctls go.
 */
static int run_act(struct libmnt_context *cxt, struct plan *p)
{
	int r;

	p->fail = DVOL_FAIL_SYSTEM;
	r = dvol_sandbox_enter(DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_WPATH | DVOL_SB_MOUNT);
	if (r < 0)
		return log_error_errno(r, "cannot narrow the sandbox");

	dvol_debug_stop("act");
	p->fail = DVOL_FAIL_MOUNT;
	if (p->on_fallback) {
		r = fallback_remove(p);
		if (r < 0)
			return r;
	}
	r = act(p);
	if (r < 0)
		return fallback(cxt, p, r);
	r = writer_take(p);
	if (r < 0)
		return r;

	/* Mounted; only the record is left. */
	p->fail = DVOL_FAIL_SYSTEM;
	r = dvol_sandbox_enter(DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_WPATH);
	if (r < 0)
		return log_error_errno(r, "cannot narrow the sandbox");

	p->fail = DVOL_FAIL_RECORD;
	r = record(cxt, p);
	if (r < 0)
		return log_error_errno(r, "%s is mounted on %s, but recording it in utab failed",
				       arg_spec, p->target);
	log_info("mounted %s on %s", arg_spec, p->target);
	return 0;
}

/*
 * The flow. Each stage sets p->fail before it starts (a stage that finds a usage error
 * says so itself), and main() turns the one -errno into the one exit code.
 */
static int run(struct libmnt_context *cxt, struct plan *p)
{
	unsigned sets;
	int r;

	p->fail = DVOL_FAIL_USAGE;
	r = parse_volume(cxt, p);
	if (r < 0)
		return r;
	if (arg_format_only && p->kind != DVOL_VOL_LOCAL) {
		_cleanup_free_ char *spec = shown(arg_spec);

		log_error("--format-only: '%s' is not a block device; only a local volume is "
			  "formatted",
			  spec);
		return -EINVAL;
	}

	p->fail = DVOL_FAIL_SYSTEM;
	if (arg_ns) {
		r = enter_namespace(arg_ns);
		if (r < 0)
			return r;
	}
	r = prepare(p);
	if (r < 0)
		return r;

	sets = plan_sandbox(p);
	r = dvol_sandbox_enter(sets);
	if (r < 0)
		return log_error_errno(r, "cannot enter the sandbox");
	log_debug("sandbox: %s", dvol_sandbox_sets_to_string(sets));

	dvol_debug_stop("resolve");
	p->fail = DVOL_FAIL_MOUNT;
	r = plan(p);
	if (r < 0)
		return fallback(cxt, p, r);
	if (arg_fake) {
		print_plan(p);
		return 0;
	}
	if (p->already) {
		log_info("%s is already mounted on %s; nothing to do", arg_spec, p->target);
		return 0;
	}
	r = act_prepare(p);
	if (r < 0)
		return fallback(cxt, p, r);
	if (arg_format_only)
		return format_only_done(p);

	return run_act(cxt, p);
}

int main(int argc, char *argv[])
{
	_cleanup_(mnt_free_contextp) struct libmnt_context *cxt = NULL;
	_cleanup_(plan_done) struct plan p = {.target_fd = -EBADF,
					      .src_fd = -EBADF,
					      .heal_lock = -EBADF,
					      .heal_dir = -EBADF,
					      .local.fd = -EBADF,
					      .nfs.probe_fd = -EBADF,
					      .writer = {.go = -EBADF, .ready = -EBADF}};
	const char *why;
	int r;

	dvol_log_open("mount.dvol");
	if (dvol_refuse_elevation(&why) < 0) {
		log_error("refusing to run: %s", why);
		return dvol_exit_code(DVOL_FAIL_USAGE, -EPERM);
	}

	cxt = mnt_new_context();
	if (!cxt)
		return log_error("out of memory"), dvol_exit_code(DVOL_FAIL_SYSTEM, -ENOMEM);
	r = mnt_context_init_helper(cxt, MNT_ACT_MOUNT, 0);
	if (r < 0)
		return log_error_errno(r, "cannot initialize libmount"),
		       dvol_exit_code(DVOL_FAIL_SYSTEM, r);

	r = parse_argv(cxt, argc, argv);
	if (r < 0)
		fprintf(stderr, "Try 'mount.dvol --help' for more information.\n");
	if (r <= 0)
		return dvol_exit_code(DVOL_FAIL_USAGE, r);

	r = run(cxt, &p);
	r = dvol_exit_code(p.fail, r);
#ifndef __SANITIZE_ADDRESS__
	/* Past this point, exit would only run the destructors of libmount, libblkid and
	 * libselinux, which free what the kernel frees anyway; on a bind they are
	 * measurable (README, Benchmarks). stdio is flushed by hand instead. A sanitizer
	 * build exits normally, for the leak check. */
	fflush(stdout);
	fflush(stderr);
	_exit(r);
#endif
	return r;
}
