/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mount.dvol: the helper behind `mount -t dvol SOURCE DIR -o OPTIONS`.
 *
 *   parse -> resolve -> plan -> sandbox -> act -> record -> report
 *
 * The plan is data: -f prints it and stops, so the dry run is the same plan that would
 * be carried out.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmount/libmount.h>

#include "cleanup.h"
#include "exitcode.h"
#include "log.h"
#include "mountop.h"
#include "options.h"
#include "sandbox.h"
#include "spec.h"
#include "version.h"

static const char *arg_spec;
static const char *arg_target;
static const char *arg_ns;
static bool arg_fake;
static bool arg_nomtab;
static bool arg_sloppy;

enum plan_kind {
	PLAN_BIND,
	PLAN_LOCAL,
	PLAN_NFS,
};

struct plan {
	enum plan_kind kind;
	struct dvol_spec spec;
	struct dvol_opts opts;
	char *target;	    /* normalized mount point */
	int target_fd;	    /* O_PATH */
	int src_fd;	    /* BIND: O_PATH of the folder, once it exists */
	bool create_source; /* BIND: make the folder first */
	bool already;	    /* the same source is mounted there: nothing to do */
};

static void plan_done(struct plan *p)
{
	dvol_spec_done(&p->spec);
	dvol_opts_done(&p->opts);
	free(p->target);
	safe_close(p->target_fd);
	safe_close(p->src_fd);
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
	       "  -o OPTIONS   mount options, see below\n"
	       "  -h, --help   this text\n"
	       "  -V, --version\n"
	       "\n"
	       "dvol options:\n"
	       "  create, mode=OCTAL, uid=ID, gid=ID  make a missing source folder so\n"
	       "  ro, nosuid, nodev, noexec, noatime  VFS flags, set before the mount appears\n"
	       "\n"
	       "See mount.dvol(8).\n");
}

static int parse_argv(struct libmnt_context *cxt, int argc, char *argv[])
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},	       {"version", no_argument, NULL, 'V'},
	    {"options", required_argument, NULL, 'o'}, {"fake", no_argument, NULL, 'f'},
	    {"no-mtab", no_argument, NULL, 'n'},       {"sloppy", no_argument, NULL, 's'},
	    {"verbose", no_argument, NULL, 'v'},       {"namespace", required_argument, NULL, 'N'},
	    {"types", required_argument, NULL, 't'},   {},
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

/* parse: SOURCE and options become data; nothing is touched. */
static int parse_volume(struct libmnt_context *cxt, struct plan *p)
{
	_cleanup_free_ char *bad = NULL;
	const char *why = NULL;
	int r;

	r = dvol_spec_parse(arg_spec, &p->spec, &why);
	if (r == -ENOMEM)
		return log_error_errno(r, "source '%s'", arg_spec);
	if (r < 0) {
		log_error("source '%s': %s", arg_spec, why);
		return r;
	}
	if (arg_target[0] != '/') {
		log_error("mount point '%s': not an absolute path", arg_target);
		return -EINVAL;
	}
	{
		struct dvol_spec t = {0};

		r = dvol_spec_parse(arg_target, &t, &why);
		if (r < 0) {
			log_error("mount point '%s': %s", arg_target, why);
			return r;
		}
		p->target = TAKE_PTR(t.path);
		dvol_spec_done(&t);
	}

	r = dvol_opts_parse(mnt_context_get_options(cxt), &p->opts, &bad, &why);
	if (r == -ENOMEM)
		return log_error_errno(r, "parsing options failed");
	if (r < 0) {
		log_error("option '%s' %s", bad ? bad : "?", why ? why : "is invalid");
		return r;
	}

	switch (p->spec.kind) {
	case DVOL_SPEC_NFS:
		p->kind = PLAN_NFS;
		break;
	case DVOL_SPEC_PATH:
		p->kind = dvol_spec_is_block(&p->spec) ? PLAN_LOCAL : PLAN_BIND;
		break;
	default:
		p->kind = PLAN_LOCAL;
		break;
	}
	return 0;
}

