/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mount.dvol: the helper behind `mount -t dvol SOURCE DIR -o OPTIONS`.
 *
 *   parse -> resolve -> plan -> sandbox -> act -> record -> report
 *
 * The plan is data: -f prints it and stops, so the dry run is the same plan that would
 * be carried out.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libmount/libmount.h>

#include "blkdecide.h"
#include "blkformat.h"
#include "blockdev.h"
#include "cleanup.h"
#include "escape.h"
#include "exitcode.h"
#include "fdutil.h"
#include "fresh.h"
#include "heal.h"
#include "libmount-util.h"
#include "log.h"
#include "mkfs.h"
#include "mountop.h"
#include "nfsmount.h"
#include "nfsprobe.h"
#include "options.h"
#include "probechild.h"
#include "rootdir.h"
#include "sandbox.h"
#include "spec.h"
#include "srcgate.h"
#include "stale.h"
#include "strv.h"
#include "unitname.h"
#include "version.h"
#include "timeutil.h"

static const char *arg_spec;
static const char *arg_target;
static const char *arg_ns;
static bool arg_fake;
static bool arg_nomtab;
static bool arg_sloppy;
static bool arg_format_only;

/* NFS: the probe's answer and the kernel mounts to try, best first. */
struct plan_nfs {
	struct dvol_nfs_target probe;
	struct dvol_nfs_mopts mopts; /* the user's NFS options, read */
	char *source;		     /* "host:/path" as the kernel and findmnt show it */
	struct dvol_nfs_try tries[DVOL_NFS_TRIES_MAX];
	unsigned n_tries;
	unsigned attempts;		/* probe runs */
	unsigned long long deadline_ms; /* retry=: monotonic end of retries, or 0 */
	uint64_t mount_timeout_ms;	/* the kernel mount's deadline */
	int probe_fd;			/* the probe process's result, read end */
	char *tried;			/* the kernel mounts that failed, in words */
};

/* A local volume: the device found, held locked, judged, and what will be done to it. */
struct local {
	struct dvol_blk_dev dev;
	char *desc; /* "serial S (/dev/nvme1n1)": for messages */
	int fd;	    /* the device node, flock'ed from the second probe until the end */
	struct dvol_blk_verdict verdict;
	enum dvol_claim_state claim; /* dvol's format claim on the medium */
	struct dvol_claim claimed;   /* ...what it claims, if OURS */
	struct dvol_blk_decision decision;
	bool format;
	bool redo; /* an interrupted format of dvol's own is done again */
	char **mkfs_argv;
	char uuid[37];
	char label[13];
	const char *fstype; /* what will be mounted */
	bool fresh;	    /* made here: mode=, uid=, gid= apply to its root */
};

static void local_done(struct local *l)
{
	dvol_blk_dev_done(&l->dev);
	free(l->desc);
	safe_close(l->fd);
	dvol_blk_verdict_done(&l->verdict);
	dvol_strv_free(l->mkfs_argv);
}

struct plan {
	enum dvol_vol kind;
	enum dvol_fail fail; /* the stage under way, for the exit code */
	struct dvol_spec spec;
	struct dvol_opts opts;
	char *target;	      /* normalized mount point */
	int target_fd;	      /* O_PATH */
	int src_fd;	      /* BIND: O_PATH of the folder, once it exists */
	bool create_source;   /* BIND: make the folder first */
	bool already;	      /* the same source is mounted there: nothing to do */
	bool on_fallback;     /* optional: the empty folder of an earlier run is mounted there */
	bool stale;	      /* heal: what is mounted there answered ESTALE (prepare()) */
	bool heal;	      /* ...and it is this volume: a fresh mount replaces it */
	int heal_dir;	      /* heal: DVOL_HEAL_DIR, opened without following a link */
	int heal_lock;	      /* heal: flock'ed, so that one run at a time heals the target */
	const char *degraded; /* optional: why the fallback went there instead (utab) */
	/* optional: which kind is mounted there (on_fallback); fallback=disk's folder */
	enum dvol_fallback on_fallback_kind;
	char *fallback_dir;
	struct plan_nfs nfs;
	struct local local; /* LOCAL */
};

static void plan_done(struct plan *p)
{
	dvol_nfs_target_done(&p->nfs.probe);
	dvol_nfs_mopts_done(&p->nfs.mopts);
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
static char *shown(const char *s)
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
	return explain_options(p, ow, name);
}

/*
 * resolve the mount point, the same for every kind: an O_PATH fd (a symbolic link is
 * refused), and what is mounted there: 1 with *ret_mi filled, 0 for nothing (or an
 * automount point), or -errno, logged.
 */
static int open_target(struct plan *p, struct dvol_mount_info *ret_mi)
{
	int r;

	r = dvol_open_dir(p->target, &p->target_fd);
	if (r == -ELOOP) {
		log_error("mount point %s is a symbolic link; refusing to mount over a link "
			  "(it could be swapped to point anywhere): use the real folder",
			  p->target);
		return r;
	}
	if (r == -ENOENT) {
		log_error("mount point %s does not exist", p->target);
		return r;
	}
	if (r < 0)
		return log_error_errno(r, "cannot open mount point %s", p->target);

	r = dvol_mount_info_at(p->target_fd, ret_mi);
	if (r == -EOPNOTSUPP) /* a kernel without STATX_ATTR_MOUNT_ROOT: assume nothing */
		return 0;
	if (r < 0)
		return log_error_errno(r, "cannot tell what is mounted on %s", p->target);
	return r;
}

/* The empty folder that 'optional' mounts in a volume's place (see fallback()). */
#define FALLBACK_SOURCE "dvol-fallback"
/* fallback=disk: one folder a target, named as systemd names the target's mount unit. */
#define FALLBACK_DIR "/var/lib/dvol/fallback"

static int fallback_dir(struct plan *p)
{
	_cleanup_free_ char *name = NULL;
	int r;

	if (p->fallback_dir)
		return 0;
	r = dvol_unit_path_escape(p->target, &name);
	if (r < 0)
		return r;
	return asprintf(&p->fallback_dir, FALLBACK_DIR "/%s", name) < 0 ? -ENOMEM : 0;
}

/*
 * Is MI, mounted on the target, the fallback of an earlier run? The tmpfs by its source;
 * the disk kind by what it is: a bind (not a whole filesystem) whose root is the very
 * folder FALLBACK_DIR holds for this target, reached without a link. Neither a path in
 * mountinfo nor an attribute in utab alone could tell it from a bind someone else made.
 */
static bool is_fallback(struct plan *p, const struct dvol_mount_info *mi,
			enum dvol_fallback *ret_kind)
{
	_cleanup_close_ int fd = -EBADF;
	const char *base;
	size_t lr, lb;

	if (mi->fstype && strcmp(mi->fstype, "tmpfs") == 0 && mi->source &&
	    strcmp(mi->source, FALLBACK_SOURCE) == 0) {
		*ret_kind = DVOL_FALLBACK_TMPFS;
		return true;
	}
	if (!mi->root || strcmp(mi->root, "/") == 0 || p->target_fd < 0 || fallback_dir(p) < 0)
		return false;
	/* Its root, as the filesystem that holds it sees it, ends in ".../fallback/NAME". */
	base = p->fallback_dir + strlen("/var/lib/dvol");
	lr = strlen(mi->root);
	lb = strlen(base);
	if (lr < lb || strcmp(mi->root + lr - lb, base) != 0)
		return false;
	if (dvol_rootdir_open(p->fallback_dir, &fd, NULL) < 0 || !dvol_same_inode(fd, p->target_fd))
		return false;
	*ret_kind = DVOL_FALLBACK_DISK;
	return true;
}

/* Is what MI shows mounted the volume asked for? One predicate per kind. */
static int mounted_same(const struct plan *p, const struct dvol_mount_info *mi,
			enum dvol_mount_match *ret)
{
	bool want_ro = p->opts.mflags & MS_RDONLY;
	struct stat st;

	switch (p->kind) {
	case DVOL_VOL_BIND:
		*ret = dvol_mount_same(
		    mi, p->src_fd >= 0 && dvol_same_inode(p->src_fd, p->target_fd), NULL, want_ro);
		return 0;
	case DVOL_VOL_LOCAL:
		/* A block filesystem's st_dev is its device: the same device, not the same
		 * name. */
		if (fstat(p->target_fd, &st) < 0)
			return -errno;
		*ret = dvol_mount_same(mi, st.st_dev == p->local.dev.devno, "/",
				       want_ro || p->local.dev.read_only);
		return 0;
	case DVOL_VOL_NFS:
		*ret = dvol_mount_same(mi, dvol_nfs_mount_is(mi, p->nfs.source), NULL, want_ro);
		return 0;
	}
	return -EINVAL;
}

/*
 * heal: the mount on the target answered ESTALE (prepare()), so it is looked up by its
 * path alone, without a look at it. This volume is replaced (act_heal()); anything else
 * is left, and refused as check_existing() refuses it.
 */
static int check_stale(struct plan *p)
{
	_cleanup_(dvol_mount_info_done) struct dvol_mount_info mi = {0};
	int r;

	r = dvol_mount_info_top(p->target, &mi);
	if (r < 0)
		return log_error_errno(r, "cannot tell what is mounted on %s", p->target);
	if (r > 0 && dvol_mount_same(&mi, dvol_nfs_mount_is(&mi, p->nfs.source), NULL,
				     p->opts.mflags & MS_RDONLY) == DVOL_MOUNT_SAME) {
		p->heal = true;
		log_notice("%s on %s is stale (ESTALE: the server no longer knows its file "
			   "handle); heal: a fresh mount replaces it",
			   p->nfs.source, p->target);
		return 0;
	}
	log_error("%s is stale (ESTALE), and it is %s%s%s, not %s as asked; heal replaces only "
		  "the same volume. Unmount it first (umount -l %s)",
		  p->target, r > 0 ? "a mount of " : "not a mount point",
		  r > 0 && mi.source ? mi.source : "", r > 0 && mi.ro ? " (read-only)" : "",
		  p->nfs.source, p->target);
	return -EBUSY;
}

/*
 * resolve: the mount point, and what is mounted there already. The same volume is
 * nothing to do (p->already); another one is an error naming both.
 */
static int check_existing(struct plan *p)
{
	_cleanup_(dvol_mount_info_done) struct dvol_mount_info mi = {0};
	enum dvol_mount_match m = DVOL_MOUNT_OTHER;
	const char *what = p->kind == DVOL_VOL_BIND    ? p->spec.path
			   : p->kind == DVOL_VOL_LOCAL ? p->local.desc
						       : p->nfs.source;
	/* How it was asked for, where that differs from WHAT. */
	const char *asked = p->kind == DVOL_VOL_BIND || !strcmp(arg_spec, what) ? NULL : arg_spec;
	bool rooted;
	int r;

	if (p->stale)
		return check_stale(p);
	r = open_target(p, &mi);
	if (r <= 0)
		return r;
	r = mounted_same(p, &mi, &m);
	if (r < 0)
		return log_error_errno(r, "cannot tell what is mounted on %s", p->target);

	rooted = mi.root && strcmp(mi.root, "/") != 0;
	if (m == DVOL_MOUNT_OTHER && p->opts.optional &&
	    is_fallback(p, &mi, &p->on_fallback_kind)) {
		/* Replaced once the volume is ready (run()); left while it is not. */
		p->on_fallback = true;
		return 0;
	}
	switch (m) {
	case DVOL_MOUNT_SAME:
		p->already = true;
		return 0;
	case DVOL_MOUNT_SAME_BUT_RO:
		log_error("%s is already mounted on %s, but %s; unmount it first to change that",
			  what, p->target, mi.ro ? "read-only" : "read-write");
		return -EBUSY;
	default:
		log_error("%s is already mounted on %s (from %s%s%s%s), not %s%s%s%s; unmount it "
			  "first",
			  mi.fstype ? mi.fstype : "something", p->target,
			  mi.source ? mi.source : "?", rooted ? "[" : "", rooted ? mi.root : "",
			  rooted ? "]" : "", asked ? asked : what, asked ? " (" : "",
			  asked ? what : "", asked ? ")" : "");
		return -EBUSY;
	}
}

/* A bind of a host folder, not of the host itself: refused as a usage error (exit 1). */
static int check_bind_source(struct plan *p)
{
	struct dvol_bind_src_facts f;
	const char *what = NULL;
	int r;

	r = dvol_bind_src_facts(p->src_fd, &f);
	if (r < 0)
		return log_error_errno(r, "cannot look at source folder %s", p->spec.path);
	switch (dvol_bind_src_decide(&f, &what)) {
	case DVOL_BIND_SRC_OK:
		return 0;
	case DVOL_BIND_SRC_ROOT:
		log_error("source %s is the root folder /: binding it would hand the whole root "
			  "filesystem to the mount point; give a folder of its own",
			  p->spec.path);
		break;
	case DVOL_BIND_SRC_KERNEL_FS:
		log_error("source %s is on %s, a kernel filesystem, not a folder of data: it would "
			  "hand over the host's kernel state; give a folder of its own",
			  p->spec.path, what);
		break;
	case DVOL_BIND_SRC_SYSTEM:
		log_error("source %s is %s or on the filesystem mounted there (the host's devices "
			  "and kernel state), not a folder of data; give a folder of its own",
			  p->spec.path, what);
		break;
	}
	p->fail = DVOL_FAIL_USAGE;
	return -EPERM;
}

/*
 * source-mounted, source-fs=: the folder FD (the source, or where 'create' would make it)
 * must lie on the volume it belongs on, not on the root disk beneath a volume that is not
 * mounted yet. Refused with exit 32, as a volume that is not there yet.
 */
static int check_gate(struct plan *p, int fd)
{
	_cleanup_(dvol_src_gate_facts_done) struct dvol_src_gate_facts f = {0};
	const struct dvol_src_gate_want w = {
	    .mounted = p->opts.source_mounted,
	    .at = p->opts.source_mounted_at,
	    .fs = p->opts.source_fs,
	};
	const char *path = p->spec.path;
	_cleanup_free_ char *text = NULL;
	enum dvol_src_gate_why why;
	int r;

	if (!dvol_src_gate_wanted(&w))
		return 0;
	r = dvol_src_gate_facts(fd, w.at, &f);
	if (r < 0)
		return log_error_errno(r, "cannot find the mount that source folder %s lies on",
				       path);
	why = dvol_src_gate_decide(&w, &f);
	if (why == DVOL_SRC_GATE_OK) {
		log_debug("source %s lies on %s mounted at %s", path, f.fstype ? f.fstype : "?",
			  f.mnt_target ? f.mnt_target : "?");
		return 0;
	}
	if (dvol_src_gate_explain(why, path, &w, &f, &text) == -ENOMEM)
		return -ENOMEM;
	log_error("%s", text);
	p->fail = DVOL_FAIL_MOUNT;
	return -EREMOTEIO;
}

/* The opened source folder: a folder of its own (exit 1), and where its gate asks (32). */
static int check_source(struct plan *p)
{
	int r = check_bind_source(p);

	return r < 0 ? r : check_gate(p, p->src_fd);
}

/* resolve + plan for a folder bind. Nothing is created here: -f must not change a thing. */
static int plan_bind(struct plan *p)
{
	int r;

	r = dvol_open_dir(p->spec.path, &p->src_fd);
	if (r == -ENOENT && p->opts.create) {
		_cleanup_close_ int afd = -EBADF;

		/* Gated where it would be made: never make it on the bare folder beneath. */
		r = dvol_open_existing_ancestor(p->spec.path, &afd);
		if (r < 0)
			return log_error_errno(r, "cannot open a folder above %s", p->spec.path);
		r = check_gate(p, afd);
		if (r < 0)
			return r;
		p->create_source = true;
	} else if (r == -ENOENT) {
		log_error("source folder %s does not exist; create it, or add the 'create' "
			  "option to have mount.dvol make it",
			  p->spec.path);
		return r;
	} else if (r == -ELOOP) {
		log_error("source %s is a symbolic link; dvol binds only a real folder, to "
			  "stop a link being swapped in: give the folder it points to",
			  p->spec.path);
		return r;
	} else if (r == -ENOTDIR) {
		log_error("source %s is not a folder (for a block device give its /dev path)",
			  p->spec.path);
		return r;
	} else if (r < 0) {
		return log_error_errno(r, "cannot open source folder %s", p->spec.path);
	} else {
		r = check_source(p);
		if (r < 0)
			return r;
	}

	return check_existing(p);
}

/* --- NFS ------------------------------------------------------------------------------ */

/* What the probe process asks of the server: one place, for the probe and its message. */
static struct dvol_nfs_probe_params nfs_probe_params(const struct plan *p)
{
	return (struct dvol_nfs_probe_params){
	    .timeout_ms = p->opts.probe_timeout_ms,
	    /* The portmapper and MOUNT matter for v3 only. */
	    .v3_side = !p->nfs.probe.want || p->nfs.probe.want == DVOL_NFS_V3,
	    .mount_port = p->nfs.mopts.mountport,
	};
}