static int check_bind_options(const struct plan *p)
{
	_cleanup_free_ char *first = dvol_optstr_first(p->opts.fs);

	if (first && !arg_sloppy) {
		log_error("option '%s' is not known for a folder bind (%s); "
			  "pass -s (mount -s) to ignore options dvol does not know",
			  first, arg_spec);
		return -EINVAL;
	}
	if (p->opts.mkfs) {
		log_error("option 'mkfs=%s' applies to block devices, and '%s' is a folder",
			  p->opts.mkfs, arg_spec);
		return -EINVAL;
	}
	return 0;
}

/* resolve + plan for a folder bind. Nothing is created here: -f must not change a thing. */
static int plan_bind(struct plan *p)
{
	struct dvol_mount_info mi = {0};
	int r;

	r = check_bind_options(p);
	if (r < 0)
		return r;

	r = dvol_open_dir(p->spec.path, &p->src_fd);
	if (r == -ENOENT && p->opts.create) {
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
	}

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

	r = dvol_mount_at(p->target_fd, &mi);
	if (r < 0 && r != -EOPNOTSUPP)
		return log_error_errno(r, "cannot tell what is mounted on %s", p->target);
	if (r > 0) {
		bool same = p->src_fd >= 0 && dvol_same_inode(p->src_fd, p->target_fd);
		bool want_ro = p->opts.mflags & MS_RDONLY;

		if (same && mi.ro == want_ro) {
			p->already = true;
		} else if (same) {
			log_error("%s is already mounted on %s, but %s; unmount it first to change "
				  "that",
				  p->spec.path, p->target, mi.ro ? "read-only" : "read-write");
			r = -EBUSY;
		} else {
			log_error("%s is already mounted on %s (from %s%s%s%s), not %s; unmount it "
				  "first",
				  mi.fstype ? mi.fstype : "something", p->target,
				  mi.source ? mi.source : "?",
				  mi.root && strcmp(mi.root, "/") ? "[" : "",
				  mi.root && strcmp(mi.root, "/") ? mi.root : "",
				  mi.root && strcmp(mi.root, "/") ? "]" : "", p->spec.path);
			r = -EBUSY;
		}
		dvol_mount_info_done(&mi);
		if (r < 0)
			return r;
	}
	return 0;
}