static void nfs_log_failure(const struct plan *p)
{
	const struct dvol_nfs_target *t = &p->nfs.probe;
	struct dvol_nfs_probe_params params = nfs_probe_params(p);
	_cleanup_free_ char *server = dvol_spec_nfs_server(&p->spec);
	_cleanup_free_ char *summary = dvol_nfs_target_summary(t);
	_cleanup_free_ char *tried = dvol_nfs_probe_describe(t, &params);

	log_error("cannot mount %s: NFS server %s%s%s%s is not usable: %s (%s)%s", arg_spec,
		  server ? server : p->spec.host, t->resolved ? " (" : "",
		  t->resolved ? t->addr : "", t->resolved ? ")" : "",
		  dvol_nfs_err_to_string(t->err), t->detail ? t->detail : "no detail",
		  p->nfs.attempts > 1 ? "; probed again until retry= ran out" : "");
	log_error("tried: %s; answered: %s; nothing was mounted", tried ? tried : "?",
		  summary ? summary : "?");
}

/*
 * parse for NFS, before any sandbox: the user's NFS options (what the probe depends on is
 * probed and used as given, or refused here), and the probe's target. Nothing is touched.
 */
static int nfs_prepare(struct plan *p)
{
	struct plan_nfs *n = &p->nfs;
	struct dvol_nfs_target *t = &n->probe;
	_cleanup_free_ char *bad = NULL;
	const char *why = NULL;
	int r;

	r = dvol_nfs_mopts_parse(p->opts.fs, p->spec.vers, p->spec.port, &n->mopts, &bad, &why);
	if (r == -ENOMEM)
		return log_error_errno(r, "out of memory");
	if (r < 0) {
		_cleanup_free_ char *b = shown(bad);

		log_error("option '%s' %s", b, why ? why : "is invalid");
		p->fail = DVOL_FAIL_USAGE;
		return r;
	}
	n->mount_timeout_ms = n->mopts.mount_timeout_ms
				  ? n->mopts.mount_timeout_ms
				  : p->opts.probe_timeout_ms * DVOL_NFS_MOUNT_TIMEOUT_FACTOR;
	if (asprintf(&n->source, p->spec.host_is_ipv6 ? "[%s]:%s" : "%s:%s", p->spec.host,
		     p->spec.path) < 0)
		return log_error_errno(-ENOMEM, "out of memory");

	r = dvol_nfs_target_parse(arg_spec, t, &why);
	if (r < 0) /* SOURCE parsed already: only memory can fail here */
		return log_error_errno(r, "cannot set up the probe of %s", arg_spec);
	/* The probe goes where the kernel mount will: addr= instead of the name, port=. */
	if (n->mopts.addr) {
		char *h = strdup(n->mopts.addr);

		if (!h)
			return log_error_errno(-ENOMEM, "out of memory");
		free(t->host);
		t->host = h;
	}
	t->port = n->mopts.port;
	t->want = n->mopts.vers;
	return 0;
}

/* In the probe process, which has only stderr: why it stopped, and why it goes on. */
static void nfs_probe_failed(enum dvol_probe_step step, int r, void *userdata)
{
	switch (step) {
	case DVOL_PROBE_STEP_PRIVILEGES:
		log_error_errno(r, "probe: cannot drop privileges to uid %u", DVOL_NFS_PROBE_UID);
		break;
	case DVOL_PROBE_STEP_SANDBOX:
		log_error_errno(r, "probe: cannot enter the sandbox");
		break;
	case DVOL_PROBE_STEP_PROBE:
		log_error_errno(r, "probing %s failed", arg_spec);
		break;
	}
}

static void nfs_probe_retrying(const struct dvol_nfs_target *t, uint64_t pause_ms, void *userdata)
{
	log_info("%s: %s (%s); probing again in %" PRIu64 " ms", arg_spec,
		 dvol_nfs_err_to_string(t->err), t->detail ? t->detail : "", pause_ms);
}

/* Before the parent's first sandbox stage: the probe process alone holds inet, as nobody. */
static int nfs_probe_start(struct plan *p)
{
	int r = dvol_probe_start(&(struct dvol_probe_job){.target = &p->nfs.probe,
							  .params = nfs_probe_params(p),
							  .retry_ms = p->opts.retry_ms,
							  .failed = nfs_probe_failed,
							  .retrying = nfs_probe_retrying},
				 &p->nfs.probe_fd);

	return r < 0 ? log_error_errno(r, "cannot start the probe process") : 0;
}

/* The probe process's verdict, checked field by field; -errno, logged, if there is none. */
static int nfs_probe_wait(struct plan *p)
{
	struct plan_nfs *n = &p->nfs;
	/* The probe keeps its own deadlines; this one is for a probe that cannot. */
	uint64_t until = dvol_now_ms() + p->opts.retry_ms + p->opts.probe_timeout_ms + 10000;
	int r;

	r = dvol_probe_wait(n->probe_fd, until, &n->probe, &n->attempts);
	n->probe_fd = safe_close(n->probe_fd);
	switch (r) {
	case 0:
		return 0;
	case -ETIMEDOUT:
		log_error("cannot mount %s: the probe process gave no result by its deadline; "
			  "nothing was mounted",
			  arg_spec);
		return r;
	case -EPIPE:
		log_error("cannot mount %s: the probe process ended without a result (see its "
			  "message above); nothing was mounted",
			  arg_spec);
		return -EIO;
	case -EBADMSG:
		log_error("cannot mount %s: the probe process's result is malformed; nothing "
			  "was mounted",
			  arg_spec);
		return r;
	case -ENOMEM:
		return log_error_errno(r, "out of memory");
	default:
		return log_error_errno(r, "cannot read the probe process's result");
	}
}

/*
 * Have the kernel load its NFS client (sunrpc, nfs...) now, which on a booting machine can
 * take longer than a mount: mount-timeout= is for the server, not for module loading. Only
 * once the server passed, so that a dead one is still told in its probe timeout. No server
 * is contacted, nothing is mounted.
 */
static void nfs_load_client(void)
{
	_cleanup_close_ int fs = fsopen("nfs4", FSOPEN_CLOEXEC);

	if (fs < 0)
		log_debug_errno(-errno, "fsopen(\"nfs4\") to load the NFS client");
}

/* resolve + plan for NFS: the mount point, what is already there, then the probe's answer. */
static int plan_nfs(struct plan *p)
{
	struct plan_nfs *n = &p->nfs;
	struct dvol_nfs_target *t = &n->probe;
	int r;

	r = check_existing(p);
	if (r < 0 || p->already)
		return r;

	/* retry= applies to the kernel mount as well, from the same start. */
	n->deadline_ms = p->opts.retry_ms ? dvol_now_ms() + p->opts.retry_ms : 0;
	r = nfs_probe_wait(p);
	if (r < 0)
		return r;
	if (t->err != DVOL_NFS_OK) {
		nfs_log_failure(p);
		return t->err == DVOL_NFS_TIMEOUT ? -ETIMEDOUT : -EHOSTUNREACH;
	}
	if (!arg_fake)
		nfs_load_client();

	r = dvol_nfs_tries(&n->mopts, t->versions, t->addr, t->local_addr, t->mount_port, n->tries);
	if (r < 0)
		return log_error_errno(r, "out of memory");
	n->n_tries = (unsigned)r;
	if (n->n_tries == 0) {
		/* The probe's ok says a wanted version was proven: this is a bug. */
		log_error("cannot mount %s: the probe passed, but no NFS version to mount is left",
			  arg_spec);
		p->fail = DVOL_FAIL_BUG;
		return -EPROTO;
	}
	return 0;
}

static void nfs_trying(const struct dvol_nfs_try *t, void *userdata)
{
	const struct plan *p = userdata;

	log_debug("mount(\"%s\", \"%s\", \"%s\", 0x%lx, \"%s\")", p->nfs.source, p->target,
		  t->fstype, p->opts.mflags, t->data);
}

/* Each failed kernel mount: one item of the list the last message gives. */
static void nfs_failed(const struct dvol_nfs_attempt *a, void *userdata)
{
	struct plan *p = userdata;
	const char *vs = dvol_nfs_vers_to_string(a->try->vers);

	/* Out of memory here only shortens the list in the message. */
	(void)dvol_strextendf(&p->nfs.tried, "; ", "vers=%s: %s", vs,
			      a->r == -ETIMEDOUT ? "no answer in time" : strerror(-a->r));
	if (a->pause_ms)
		log_info("mounting %s with vers=%s: %s; again in %" PRIu64 " ms", p->nfs.source, vs,
			 strerror(-a->r), a->pause_ms);
}