static void print_plan(const struct plan *p)
{
	switch (p->kind) {
	case PLAN_BIND:
		printf("source:   %s (folder%s)\n", p->spec.path,
		       p->create_source ? ", missing: will be created" : "");
		if (p->create_source)
			printf("create:   mode %04o, owner %d:%d\n",
			       p->opts.mode_set ? (unsigned)p->opts.mode : 0755u,
			       p->opts.uid_set ? (int)p->opts.uid : 0,
			       p->opts.gid_set ? (int)p->opts.gid : 0);
		printf("target:   %s\n", p->target);
		if (p->already)
			printf("action:   none, %s is already bound there\n", p->spec.path);
		else
			printf("action:   bind (open_tree, mount_setattr, move_mount)%s%s%s\n",
			       p->opts.vfs ? ", flags " : "", p->opts.vfs ? p->opts.vfs : "",
			       p->opts.mflags & MS_RDONLY ? " (read-only before it appears)" : "");
		break;
	case PLAN_LOCAL:
	case PLAN_NFS:
		break;
	}
	printf("record:   %s\n", arg_nomtab || p->already ? "no" : "utab");
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
	static const char *const kinds[] = {
	    [PLAN_BIND] = "bind", [PLAN_LOCAL] = "local", [PLAN_NFS] = "nfs"};
	_cleanup_free_ char *attrs = NULL;
	int r;

	if (arg_nomtab || p->already)
		return 0;
	if (asprintf(&attrs, "dvol.kind=%s", kinds[p->kind]) < 0)
		return -ENOMEM;
	/* libmount must not evaluate or canonicalize SOURCE: it is dvol's, not a path. */
	r = mnt_context_disable_canonicalize(cxt, 1);
	if (r >= 0)
		r = mnt_context_set_source(cxt, arg_spec);
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

static int run(struct libmnt_context *cxt)
{
	_cleanup_(plan_done) struct plan p = {.target_fd = -EBADF, .src_fd = -EBADF};
	unsigned sets;
	int r;

	r = parse_volume(cxt, &p);
	if (r < 0)
		return dvol_exit_code(DVOL_FAIL_USAGE, r);

	if (arg_ns) {
		r = enter_namespace(arg_ns);
		if (r < 0)
			return dvol_exit_code(DVOL_FAIL_SYSTEM, r);
	}

	/* Stage 1: no exec unless a format may be planned, no inet unless NFS. */
	sets = DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_WPATH | DVOL_SB_MOUNT;
	if (p.kind == PLAN_LOCAL)
		sets |= DVOL_SB_BLKDEV | (p.opts.mkfs ? DVOL_SB_EXEC : 0);
	if (p.kind == PLAN_NFS)
		sets |= DVOL_SB_INET;
	r = dvol_sandbox_enter(sets);
	if (r < 0)
		return log_error_errno(r, "cannot enter the sandbox"), DVOL_EX_SYSERR;
	log_debug("sandbox: %s", dvol_sandbox_sets_to_string(sets));

	dvol_debug_stop("resolve");
	switch (p.kind) {
	case PLAN_BIND:
		r = plan_bind(&p);
		break;
	case PLAN_LOCAL:
		log_error("source '%s' is a block device; local volumes are not supported by this "
			  "build yet",
			  arg_spec);
		r = -EOPNOTSUPP;
		break;
	case PLAN_NFS:
		log_error("source '%s' is an NFS export; NFS volumes are not supported by this "
			  "build yet",
			  arg_spec);
		r = -EOPNOTSUPP;
		break;
	}
	if (r < 0)
		return dvol_exit_code(r == -EINVAL ? DVOL_FAIL_USAGE : DVOL_FAIL_MOUNT, r);

	if (arg_fake) {
		print_plan(&p);
		return DVOL_EX_OK;
	}
	if (p.already) {
		log_info("%s is already mounted on %s; nothing to do", arg_spec, p.target);
		return DVOL_EX_OK;
	}

	/* Stage 2: the mount itself, on the fds already held (and utab afterwards). */
	sets = DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_WPATH | DVOL_SB_MOUNT;
	r = dvol_sandbox_enter(sets);
	if (r < 0)
		return log_error_errno(r, "cannot narrow the sandbox"), DVOL_EX_SYSERR;

	dvol_debug_stop("act");
	r = act_bind(&p);
	if (r < 0)
		return dvol_exit_code(DVOL_FAIL_MOUNT, r);

	/* Stage 3: mounted; only the record is left. */
	r = dvol_sandbox_enter(DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_WPATH);
	if (r < 0)
		return log_error_errno(r, "cannot narrow the sandbox"), DVOL_EX_SYSERR;

	r = record(cxt, &p);
	if (r < 0) {
		log_error_errno(r, "%s is mounted on %s, but recording it in utab failed", arg_spec,
				p.target);
		return DVOL_EX_FILEIO;
	}
	log_info("mounted %s on %s", arg_spec, p.target);
	return DVOL_EX_OK;
}

int main(int argc, char *argv[])
{
	_cleanup_(mnt_free_contextp) struct libmnt_context *cxt = NULL;
	const char *why;
	int r;

	dvol_log_open("mount.dvol");
	if (dvol_refuse_elevation(&why) < 0) {
		log_error("refusing to run: %s; dvol helpers are never setuid, remove the bit "
			  "or capabilities (chmod u-s, setcap -r)",
			  why);
		return DVOL_EX_USAGE;
	}

	cxt = mnt_new_context();
	if (!cxt)
		return log_error("out of memory"), DVOL_EX_SYSERR;
	r = mnt_context_init_helper(cxt, MNT_ACT_MOUNT, 0);
	if (r < 0)
		return log_error_errno(r, "cannot initialize libmount"), DVOL_EX_SYSERR;

	r = parse_argv(cxt, argc, argv);
	if (r <= 0) {
		if (r < 0)
			fprintf(stderr, "Try 'mount.dvol --help' for more information.\n");
		return r < 0 ? DVOL_EX_USAGE : DVOL_EX_OK;
	}
	return run(cxt);
}