/* act for NFS: the kernel mounts of the plan (nfsmount.h); no network of our own any
 * more. */
static int act_nfs(struct plan *p)
{
	struct plan_nfs *n = &p->nfs;
	struct dvol_nfs_attempt last;
	char target[64];
	int r;

	snprintf(target, sizeof(target), "/proc/self/fd/%d", p->target_fd);
	r = dvol_nfs_mount_run(&(struct dvol_nfs_mount_job){.source = n->source,
							    .target = target,
							    .target_path = p->target,
							    .flags = p->opts.mflags,
							    .tries = n->tries,
							    .n_tries = n->n_tries,
							    .timeout_ms = n->mount_timeout_ms,
							    .retry_until = n->deadline_ms,
							    .trying = nfs_trying,
							    .failed = nfs_failed,
							    .userdata = p},
			       &last);
	if (r == 0 && last.landed)
		log_notice("the kernel mount of %s finished at its deadline", n->source);
	if (r == 0)
		return 0;
	if (last.next == DVOL_NFS_NEXT_TIMEOUT) {
		log_error("cannot mount %s on %s: the server answered the probe, but the kernel "
			  "mount (vers=%s) did not finish within %.1f s (mount-timeout=) and was "
			  "stopped; nothing was mounted. Check the server's load and the network "
			  "path to it, or allow longer with mount-timeout=",
			  n->source, p->target, dvol_nfs_vers_to_string(last.try->vers),
			  n->mount_timeout_ms / 1000.0);
		return r;
	}
	if (r == -ENODEV)
		log_error("cannot mount %s on %s: this kernel has no NFS client (%s); load the "
			  "nfs and nfsv4 modules; nothing was mounted",
			  n->source, p->target, n->tried ?: "?");
	else
		log_error("cannot mount %s on %s: the server answered the probe, but the kernel "
			  "mount failed (%s); nothing was mounted",
			  n->source, p->target, n->tried ?: "?");
	return r;
}

/*
 * act for heal: the fresh mount is made by act_nfs() on a folder of its own in
 * DVOL_HEAL_DIR (made from the folder's fd: nothing planted there can move it), taken
 * from there as a detached copy (a mount beneath a shared one, as systemd makes them,
 * cannot be moved), and put in the stale one's place.
 */
static int act_heal(struct plan *p)
{
	_cleanup_close_ int tree = -EBADF, sfd = -EBADF;
	char name[32], at[64];
	int target_fd, r;
	bool atomic;

	snprintf(name, sizeof(name), "new.%d", (int)getpid());
	snprintf(at, sizeof(at), "/proc/self/fd/%d/%s", p->heal_dir, name);
	if (mkdirat(p->heal_dir, name, 0700) < 0)
		return log_error_errno(-errno, "heal: cannot make %s/%s", DVOL_HEAL_DIR, name);
	sfd = openat(p->heal_dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	r = sfd < 0 ? log_error_errno(-errno, "heal: cannot open %s/%s", DVOL_HEAL_DIR, name) : 0;
	if (r >= 0) {
		target_fd = p->target_fd;
		p->target_fd = sfd;
		r = act_nfs(p);
		p->target_fd = target_fd;
	}
	if (r >= 0) {
		tree = open_tree(p->heal_dir, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (tree < 0)
			r = log_error_errno(-errno, "heal: cannot take the fresh mount from %s/%s",
					    DVOL_HEAL_DIR, name);
		(void)umount2(at, MNT_DETACH | UMOUNT_NOFOLLOW);
	}
	(void)unlinkat(p->heal_dir, name, AT_REMOVEDIR);
	if (r < 0)
		return r;

	p->target_fd = safe_close(p->target_fd);
	r = dvol_mount_replace(tree, p->target, true, &atomic);
	if (r == -EREMCHG) {
		log_error("heal: the stale mount on %s is detached, but the fresh one could not "
			  "be put in its place: %s is the bare folder now. Mount it again",
			  p->target, p->target);
		return r;
	}
	if (r < 0)
		return log_error_errno(r,
				       "heal: cannot put the fresh mount of %s in the place of "
				       "the stale one on %s, which is left as it was",
				       p->nfs.source, p->target);
	log_notice("healed %s: the stale mount of %s is replaced by a fresh one%s. Files "
		   "opened before keep the stale one until they are closed",
		   p->target, p->nfs.source,
		   atomic ? "" : " (detached first: this kernel cannot mount beneath)");
	return 0;
}

static int local_find(struct plan *p)
{
	struct local *l = &p->local;
	_cleanup_free_ char *cands = NULL, *spec = shown(arg_spec);
	int r;

	r = dvol_blk_find(&p->spec, p->opts.device_timeout_ms, &l->dev, &cands);
	if (r == -ENOENT) {
		log_error("no block device matches '%s' after waiting %.1f s; check that it is "
			  "attached (lsblk, nvme list), or wait longer with device-timeout=",
			  spec, p->opts.device_timeout_ms / 1000.0);
		return r;
	}
	if (r == -ENAMETOOLONG) {
		log_error("'%s' can match no device: an NVMe serial has at most %d bytes and a "
			  "model at most %d (as /sys/class/nvme/*/serial and model show them); "
			  "check the value",
			  spec, DVOL_NVME_SERIAL_MAX, DVOL_NVME_MODEL_MAX);
		p->fail = DVOL_FAIL_USAGE;
		return -EINVAL;
	}
	if (r == -ENOTUNIQ) {
		log_error("'%s' matches more than one block device:\n%s\nname exactly one, "
			  "by nvme:serial=, nvme:model=M,index=N or UUID=%s",
			  spec, cands ? cands : "",
			  p->spec.kind == DVOL_SPEC_NVME_INSTANCE_STORE
			      ? " (or its " DVOL_BY_DVOL_DIR "/instance-store/ name); several "
				"instance stores as one striped volume are not supported yet"
			      : "");
		return r;
	}
	if (r == -ENOTBLK) {
		log_error("'%s' is not a block device", spec);
		return r;
	}
	if (r < 0)
		return log_error_errno(r, "cannot look for the block device '%s'", spec);

	/* Read-only: the close of a writable fd makes udev re-probe the device (and, for an
	 * md member, assemble its array again). Only a format opens it for writing. */
	r = dvol_blk_open(&l->dev, &l->fd);
	if (r < 0)
		return log_error_errno(r, "cannot open %s for '%s'", l->dev.node, spec);
	l->desc = dvol_blk_dev_describe(&l->dev, NULL);
	if (!l->desc)
		return -ENOMEM;
	log_debug("'%s' is %s (%" PRIu64 " bytes, diskseq %" PRIu64 ", identity '%s'%s)", spec,
		  l->desc, l->dev.size, l->dev.diskseq, l->dev.ident,
		  l->dev.read_only ? ", read-only" : "");
	return 0;
}

static enum dvol_blk_kind verdict_kind(enum dvol_blk_state s)
{
	switch (s) {
	case DVOL_BLK_BLANK:
		return DVOL_KIND_BLANK;
	case DVOL_BLK_FS:
		return DVOL_KIND_FS;
	case DVOL_BLK_DATA:
		return DVOL_KIND_DATA;
	default:
		return DVOL_KIND_OTHER;
	}
}

/* The decision in words (blkdecide.c): a notice for a redo, an error for a refusal. */
static int local_explain(const struct plan *p, const struct dvol_blk_verdict *first)
{
	const struct local *l = &p->local;
	_cleanup_free_ char *text = NULL;
	int r;

	r = dvol_blk_explain(l->decision.reason,
			     &(struct dvol_blk_words){.desc = l->desc,
						      .node = l->dev.node,
						      .mkfs = p->opts.mkfs,
						      .first = first->what,
						      .what = l->verdict.what,
						      .fstype = l->verdict.fstype,
						      .claimed = &l->claimed},
			     &text);
	if (r == -ENOMEM)
		return log_error_errno(r, "out of memory");
	if (text)
		dvol_log(r < 0 ? LOG_ERR : LOG_NOTICE, "%s", text);
	return r;
}

/* Read the claim and decide, over the facts under the lock (blkdecide.h). */
static int local_decide(struct plan *p, const struct dvol_blk_verdict *first)
{
	struct local *l = &p->local;
	struct dvol_claim_read copies[2];
	struct dvol_blk_facts f;
	int r;

	r = dvol_blk_claim_read(l->fd, &l->dev, copies);
	if (r == -ERANGE)
		l->claim = DVOL_CLAIM_NONE;
	else if (r < 0)
		return log_error_errno(r, "cannot read %s for dvol's format claim", l->desc);
	else
		l->claim = dvol_claim_combine(copies, &l->claimed);

	f = (struct dvol_blk_facts){
	    .mkfs = p->opts.mkfs,
	    .first = verdict_kind(first->state),
	    .kind = verdict_kind(l->verdict.state),
	    .fstype = l->verdict.fstype,
	    .uuid = l->verdict.uuid,
	    .claim = l->claim,
	    .claimed = &l->claimed,
	    .read_only = l->dev.read_only,
	};
	l->decision = dvol_blk_decide(&f);
	/* Nobody else may have it open exclusively: not mounted, not held by md, dm, swap. */
	if (l->decision.action == DVOL_ACT_FORMAT || l->decision.action == DVOL_ACT_REDO) {
		r = dvol_blk_check_exclusive(&l->dev);
		if (r < 0 && r != -EBUSY)
			return log_error_errno(r, "cannot open %s exclusively", l->desc);
		f.in_use = r == -EBUSY;
		l->decision = dvol_blk_decide(&f);
	}
	log_debug("%s: verdict %s, claim %s: %s", l->desc, l->verdict.what,
		  dvol_claim_state_to_string(l->claim),
		  dvol_blk_action_to_string(l->decision.action));
	r = local_explain(p, first);
	if (r < 0)
		return r;
	switch (l->decision.action) {
	case DVOL_ACT_MOUNT:
		l->fstype = l->verdict.fstype;
		return 0;
	case DVOL_ACT_FORMAT:
	case DVOL_ACT_REDO:
		l->format = true;
		l->redo = l->decision.action == DVOL_ACT_REDO;
		return 0;
	default:
		return -EMEDIUMTYPE;
	}
}

/* resolve + plan for a local volume: find, lock, judge twice, decide. Changes nothing. */
static int plan_local(struct plan *p)
{
	struct local *l = &p->local;
	_cleanup_(dvol_blk_verdict_done) struct dvol_blk_verdict first = {0};
	bool skip_zero = p->opts.mkfs_ignore_nonzero;
	int r;

	r = local_find(p);
	if (r < 0)
		return r;

	r = dvol_blk_probe(l->fd, &l->dev, skip_zero, &first);
	if (r < 0)
		return log_error_errno(r, "cannot probe %s", l->desc);
	log_debug("%s, first probe: %s", l->desc, first.what);

	/* udev and systemd take the same lock on the whole disk: while it is held they
	 * neither probe nor touch it, and concurrent mount.dvol runs wait in line. */
	r = dvol_blk_lock(l->fd, p->opts.device_timeout_ms);
	if (r == -ETIMEDOUT) {
		log_error("%s stays locked by another process (flock) after %.1f s; retry, or "
			  "find the holder (lslocks)",
			  l->desc, p->opts.device_timeout_ms / 1000.0);
		return r;
	}
	if (r < 0)
		return log_error_errno(r, "cannot lock %s", l->desc);

	/* The format step mounts nothing, and may run in a mount namespace of its own. */
	r = arg_format_only ? 0 : check_existing(p);
	if (r < 0 || p->already)
		return r;

	r = dvol_blk_probe(l->fd, &l->dev, skip_zero, &l->verdict);
	if (r < 0)
		return log_error_errno(r, "cannot probe %s", l->desc);
	/* Name it by what it holds as well, where the device itself has no serial. */
	if (!l->dev.serial && l->verdict.uuid) {
		_cleanup_free_ char *d = dvol_blk_dev_describe(&l->dev, l->verdict.uuid);

		if (d) {
			free(l->desc);
			l->desc = TAKE_PTR(d);
		}
	}
	r = local_decide(p, &first);
	if (r < 0 || !l->format)
		return r;

	l->fstype = p->opts.mkfs;
	l->fresh = true;
	r = dvol_mkfs_new_uuid(l->uuid);
	if (r < 0)
		return r;
	dvol_mkfs_label_from_path(p->target, l->label);
	return dvol_mkfs_argv(&(struct dvol_mkfs){.fstype = p->opts.mkfs,
						  .device = l->dev.node,
						  .label = l->label,
						  .uuid = l->uuid,
						  .force = l->redo},
			      &l->mkfs_argv);
}

/* act, stage 1: the claim, the format (under the lock, which mkfs inherits), a third
 * probe (blkformat.h). */
static int act_local_format(struct plan *p)
{
	struct local *l = &p->local;
	_cleanup_(dvol_blk_format_done) struct dvol_blk_format f = {
	    .dev = &l->dev,
	    .fd = l->fd,
	    .fstype = l->fstype,
	    .uuid = l->uuid,
	    .argv = l->mkfs_argv,
	    .timeout_ms = DVOL_MKFS_TIMEOUT_MS,
	    .wfd = -EBADF,
	};
	_cleanup_free_ char *line = NULL;
	const char *mkfs = l->mkfs_argv ? l->mkfs_argv[0] : "mkfs";
	int r;

	if (!l->format)
		return 0;
	r = dvol_blk_format_claim(&f);
	if (r < 0 && f.fail == DVOL_FORMAT_OPEN)
		return log_error_errno(r, "cannot open %s for writing; nothing was formatted",
				       l->desc);
	if (r < 0)
		return log_error_errno(r,
				       "cannot write dvol's format claim on %s; nothing was "
				       "formatted",
				       l->desc);
	if (!f.claimed)
		log_debug("%s is smaller than %u bytes: no claim; an interrupted format will be "
			  "refused, not redone",
			  l->desc, DVOL_CLAIM_MIN_DEVSIZE);

	line = dvol_strv_join(l->mkfs_argv);
	log_info("formatting %s: %s", l->desc, line ? line : mkfs);
	dvol_debug_stop("mkfs");
	r = dvol_blk_format_run(&f);
	if (f.output && *f.output)
		dvol_log(r < 0 && f.fail != DVOL_FORMAT_VERIFY ? LOG_ERR : LOG_INFO, "%s: %s", mkfs,
			 f.output);
	if (f.unclaim < 0)
		log_warning_errno(f.unclaim,
				  "cannot clear dvol's format claim on %s (the first sector "
				  "and 768 KiB before the end); zero them before reusing it",
				  l->desc);
	if (r == 0) {
		log_notice("formatted %s as %s, UUID=%s LABEL=%s", l->desc, l->fstype, l->uuid,
			   l->label);
		return 0;
	}
	switch (f.fail) {
	case DVOL_FORMAT_KILLED:
		/* Interrupted, not failed: the claim stays, as after a power loss. */
		return log_error_errno(r,
				       "%s on %s was killed (signal %d); the device was not "
				       "mounted, and the next run formats it again",
				       mkfs, l->desc, WTERMSIG(f.status));
	case DVOL_FORMAT_TIMEOUT:
		return log_error_errno(r, "%s on %s did not finish in %u s and was killed", mkfs,
				       l->desc, DVOL_MKFS_TIMEOUT_MS / 1000);
	case DVOL_FORMAT_EXIT:
		return log_error_errno(
		    r, "%s on %s failed (%s %d); the device was not mounted", mkfs, l->desc,
		    WIFEXITED(f.status) ? "exit status" : "signal",
		    WIFEXITED(f.status) ? WEXITSTATUS(f.status) : WTERMSIG(f.status));
	case DVOL_FORMAT_VERIFY:
		return log_error_errno(r,
				       "%s ran on %s, but its %s (UUID=%s) cannot be found there",
				       mkfs, l->desc, l->fstype, l->uuid);
	default:
		return log_error_errno(r, "cannot run %s for %s", mkfs, l->desc);
	}
}

/* act, stage 2: mount the device with the probed type, fd to fd. */
static int act_local_mount(struct plan *p)
{
	struct local *l = &p->local;
	_cleanup_close_ int mfd = -EBADF;
	bool chown_root;
	int r;

	/* Made by the format step of this boot (--format-only): its root is ours to set. */
	if (!l->fresh && l->verdict.uuid && dvol_fresh_take(DVOL_FRESH_DIR, l->verdict.uuid) > 0) {
		log_info("%s was formatted by dvol's format step; setting up its root", l->desc);
		l->fresh = true;
	}
	chown_root = l->fresh && (p->opts.mode_set || p->opts.uid_set || p->opts.gid_set);

	/* As mount(8) does with a write-protected device: read-only, and say so. */
	if (l->dev.read_only && !(p->opts.mflags & MS_RDONLY)) {
		log_notice("%s is write-protected, mounting it read-only", l->desc);
		p->opts.mflags |= MS_RDONLY;
	}
	/* ro is the superblock's, not only the mount point's: no journal replay, no mount
	 * count, not one byte written. A new filesystem gets its root's owner first. */
	r = dvol_mount_dev(l->fstype, l->dev.node, p->opts.fs,
			   (p->opts.mflags & MS_RDONLY) && !chown_root, &mfd);
	if (r < 0)
		return log_error_errno(r, "cannot mount the %s on %s%s%s (see dmesg)", l->fstype,
				       l->desc, p->opts.fs ? " with options " : "",
				       p->opts.fs ? p->opts.fs : "");
	if (chown_root) {
		r = dvol_mount_chmod_root(mfd, p->opts.mode_set ? p->opts.mode : (mode_t)-1,
					  p->opts.uid_set ? p->opts.uid : (uid_t)-1,
					  p->opts.gid_set ? p->opts.gid : (gid_t)-1);
		if (r < 0)
			return log_error_errno(r, "cannot set mode and owner of the new %s on %s",
					       l->fstype, l->desc);
		if (p->opts.mflags & MS_RDONLY) {
			r = dvol_mount_set_sb_ro(mfd);
			if (r < 0)
				return log_error_errno(r, "cannot make the new %s on %s read-only",
						       l->fstype, l->desc);
		}
	}
	r = dvol_mount_attach(mfd, p->target_fd, p->opts.mflags);
	if (r < 0)
		return log_error_errno(r, "cannot attach the %s of %s on %s", l->fstype, l->desc,
				       p->target);
	return 0;
}

/* -f: the plan as rows of a label and a value, which each kind fills in. */
struct rows {
	struct {
		const char *label;
		char *value;
	} r[16];
	size_t n;
};

static void rows_done(struct rows *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->r[i].value);
}

__attribute__((format(printf, 3, 4))) static void row(struct rows *t, const char *label,
						      const char *fmt, ...)
{
	va_list ap;
	char *v;

	if (t->n == ELEMENTSOF(t->r))
		return;
	va_start(ap, fmt);
	if (vasprintf(&v, fmt, ap) < 0)
		v = NULL;
	va_end(ap);
	t->r[t->n].label = label;
	t->r[t->n++].value = v;
}

/* The root of a folder made by create, or of a new filesystem. */
static void row_owner(struct rows *t, const char *label, const struct dvol_opts *o,
		      const char *tail)
{
	row(t, label, "mode %04o, owner %d:%d%s", o->mode_set ? (unsigned)o->mode : 0755u,
	    o->uid_set ? (int)o->uid : 0, o->gid_set ? (int)o->gid : 0, tail);
}

static void plan_rows_bind(const struct plan *p, struct rows *t)
{
	row(t, "source:", "%s (folder%s)", p->spec.path,
	    p->create_source ? ", missing: will be created" : "");
	if (p->create_source)
		row_owner(t, "create:", &p->opts, "");
	if (p->opts.source_mounted || p->opts.source_fs)
		row(t, "gate:", "passed: on %s%s%s%s%s",
		    p->opts.source_mounted_at ? "the volume at " : "",
		    p->opts.source_mounted_at ? p->opts.source_mounted_at
		    : p->opts.source_mounted  ? "a mount other than /"
					      : "",
		    p->opts.source_mounted && p->opts.source_fs ? ", " : "",
		    p->opts.source_fs ? "a filesystem of " : "",
		    p->opts.source_fs ? p->opts.source_fs : "");
	row(t, "target:", "%s", p->target);
	if (p->already)
		row(t, "action:", "none, %s is already bound there", p->spec.path);
	else
		row(t, "action:", "bind (open_tree, mount_setattr, move_mount)%s%s%s",
		    p->opts.vfs ? ", flags " : "", p->opts.vfs ? p->opts.vfs : "",
		    p->opts.mflags & MS_RDONLY ? " (read-only before it appears)" : "");
}

static void plan_rows_local(const struct plan *p, struct rows *t)
{
	const struct local *l = &p->local;
	_cleanup_free_ char *line = l->mkfs_argv ? dvol_strv_join(l->mkfs_argv) : NULL;
	bool ro = (p->opts.mflags & MS_RDONLY) || l->dev.read_only;
	bool ours = l->claim == DVOL_CLAIM_OURS;

	row(t, "source:", "%s", arg_spec);
	row(t, "device:", "%s, %.1f GiB, found by %s%s%s%s%s", l->desc, l->dev.size / 1073741824.0,
	    dvol_spec_kind_to_string(p->spec.kind), l->dev.found_via ? " (" : "",
	    l->dev.found_via ? l->dev.found_via : "", l->dev.found_via ? ")" : "",
	    l->dev.read_only ? ", read-only" : "");
	if (p->already) {
		row(t, "target:", "%s", p->target);
		row(t, "action:", "none, %s is already mounted there", l->dev.node);
		return;
	}
	row(t, "verdict:", "%s: %s%s", l->verdict.state == DVOL_BLK_BLANK ? "blank" : "not blank",
	    l->verdict.what, l->redo ? " (an interrupted format of dvol's own)" : "");
	if (l->claim != DVOL_CLAIM_NONE)
		row(t, "claim:", "%s%s%s%s%s", dvol_claim_state_to_string(l->claim),
		    ours ? ", " : "", ours ? l->claimed.fstype : "", ours ? " UUID=" : "",
		    ours ? l->claimed.uuid : "");
	if (l->verdict.uuid && !l->format)
		row(t, "identity:", "UUID=%s%s%s", l->verdict.uuid,
		    l->verdict.label ? " LABEL=" : "", l->verdict.label ? l->verdict.label : "");
	row(t, "mkfs:", "%s", line ? line : "none");
	if (l->format)
		row(t, "identity:", "UUID=%s LABEL=%s (new; a real run draws its own random UUID)",
		    l->uuid, l->label);
	row(t, "target:", "%s", p->target);
	row(t, "action:", "mount %s %s (fsopen, fsmount, move_mount)%s%s%s%s%s", l->fstype,
	    l->dev.node, ro ? ", superblock read-only" : "", p->opts.fs ? ", options " : "",
	    p->opts.fs ? p->opts.fs : "", p->opts.vfs ? ", flags " : "",
	    p->opts.vfs ? p->opts.vfs : "");
	if (l->fresh && (p->opts.mode_set || p->opts.uid_set || p->opts.gid_set))
		row_owner(t, "root:", &p->opts, " (new filesystem only)");
}

static void plan_rows_nfs(const struct plan *p, struct rows *t)
{
	const struct plan_nfs *n = &p->nfs;
	_cleanup_free_ char *summary = NULL;

	row(t, "source:", "%s (NFS export %s on %s)", arg_spec, p->spec.path, p->spec.host);
	row(t, "target:", "%s", p->target);
	if (p->already) {
		row(t, "action:", "none, %s is already mounted there", n->source);
		return;
	}
	summary = dvol_nfs_target_summary(&n->probe);
	row(t, "probe:", "%s (%s) ok in %llu ms: %s", n->probe.host, n->probe.addr,
	    (unsigned long long)n->probe.elapsed_ms, summary ? summary : "?");
	for (unsigned i = 0; i < n->n_tries; i++)
		row(t,
		    i == 0 ? "action:" : "  else:", "mount(\"%s\", \"%s\", \"%s\", %s%s, \"%s\")",
		    n->source, p->target, n->tries[i].fstype, p->opts.vfs ? "MS:" : "0",
		    p->opts.vfs ? p->opts.vfs : "", n->tries[i].data);
	row(t, "deadline:", "the kernel mount within %.1f s (mount-timeout=), then stopped",
	    n->mount_timeout_ms / 1000.0);
	row(t, "sandbox:",
	    "the probe ran as uid %u with stdio, rpath and inet only; the process that mounts "
	    "never had inet",
	    (unsigned)DVOL_NFS_PROBE_UID);
}

static void print_plan(const struct plan *p)
{
	_cleanup_(rows_done) struct rows t = {0};

	switch (p->kind) {
	case DVOL_VOL_BIND:
		plan_rows_bind(p, &t);
		break;
	case DVOL_VOL_LOCAL:
		plan_rows_local(p, &t);
		break;
	case DVOL_VOL_NFS:
		plan_rows_nfs(p, &t);
		break;
	}
	row(&t, "record:", "%s", arg_nomtab || p->already ? "no" : "utab");
	for (size_t i = 0; i < t.n; i++)
		printf("%-10s%s\n", t.r[i].label, t.r[i].value ? t.r[i].value : "?");
}

static int act_bind(struct plan *p)
{
	int r;

	if (p->create_source) {
		bool created;

		r = dvol_mkdir_p(p->spec.path, p->opts.mode_set ? p->opts.mode : 0755,
				 p->opts.uid_set ? p->opts.uid : (uid_t)-1,
				 p->opts.gid_set ? p->opts.gid : (gid_t)-1, &created);
		if (r < 0)
			return log_error_errno(r, "cannot create source folder %s", p->spec.path);
		if (created)
			log_info("created %s", p->spec.path);
		r = dvol_open_dir(p->spec.path, &p->src_fd);
		if (r < 0)
			return log_error_errno(r, "cannot open source folder %s after creating it",
					       p->spec.path);
		r = check_source(p);
		if (r < 0)
			return r;
	}

	r = dvol_bind_fd(p->src_fd, p->target_fd, p->opts.mflags);
	if (r < 0)
		return log_error_errno(r, "cannot bind %s on %s", p->spec.path, p->target);
	return 0;
}

/*
 * record: utab through libmount, as a mount helper does. The entry carries the dvol
 * SOURCE (SRC=), the userspace options, and an attribute naming the kind, so that there
 * is always an entry, and dvol-gc can tell dvol's own mounts apart.
 */
static int record(struct libmnt_context *cxt, const struct plan *p)
{
	_cleanup_free_ char *attrs = NULL;
	int r;

	if (arg_nomtab || p->already)
		return 0;
	if (asprintf(&attrs, "dvol.kind=%s%s%s%s%s%s%s%s", dvol_vol_to_string(p->kind),
		     p->degraded ? ",dvol.degraded=" : "", p->degraded ? p->degraded : "",
		     p->degraded ? ",dvol.fallback=" : "",
		     p->degraded ? dvol_fallback_to_string(p->opts.fallback) : "",
		     p->opts.heal ? ",dvol.heal,dvol.opts=\"" : "",
		     p->opts.heal ? mnt_context_get_options(cxt) : "",
		     p->opts.heal ? "\"" : "") < 0)
		return -ENOMEM;
	/* The stale mount's line goes, as umount(8) would remove it. */
	if (p->heal) {
		r = dvol_utab_remove(p->target);
		if (r < 0)
			log_warning_errno(r, "cannot remove the stale mount's line from utab");
	}
	/* libmount must not evaluate or canonicalize SOURCE: it is dvol's, not a path. */
	r = mnt_context_disable_canonicalize(cxt, 1);
	/* A tag is recorded as the device it named, as mount(8) does: libmount would
	 * evaluate it again, and udev's links it relies on may not exist. */
	if (r >= 0)
		r = mnt_context_set_source(cxt, p->kind == DVOL_VOL_LOCAL &&
							p->spec.kind == DVOL_SPEC_TAG
						    ? p->local.dev.node
						    : arg_spec);
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

/* The end of the format step: what the mount step is to know is left on /run. */
static int format_only_done(struct plan *p)
{
	const struct local *l = &p->local;
	int r;

	p->fail = DVOL_FAIL_RECORD;
	if (!l->fresh) {
		log_info("%s holds a %s already (%s); nothing to format", l->desc,
			 l->verdict.fstype ? l->verdict.fstype : "filesystem", l->verdict.what);
		return 0;
	}
	if (p->opts.mode_set || p->opts.uid_set || p->opts.gid_set) {
		r = dvol_fresh_mark(DVOL_FRESH_DIR, l->uuid);
		if (r < 0)
			return log_error_errno(r,
					       "formatted %s, but cannot leave the mark in %s for "
					       "the mount step: mode=, uid= and gid= will not be "
					       "applied",
					       l->desc, DVOL_FRESH_DIR);
	}
	return 0;
}

/*
 * heal, before any sandbox: the target's lock, so that one run at a time heals it, and
 * whether what is mounted there answers, asked in a child under the probe's deadline (a
 * look at a mount whose server does not answer would hang). p->stale when it is ESTALE.
 */
static int heal_prepare(struct plan *p)
{
	_cleanup_free_ char *lock = NULL;
	int r;

	if (!p->opts.heal || arg_fake)
		return 0;
	r = dvol_rootdir_private(DVOL_HEAL_DIR, 0700, &p->heal_dir, NULL);
	if (r == -ELOOP || r == -EPERM) {
		log_error("heal: %s, or a folder above it, is %s: heal keeps no lock and makes no "
			  "mount there; nothing was done. Remove it",
			  DVOL_HEAL_DIR,
			  r == -ELOOP ? "a symbolic link" : "not this user's, or not a folder");
		p->fail = DVOL_FAIL_MOUNT;
		return r;
	}
	if (r < 0)
		return log_error_errno(r, "heal: cannot open %s", DVOL_HEAL_DIR);
	r = dvol_heal_file_name(p->target, ".lock", &lock);
	if (r < 0)
		return log_error_errno(r, "out of memory");
	p->heal_lock = openat(p->heal_dir, lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (p->heal_lock < 0)
		return log_error_errno(-errno, "heal: cannot open the lock %s/%s", DVOL_HEAL_DIR,
				       lock);
	if (flock(p->heal_lock, LOCK_EX | LOCK_NB) < 0) {
		r = -errno;
		if (r != -EWOULDBLOCK)
			return log_error_errno(r, "heal: cannot lock %s/%s", DVOL_HEAL_DIR, lock);
		log_error("another run of mount.dvol is mounting or healing %s (it holds %s/%s); "
			  "nothing was done. Try again once it is done",
			  p->target, DVOL_HEAL_DIR, lock);
		p->fail = DVOL_FAIL_MOUNT;
		return -EBUSY;
	}

	r = dvol_mount_check_live(p->target, p->opts.probe_timeout_ms);
	switch (r) {
	case -ESTALE:
		p->stale = true;
		return 0;
	case -ETIMEDOUT:
		log_error("%s does not answer within %.1f s (probe-timeout=): its server is not "
			  "answering, which a fresh mount cannot mend; nothing was done",
			  p->target, p->opts.probe_timeout_ms / 1000.0);
		p->fail = DVOL_FAIL_MOUNT;
		return r;
	default:
		/* Live, or not there: what is mounted is resolved as always. */
		return 0;
	}
}

/* Before the first sandbox stage: NFS starts its probe process, which alone holds inet
 * and sheds root, while this one goes on to open the mount point meanwhile. */
static int prepare(struct plan *p)
{
	int r;

	switch (p->kind) {
	case DVOL_VOL_BIND:
	case DVOL_VOL_LOCAL:
		return 0;
	case DVOL_VOL_NFS:
		r = nfs_prepare(p);
		if (r >= 0)
			r = heal_prepare(p);
		return r < 0 ? r : nfs_probe_start(p);
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
		return p->heal ? act_heal(p) : act_nfs(p);
	}
	return -EINVAL;
}

/* The fallback of an earlier run goes, now that the volume is ready; not while anything
 * has it open (umount without MNT_DETACH), so that nothing written there is cut off. */
static int fallback_remove(struct plan *p)
{
	_cleanup_(mnt_free_updatep) struct libmnt_update *upd = NULL;
	int r;

	/* Our own fd of its root would hold it busy. */
	p->target_fd = safe_close(p->target_fd);
	if (umount2(p->target, UMOUNT_NOFOLLOW) < 0) {
		r = -errno;
		if (r == -EBUSY)
			log_error(
			    "%s is ready, but the empty folder mounted on %s in its place is in "
			    "use (open files, or a working directory there); it is left as it "
			    "is. Stop what uses it, then mount again",
			    arg_spec, p->target);
		else
			log_error_errno(r, "cannot unmount the empty folder on %s", p->target);
		return r;
	}
	p->on_fallback = false;
	if (p->on_fallback_kind == DVOL_FALLBACK_DISK)
		log_notice("%s is ready: the fallback folder bound on %s in its place is "
			   "unmounted. What was written there meanwhile is kept in %s on the root "
			   "disk: copy what is needed from there, then remove it",
			   arg_spec, p->target, p->fallback_dir);
	else
		log_notice("%s is ready: the empty folder mounted on %s in its place is gone",
			   arg_spec, p->target);
	/* Its utab line goes with it, as umount(8) would remove it. */
	upd = mnt_new_update();
	if (!arg_nomtab && upd && mnt_update_set_fs(upd, 0, p->target, NULL) == 0)
		(void)mnt_update_table(upd, NULL);
	r = dvol_open_dir(p->target, &p->target_fd);
	if (r < 0)
		return log_error_errno(r, "cannot open mount point %s again", p->target);
	return 0;
}

/* Does the folder at FD hold anything? */
static bool dir_has_entries(int fd)
{
	_cleanup_close_ int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	bool any = false;
	DIR *d;

	if (dfd < 0 || !(d = fdopendir(dfd)))
		return false;
	dfd = -EBADF;
	while (!any && (de = readdir(d)))
		any = strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return any;
}

/*
 * fallback=disk: make (or find) FALLBACK_DIR's folder for the target, each component from
 * its parent's fd and never through a link, so that nothing planted there can point the
 * mkdir or the bind elsewhere; FALLBACK_DIR itself root's and 0700, as what it holds may be
 * anyone's data. Bind it on the target, and say where what is written there goes.
 */
static int fallback_disk(struct plan *p)
{
	_cleanup_close_ int top = -EBADF, leaf = -EBADF;
	_cleanup_free_ char *failed_at = NULL;
	const char *at = FALLBACK_DIR;
	struct stat st;
	bool left;
	int r;

	r = dvol_rootdir_private(FALLBACK_DIR, 0755, &top, &failed_at);
	if (failed_at)
		at = failed_at;
	if (r == -EPERM) {
		log_error("%s is not ready, and %s belongs to uid %u, not to this user: the "
			  "fallback folder is not made in it, and nothing is mounted on %s. Find "
			  "out who made it, then remove it",
			  arg_spec, at, lstat(at, &st) == 0 ? (unsigned)st.st_uid : (unsigned)-1,
			  p->target);
		return r;
	}
	if (r >= 0)
		at = p->fallback_dir,
		r = dvol_rootdir_mkdirat(top, strrchr(p->fallback_dir, '/') + 1,
					 p->opts.mode_set ? p->opts.mode : 0755,
					 p->opts.uid_set ? p->opts.uid : (uid_t)-1,
					 p->opts.gid_set ? p->opts.gid : (gid_t)-1, &leaf);
	if (r == -ELOOP) {
		log_error("%s is not ready, and %s (or a folder above it) is a symbolic link: the "
			  "fallback folder is neither made nor bound through a link, which could "
			  "point anywhere; nothing is mounted on %s. Remove the link",
			  arg_spec, at, p->target);
		return r;
	}
	if (r < 0)
		return log_error_errno(r,
				       "%s is not ready, and the fallback folder %s cannot be "
				       "made; nothing is mounted on %s",
				       arg_spec, at, p->target);
	left = r == 0 && dir_has_entries(leaf);
	r = dvol_bind_fd(leaf, p->target_fd, p->opts.mflags);
	if (r < 0)
		return log_error_errno(r, "cannot bind the fallback folder %s on %s either",
				       p->fallback_dir, p->target);
	log_warning("WARNING: %s is not ready (%s): %s folder is bound on %s in its place "
		    "(optional). It is not the volume: what is written there goes to %s on the "
		    "root disk, with no size cap, and stays there after the volume takes its "
		    "place. Mount again once the volume is ready to put it there",
		    arg_spec, p->degraded,
		    left ? "a fallback folder that is NOT EMPTY (it holds what an earlier "
			   "fallback left)"
			 : "an EMPTY",
		    p->target, p->fallback_dir);
	return 0;
}

/* The default fallback: an empty tmpfs of at most fallback-size=, and the warning. */
static int fallback_tmpfs(struct plan *p)
{
	_cleanup_close_ int mfd = -EBADF;
	_cleanup_free_ char *fsopts = NULL;
	int q;

	if (asprintf(&fsopts, "size=%" PRIu64 ",mode=%04o", p->opts.fallback_size,
		     p->opts.mode_set ? (unsigned)p->opts.mode : 0755u) < 0)
		return -ENOMEM;
	q = dvol_mount_dev("tmpfs", FALLBACK_SOURCE, fsopts, false, &mfd);
	if (q >= 0 && (p->opts.uid_set || p->opts.gid_set))
		q = dvol_mount_chmod_root(mfd, (mode_t)-1,
					  p->opts.uid_set ? p->opts.uid : (uid_t)-1,
					  p->opts.gid_set ? p->opts.gid : (gid_t)-1);
	if (q >= 0)
		q = dvol_mount_attach(mfd, p->target_fd, p->opts.mflags);
	if (q < 0)
		return log_error_errno(q, "cannot mount the empty folder (optional) on %s either",
				       p->target);
	log_warning("WARNING: %s is not ready (%s): an EMPTY folder is mounted on %s in its "
		    "place (optional). It is not the volume: what is written there lives in "
		    "memory, at most %" PRIu64 " bytes, and is lost at unmount. Mount again once "
		    "the volume is ready to put it there",
		    arg_spec, p->degraded, p->target, p->opts.fallback_size);
	return 0;
}

/*
 * optional: the volume could not be made ready (R; the stage said why). An empty tmpfs of
 * at most fallback-size= goes on the target instead, so that what runs there finds an
 * empty folder that is not the root disk's, and everyone is told: a warning (stderr, the
 * journal) and dvol.degraded= in utab. Exit 0. A later run, once the volume is ready, puts
 * it in the fallback's place (fallback_remove()).
 */
static int fallback(struct libmnt_context *cxt, struct plan *p, int r)
{
	_cleanup_(dvol_mount_info_done) struct dvol_mount_info mi = {0};
	int q;

	if (!p->opts.optional || p->fail != DVOL_FAIL_MOUNT || arg_format_only || r == -EBUSY ||
	    r == -ENOMEM || r == -EINTR)
		return r;
	p->degraded = dvol_degraded_reason(p->kind, r);
	if (p->target_fd < 0) {
		q = open_target(p, &mi);
		if (q < 0)
			return r;
		p->on_fallback = q > 0 && is_fallback(p, &mi, &p->on_fallback_kind);
		if (q > 0 && !p->on_fallback) {
			log_error("%s is not ready, and something else is mounted on %s: no empty "
				  "folder (optional) goes there either",
				  arg_spec, p->target);
			return r;
		}
	}
	if (p->opts.fallback == DVOL_FALLBACK_DISK && fallback_dir(p) < 0) {
		log_error("%s is not ready, and no fallback folder can be named for %s (a path "
			  "too long to name a folder after): nothing is mounted there",
			  arg_spec, p->target);
		return r;
	}
	if (arg_fake && p->opts.fallback == DVOL_FALLBACK_DISK)
		printf("fallback: %s (optional): the folder %s of the root disk, bound on %s, "
		       "dvol.degraded=%s\n",
		       p->on_fallback ? "already mounted" : "would be mounted", p->fallback_dir,
		       p->target, p->degraded);
	else if (arg_fake)
		printf("fallback: %s (optional): an empty tmpfs of at most %" PRIu64
		       " bytes on %s, dvol.degraded=%s\n",
		       p->on_fallback ? "already mounted" : "would be mounted",
		       p->opts.fallback_size, p->target, p->degraded);
	if (arg_fake)
		return 0;
	if (p->on_fallback && p->on_fallback_kind == DVOL_FALLBACK_DISK) {
		log_warning("%s is still not ready: the empty folder stays on %s in its place "
			    "(optional; dvol.degraded=%s): what is written there goes to %s on "
			    "the root disk",
			    arg_spec, p->target, p->degraded, p->fallback_dir);
		return 0;
	}
	if (p->on_fallback) {
		log_warning("%s is still not ready: the empty folder stays on %s in its place "
			    "(optional; dvol.degraded=%s)",
			    arg_spec, p->target, p->degraded);
		return 0;
	}
	q = p->opts.fallback == DVOL_FALLBACK_DISK ? fallback_disk(p) : fallback_tmpfs(p);
	if (q < 0)
		return r;
	p->fail = DVOL_FAIL_RECORD;
	q = record(cxt, p);
	if (q < 0)
		return log_error_errno(q,
				       "the empty folder is mounted on %s, but recording it in "
				       "utab failed",
				       p->target);
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

	/* The mount itself, on the fds already held (and utab afterwards); a local volume
	 * is formatted by now, so exec and the device ioctls go. */
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

int main(int argc, char *argv[])
{
	_cleanup_(mnt_free_contextp) struct libmnt_context *cxt = NULL;
	_cleanup_(plan_done) struct plan p = {.target_fd = -EBADF,
					      .src_fd = -EBADF,
					      .heal_lock = -EBADF,
					      .heal_dir = -EBADF,
					      .local.fd = -EBADF,
					      .nfs.probe_fd = -EBADF};
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
