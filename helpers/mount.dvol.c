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
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libmount/libmount.h>

#include "blockdev.h"
#include "cleanup.h"
#include "exitcode.h"
#include "log.h"
#include "mkfs.h"
#include "mountop.h"
#include "nfsprobe.h"
#include "options.h"
#include "sandbox.h"
#include "spec.h"
#include "version.h"
#include "timeutil.h"

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

/* NFS: the probe's answer and the kernel mounts to try, best first. */
struct plan_nfs {
	struct dvol_nfs_target probe;
	char *source;	     /* "host:/path" as the kernel and findmnt show it */
	const char *vers[4]; /* "4.2", "4.1", "4.0"/"4", "3": in the order to try */
	char *data[4];	     /* the kernel's option string for each */
	unsigned n_vers;
	unsigned attempts;		/* probe runs */
	unsigned long long deadline_ms; /* retry=: monotonic end of retries, or 0 */
};

/* A local volume: the device found, held locked, judged, and what will be done to it. */
struct local {
	struct dvol_blk_dev dev;
	char *desc; /* "serial S (/dev/nvme1n1)": for messages */
	int fd;	    /* the device node, flock'ed from the second probe until the end */
	struct dvol_blk_verdict verdict;
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
	enum plan_kind kind;
	struct dvol_spec spec;
	struct dvol_opts opts;
	char *target;	    /* normalized mount point */
	int target_fd;	    /* O_PATH */
	int src_fd;	    /* BIND: O_PATH of the folder, once it exists */
	bool create_source; /* BIND: make the folder first */
	bool already;	    /* the same source is mounted there: nothing to do */
	struct plan_nfs nfs;
	struct local local; /* LOCAL */
};

static void plan_done(struct plan *p)
{
	dvol_nfs_target_done(&p->nfs.probe);
	free(p->nfs.source);
	for (unsigned i = 0; i < ELEMENTSOF(p->nfs.data); i++)
		free(p->nfs.data[i]);
	dvol_spec_done(&p->spec);
	dvol_opts_done(&p->opts);
	free(p->target);
	safe_close(p->target_fd);
	safe_close(p->src_fd);
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
	       "  -o OPTIONS   mount options, see below\n"
	       "  -h, --help   this text\n"
	       "  -V, --version\n"
	       "\n"
	       "dvol options:\n"
	       "  create, mode=OCTAL, uid=ID, gid=ID  make a missing source folder so\n"
	       "  ro, nosuid, nodev, noexec, noatime  VFS flags, set before the mount appears\n"
	       "  probe-timeout=SEC, retry=SEC        NFS: probe deadline, retries on network "
	       "errors\n"
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
/*
 * Options for which libmount would set up a loop or verity device when the mount is
 * recorded: after the mount, in a sandbox without those ioctls, so the helper would die
 * with the volume mounted and unrecorded. mount(8) handles them itself and never passes
 * them on; only a direct call can bring them here.
 */
static int refuse_device_setup_options(const char *optstr)
{
	char *str = (char *)optstr, *name, *value;
	size_t namesz, valuesz;

	while (str && mnt_optstr_next_option(&str, &name, &namesz, &value, &valuesz) == 0) {
		static const char *const loop[] = {"loop", "offset", "sizelimit", "encryption"};

		for (size_t i = 0; i < ELEMENTSOF(loop); i++)
			if (namesz == strlen(loop[i]) && strncmp(name, loop[i], namesz) == 0) {
				log_error("option '%.*s' asks for a loop device, which mount.dvol "
					  "does not set up; nothing was mounted. Attach the image "
					  "with losetup and give the /dev/loopN as SOURCE, or let "
					  "mount(8) do it: mount -t dvol -o loop IMAGE DIR",
					  (int)namesz, name);
				return -EINVAL;
			}
		if (namesz > 7 && strncmp(name, "verity.", 7) == 0) {
			log_error(
			    "option '%.*s' asks for a dm-verity device, which mount.dvol does "
			    "not set up; nothing was mounted. Open it with veritysetup and "
			    "give the /dev/mapper/NAME as SOURCE",
			    (int)namesz, name);
			return -EINVAL;
		}
	}
	return 0;
}

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

	r = refuse_device_setup_options(mnt_context_get_options(cxt));
	if (r < 0)
		return r;
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

	r = dvol_mount_at(p->target_fd, ret_mi);
	if (r == -EOPNOTSUPP) /* a kernel without STATX_ATTR_MOUNT_ROOT: assume nothing */
		return 0;
	if (r < 0)
		return log_error_errno(r, "cannot tell what is mounted on %s", p->target);
	return r;
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

	r = open_target(p, &mi);
	if (r < 0)
		return r;
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

/* --- NFS ------------------------------------------------------------------------------ */

/* The version asked for: -o vers= (or nfsvers=) wins over the URL's ?vers=. */
static int nfs_requested_vers(const struct plan *p, char **ret)
{
	static const char *const names[] = {"vers", "nfsvers"};

	*ret = NULL;
	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		char *v = NULL;
		size_t len = 0;

		if (p->opts.fs && mnt_optstr_get_option(p->opts.fs, names[i], &v, &len) == 0) {
			*ret = strndup(v, len);
			return *ret ? 0 : -ENOMEM;
		}
	}
	if (p->spec.vers) {
		*ret = strdup(p->spec.vers);
		return *ret ? 0 : -ENOMEM;
	}
	return 0;
}

/* The user's NFS options, without the ones dvol sets from the probe. */
static int nfs_user_options(const struct plan *p, char **ret)
{
	static const char *const ours[] = {"vers", "nfsvers", "addr", "clientaddr", "port"};
	char *o = p->opts.fs ? strdup(p->opts.fs) : NULL;

	if (p->opts.fs && !o)
		return -ENOMEM;
	for (size_t i = 0; o && i < ELEMENTSOF(ours); i++)
		while (mnt_optstr_remove_option(&o, ours[i]) == 0)
			;
	*ret = o;
	return 0;
}

static int nfs_add_try(struct plan *p, const char *vers, const char *user)
{
	struct plan_nfs *n = &p->nfs;
	const struct dvol_nfs_target *t = &n->probe;
	char *d = NULL;
	int r;

	r = asprintf(
	    &d, "vers=%s,addr=%s%s%s", vers, t->addr,
	    /* v4.0 calls the client back on its own connection; 4.1+ and v3 do not. */
	    (!strcmp(vers, "4.0") || !strcmp(vers, "4")) && t->local_addr[0] ? ",clientaddr=" : "",
	    (!strcmp(vers, "4.0") || !strcmp(vers, "4")) && t->local_addr[0] ? t->local_addr : "");
	if (r < 0)
		return -ENOMEM;
	if (p->spec.port) {
		char *d2 = NULL;

		r = asprintf(&d2, "%s,port=%u", d, p->spec.port);
		free(d);
		if (r < 0)
			return -ENOMEM;
		d = d2;
	}
	if (!strcmp(vers, "3") && t->mount_port && !(user && strstr(user, "mountport="))) {
		char *d2 = NULL;

		r = asprintf(&d2, "%s,mountport=%u", d, t->mount_port);
		free(d);
		if (r < 0)
			return -ENOMEM;
		d = d2;
	}
	if (user && *user) {
		char *d2 = NULL;

		r = asprintf(&d2, "%s,%s", d, user);
		free(d);
		if (r < 0)
			return -ENOMEM;
		d = d2;
	}
	n->vers[n->n_vers] = vers;
	n->data[n->n_vers++] = d;
	return 0;
}

static void nfs_log_failure(const struct plan *p)
{
	const struct dvol_nfs_target *t = &p->nfs.probe;
	_cleanup_free_ char *server = dvol_spec_nfs_server(&p->spec);
	_cleanup_free_ char *summary = dvol_nfs_target_summary(t);
	const char *vs = dvol_nfs_vers_to_string(t->want);

	log_error("cannot mount %s: NFS server %s%s%s%s is not usable: %s (%s)%s", arg_spec,
		  server ? server : p->spec.host, t->resolved ? " (" : "",
		  t->resolved ? t->addr : "", t->resolved ? ")" : "",
		  dvol_nfs_err_to_string(t->err), t->detail ? t->detail : "no detail",
		  p->nfs.attempts > 1 ? "; probed again until retry= ran out" : "");
	log_error("tried: TCP port %u, NFS NULL v3 and v4, COMPOUND 4.0-4.2%s%s%s%s; answered: %s; "
		  "nothing was mounted",
		  p->spec.port ? p->spec.port : DVOL_NFS_PORT, t->export ? ", LOOKUP " : "",
		  t->export ? t->export : "", vs ? ", wanted vers=" : "", vs ? vs : "",
		  summary ? summary : "?");
}

/* resolve + plan for NFS: the mount point, what is already there, then the probe. */
static int plan_nfs(struct plan *p)
{
	struct plan_nfs *n = &p->nfs;
	struct dvol_nfs_target *t = &n->probe;
	struct dvol_mount_info mi = {0};
	_cleanup_free_ char *vers = NULL, *user = NULL;
	struct dvol_nfs_probe_params params = {.timeout_ms = p->opts.probe_timeout_ms};
	unsigned long long backoff = 500;
	const char *why = NULL;
	int r;

	if (p->opts.mkfs || p->opts.create) {
		log_error("option '%s' applies to local volumes, and '%s' is an NFS export",
			  p->opts.mkfs ? "mkfs" : "create", arg_spec);
		return -EINVAL;
	}
	r = nfs_requested_vers(p, &vers);
	if (r < 0)
		return log_error_errno(r, "out of memory");
	if (vers && !dvol_nfs_vers_from_string(vers)) {
		log_error("option 'vers=%s': dvol knows NFS versions 3, 4, 4.0, 4.1 and 4.2", vers);
		return -EINVAL;
	}
	if (asprintf(&n->source, p->spec.host_is_ipv6 ? "[%s]:%s" : "%s:%s", p->spec.host,
		     p->spec.path) < 0)
		return log_error_errno(-ENOMEM, "out of memory");

	r = open_target(p, &mi);
	if (r < 0)
		return r;
	if (r > 0) {
		bool same = mi.fstype && !strncmp(mi.fstype, "nfs", 3) && mi.source &&
			    !strcmp(mi.source, n->source);

		if (same && mi.ro == !!(p->opts.mflags & MS_RDONLY)) {
			p->already = true;
		} else {
			log_error("%s is already mounted on %s (%s from %s%s), not %s; unmount it "
				  "first",
				  same ? n->source : "something else", p->target,
				  mi.fstype ? mi.fstype : "?", mi.source ? mi.source : "?",
				  same ? ", with other read-only state" : "", arg_spec);
			r = -EBUSY;
		}
		dvol_mount_info_done(&mi);
		if (r < 0)
			return r;
		if (p->already)
			return 0;
	}

	/* The probe, with the same code as dvol-nfs-probe; retry= retries what may pass. A
	 * server that closes its end must not kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	r = dvol_nfs_target_parse(arg_spec, t, &why);
	if (r < 0) /* SOURCE parsed already: only memory can fail here */
		return log_error_errno(r, "cannot set up the probe of %s", arg_spec);
	/* -o vers= (or nfsvers=) wins over the URL's ?vers=. */
	t->want = dvol_nfs_vers_from_string(vers);
	/* The portmapper and MOUNT matter for v3 only. */
	params.v3_side = !t->want || t->want == DVOL_NFS_V3;
	n->deadline_ms = p->opts.retry_ms ? dvol_now_ms() + p->opts.retry_ms : 0;
	for (;;) {
		n->attempts++;
		r = dvol_nfs_probe(t, 1, &params);
		if (r < 0)
			return log_error_errno(r, "probing %s failed", arg_spec);
		if (t->err == DVOL_NFS_OK)
			break;
		if (!dvol_nfs_err_is_transient(t->err) || !n->deadline_ms ||
		    dvol_now_ms() + backoff >= n->deadline_ms) {
			nfs_log_failure(p);
			return t->err == DVOL_NFS_TIMEOUT ? -ETIMEDOUT : -EHOSTUNREACH;
		}
		log_info("%s: %s (%s); probing again in %llu ms", arg_spec,
			 dvol_nfs_err_to_string(t->err), t->detail ? t->detail : "", backoff);
		dvol_sleep_ms(backoff);
		backoff = backoff * 2 > 8000 ? 8000 : backoff * 2;
	}

	/* The versions to try, best first: the one asked for, or what the server answers. */
	r = nfs_user_options(p, &user);
	if (r < 0)
		return log_error_errno(r, "out of memory");
	if (t->want) {
		r = nfs_add_try(p, dvol_nfs_vers_to_string(t->want), user);
	} else {
		static const unsigned order[] = {DVOL_NFS_V4_2, DVOL_NFS_V4_1, DVOL_NFS_V4_0,
						 DVOL_NFS_V3};

		for (size_t i = 0; r >= 0 && i < ELEMENTSOF(order); i++)
			if (t->versions & order[i])
				r = nfs_add_try(p, dvol_nfs_vers_to_string(order[i]), user);
		/* v4 answered NULL, but no minor version could be told: let the kernel pick. */
		if (r >= 0 && n->n_vers == 0 && (t->versions & DVOL_NFS_V4))
			r = nfs_add_try(p, "4", user);
	}
	if (r < 0)
		return log_error_errno(r, "out of memory");
	return 0;
}

static const char *nfs_fstype(const char *vers)
{
	return strcmp(vers, "3") ? "nfs4" : "nfs";
}

static void print_plan_nfs(const struct plan *p)
{
	const struct plan_nfs *n = &p->nfs;
	_cleanup_free_ char *summary = NULL;

	printf("source:   %s (NFS export %s on %s)\n", arg_spec, p->spec.path, p->spec.host);
	printf("target:   %s\n", p->target);
	if (p->already) {
		printf("action:   none, %s is already mounted there\n", n->source);
		return;
	}
	summary = dvol_nfs_target_summary(&n->probe);
	printf("probe:    %s (%s) ok in %llu ms: %s\n", n->probe.host, n->probe.addr,
	       (unsigned long long)n->probe.elapsed_ms, summary ? summary : "?");
	for (unsigned i = 0; i < n->n_vers; i++)
		printf("%s mount(\"%s\", \"%s\", \"%s\", %s%s, \"%s\")\n",
		       i == 0 ? "action:  " : "  else:  ", n->source, p->target,
		       nfs_fstype(n->vers[i]), p->opts.vfs ? "MS:" : "0",
		       p->opts.vfs ? p->opts.vfs : "", n->data[i]);
	printf("sandbox:  inet only while probing; dropped before the mount\n");
}

static bool nfs_net_errno(int e)
{
	return e == ETIMEDOUT || e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH ||
	       e == ECONNRESET || e == EAGAIN;
}

/* act for NFS: the kernel mount, version by version; no network of our own any more. */
static int act_nfs(struct plan *p)
{
	struct plan_nfs *n = &p->nfs;
	char target[64], tried[512] = "";
	size_t len = 0;
	unsigned long long backoff = 500;
	int r = 0;

	snprintf(target, sizeof(target), "/proc/self/fd/%d", p->target_fd);
	for (unsigned i = 0; i < n->n_vers;) {
		log_debug("mount(\"%s\", \"%s\", \"%s\", 0x%lx, \"%s\")", n->source, p->target,
			  nfs_fstype(n->vers[i]), p->opts.mflags, n->data[i]);
		if (mount(n->source, target, nfs_fstype(n->vers[i]), p->opts.mflags, n->data[i]) ==
		    0)
			return 0;
		r = -errno;
		len += snprintf(tried + len, len < sizeof(tried) ? sizeof(tried) - len : 0,
				"%svers=%s: %s", len ? "; " : "", n->vers[i], strerror(-r));
		/* A network error on a server that answered the probe: retry= waits for it. */
		if (nfs_net_errno(-r) && n->deadline_ms &&
		    dvol_now_ms() + backoff < n->deadline_ms) {
			log_info("mounting %s with vers=%s: %s; again in %llu ms", n->source,
				 n->vers[i], strerror(-r), backoff);
			dvol_sleep_ms(backoff);
			backoff = backoff * 2 > 8000 ? 8000 : backoff * 2;
			continue;
		}
		/* The kernel refuses a version the server offered: the next one down. */
		if (r == -EPROTONOSUPPORT || r == -ENODEV) {
			i++;
			continue;
		}
		break;
	}
	if (r == -ENODEV)
		log_error("cannot mount %s on %s: this kernel has no NFS client (%s); load the "
			  "nfs and nfsv4 modules; nothing was mounted",
			  n->source, p->target, tried);
	else
		log_error("cannot mount %s on %s: the server answered the probe, but the kernel "
			  "mount failed (%s); nothing was mounted",
			  n->source, p->target, tried);
	return r;
}

/* The mount point of a local volume, and what is mounted there already. */
static int local_target(struct plan *p)
{
	struct dvol_mount_info mi = {0};
	struct stat st;
	int r;

	r = open_target(p, &mi);
	if (r < 0)
		return r;
	if (r <= 0)
		return 0;
	/* A block filesystem's st_dev is its device: the same device, not the same name. */
	if (fstat(p->target_fd, &st) == 0 && st.st_dev == p->local.dev.devno) {
		p->already = true;
		r = 0;
	} else {
		log_error("%s is already mounted on %s (from %s), not %s (%s); unmount it first",
			  mi.fstype ? mi.fstype : "something", p->target,
			  mi.source ? mi.source : "?", arg_spec, p->local.desc);
		r = -EBUSY;
	}
	dvol_mount_info_done(&mi);
	return r;
}

static int local_find(struct plan *p)
{
	struct local *l = &p->local;
	_cleanup_free_ char *cands = NULL;
	int r;

	r = dvol_blk_find(&p->spec, p->opts.device_timeout_ms, &l->dev, &cands);
	if (r == -ENOENT) {
		log_error("no block device matches '%s' after waiting %.1f s; check that it is "
			  "attached (lsblk, nvme list), or wait longer with device-timeout=",
			  arg_spec, p->opts.device_timeout_ms / 1000.0);
		return r;
	}
	if (r == -ENOTUNIQ) {
		log_error("'%s' matches more than one block device:\n%s\nname exactly one, "
			  "by nvme:serial=, nvme:model=M,index=N or UUID=",
			  arg_spec, cands ? cands : "");
		return r;
	}
	if (r == -ENOTBLK) {
		log_error("'%s' is not a block device", arg_spec);
		return r;
	}
	if (r < 0)
		return log_error_errno(r, "cannot look for the block device '%s'", arg_spec);

	r = dvol_blk_open(&l->dev, &l->fd);
	if (r < 0)
		return log_error_errno(r, "cannot open %s for '%s'", l->dev.node, arg_spec);
	l->desc = dvol_blk_dev_describe(&l->dev, NULL);
	if (!l->desc)
		return -ENOMEM;
	log_debug("'%s' is %s (%" PRIu64 " bytes, diskseq %" PRIu64 ")", arg_spec, l->desc,
		  l->dev.size, l->dev.diskseq);
	return 0;
}

/* Decide from the verdict taken under the lock; the first one must not contradict it. */
static int local_decide(struct plan *p, const struct dvol_blk_verdict *first)
{
	struct local *l = &p->local;
	const struct dvol_blk_verdict *v = &l->verdict;
	_cleanup_free_ char *mark_fs = NULL, *mark_uuid = NULL;
	const char *mkfs = p->opts.mkfs;
	int r;

	/* A mark left by a format that was killed: the half-written device is dvol's own
	 * work, on this very medium (diskseq), and may be formatted again. */
	r = dvol_blk_mark_get(DVOL_BLK_MARK_DIR, &l->dev, &mark_fs, &mark_uuid);
	if (r < 0)
		log_warning_errno(r, "cannot read the format mark of %s; ignoring it", l->desc);
	if (r > 0 && mkfs && strcmp(mark_fs, mkfs) == 0 &&
	    (v->state == DVOL_BLK_BLANK || v->state == DVOL_BLK_DATA ||
	     (v->state == DVOL_BLK_FS && strcmp(v->fstype, mkfs) == 0 &&
	      (!v->uuid || strcmp(v->uuid, mark_uuid) == 0)))) {
		log_notice("%s: a format as %s (UUID=%s) was started earlier and did not finish; "
			   "formatting it again",
			   l->desc, mark_fs, mark_uuid);
		l->format = l->redo = true;
		return 0;
	}

	if (v->state == DVOL_BLK_FS) {
		if (mkfs && strcmp(v->fstype, mkfs) != 0) {
			log_error(
			    "%s holds an %s, but mkfs=%s was asked; dvol never formats over a "
			    "filesystem: mount it as it is (drop mkfs=, or use mkfs=%s), or wipe "
			    "it yourself first (wipefs -a %s)",
			    l->desc, v->what, mkfs, v->fstype, l->dev.node);
			return -EMEDIUMTYPE;
		}
		l->fstype = v->fstype;
		return 0;
	}
	if (v->state == DVOL_BLK_BLANK && first->state != DVOL_BLK_BLANK) {
		log_error("%s: two probes disagree (first %s, then %s); refusing to format a "
			  "device that does not read the same twice",
			  l->desc, first->what, v->what);
		return -EIO;
	}
	if (v->state == DVOL_BLK_BLANK && !mkfs) {
		log_error("%s is blank (%s) and no mkfs= was given; add -o mkfs=xfs or "
			  "mkfs=ext4 to format it",
			  l->desc, v->what);
		return -ENOMEDIUM;
	}
	if (v->state == DVOL_BLK_BLANK) {
		l->format = true;
		return 0;
	}
	if (v->state == DVOL_BLK_DATA) {
		log_error("refusing to %s %s: found %s. It may hold data that libblkid does not "
			  "recognize. If it really holds nothing, zero it (blkdiscard -z %s) or "
			  "add the option mkfs-ignore-nonzero-data",
			  mkfs ? "format" : "mount", l->desc, v->what, l->dev.node);
		return -EMEDIUMTYPE;
	}
	log_error("refusing to %s %s: found %s. dvol formats only blank devices and mounts "
		  "only filesystems; to reuse this device, wipe it yourself first (wipefs -a %s)",
		  mkfs ? "format" : "mount", l->desc, v->what, l->dev.node);
	return -EMEDIUMTYPE;
}

/* resolve + plan for a local volume: find, lock, judge twice, decide. Changes nothing. */
static int plan_local(struct plan *p)
{
	struct local *l = &p->local;
	struct dvol_blk_verdict first = {0};
	bool skip_zero = p->opts.mkfs_ignore_nonzero;
	int r;

	if (p->opts.create) {
		log_error("option 'create' applies to folders, and '%s' is a block device",
			  arg_spec);
		return -EINVAL;
	}
	if (p->opts.mkfs_ignore_nonzero && !p->opts.mkfs) {
		log_error("option 'mkfs-ignore-nonzero-data' needs mkfs=");
		return -EINVAL;
	}
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
		goto out;
	}
	if (r < 0) {
		log_error_errno(r, "cannot lock %s", l->desc);
		goto out;
	}

	r = local_target(p);
	if (r < 0 || p->already)
		goto out;

	r = dvol_blk_probe(l->fd, &l->dev, skip_zero, &l->verdict);
	if (r < 0) {
		log_error_errno(r, "cannot probe %s", l->desc);
		goto out;
	}
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
		goto out;
	/* Nobody else may have it open exclusively: not mounted, not held by md, dm, swap. */
	r = dvol_blk_check_exclusive(&l->dev);
	if (r == -EBUSY) {
		log_error("%s is in use (mounted, or held by md, dm or swap): refusing to format "
			  "it",
			  l->desc);
		goto out;
	}
	if (r < 0) {
		log_error_errno(r, "cannot open %s exclusively", l->desc);
		goto out;
	}

	l->fstype = p->opts.mkfs;
	l->fresh = true;
	r = dvol_mkfs_new_uuid(l->uuid);
	if (r < 0)
		goto out;
	dvol_mkfs_label_from_path(p->target, l->label);
	r = dvol_mkfs_argv(&(struct dvol_mkfs){.fstype = p->opts.mkfs,
					       .device = l->dev.node,
					       .label = l->label,
					       .uuid = l->uuid,
					       .force = l->redo},
			   &l->mkfs_argv);
out:
	dvol_blk_verdict_done(&first);
	return r;
}

static void print_plan_local(const struct plan *p)
{
	const struct local *l = &p->local;
	_cleanup_free_ char *line = l->mkfs_argv ? dvol_strv_join(l->mkfs_argv) : NULL;

	printf("source:   %s\n", arg_spec);
	printf("device:   %s, %.1f GiB, found by %s\n", l->desc, l->dev.size / 1073741824.0,
	       dvol_spec_kind_to_string(p->spec.kind));
	if (p->already) {
		printf("target:   %s\n", p->target);
		printf("action:   none, %s is already mounted there\n", l->dev.node);
		return;
	}
	printf("verdict:  %s: %s%s\n", l->verdict.state == DVOL_BLK_BLANK ? "blank" : "not blank",
	       l->verdict.what, l->redo ? " (an interrupted format of dvol's own)" : "");
	if (l->verdict.uuid && !l->format)
		printf("identity: UUID=%s%s%s\n", l->verdict.uuid,
		       l->verdict.label ? " LABEL=" : "", l->verdict.label ? l->verdict.label : "");
	printf("mkfs:     %s\n", line ? line : "none");
	if (l->format)
		printf("identity: UUID=%s LABEL=%s (new; a real run draws its own random UUID)\n",
		       l->uuid, l->label);
	printf("target:   %s\n", p->target);
	printf("action:   mount %s %s (fsopen, fsmount, move_mount)%s%s%s%s\n", l->fstype,
	       l->dev.node, p->opts.fs ? ", options " : "", p->opts.fs ? p->opts.fs : "",
	       p->opts.vfs ? ", flags " : "", p->opts.vfs ? p->opts.vfs : "");
	if (l->fresh && (p->opts.mode_set || p->opts.uid_set || p->opts.gid_set))
		printf("root:     mode %04o, owner %d:%d (new filesystem only)\n",
		       p->opts.mode_set ? (unsigned)p->opts.mode : 0755u,
		       p->opts.uid_set ? (int)p->opts.uid : 0,
		       p->opts.gid_set ? (int)p->opts.gid : 0);
}

/* act, stage 1: the format (under the lock, which mkfs inherits), then a third probe. */
static int act_local_format(struct plan *p)
{
	struct local *l = &p->local;
	struct dvol_blk_verdict after = {0};
	_cleanup_free_ char *out = NULL, *line = NULL;
	int status, r;

	if (!l->format)
		return 0;
	r = dvol_blk_mark_set(DVOL_BLK_MARK_DIR, &l->dev, l->fstype, l->uuid);
	if (r == -EOPNOTSUPP)
		log_debug("%s has no diskseq: an interrupted format will not be recognized",
			  l->desc);
	else if (r < 0)
		return log_error_errno(r, "cannot write the format mark for %s in %s", l->desc,
				       DVOL_BLK_MARK_DIR);

	line = dvol_strv_join(l->mkfs_argv);
	log_info("formatting %s: %s", l->desc, line ? line : l->mkfs_argv[0]);
	dvol_debug_stop("mkfs");
	r = dvol_mkfs_run(l->mkfs_argv, l->fd, DVOL_MKFS_TIMEOUT_MS, &out, &status);
	if (out && *out)
		dvol_log(r < 0 ? LOG_ERR : LOG_INFO, "%s: %s", l->mkfs_argv[0], out);
	if (r == -ETIMEDOUT)
		return log_error_errno(r, "%s on %s did not finish in %u s and was killed",
				       l->mkfs_argv[0], l->desc, DVOL_MKFS_TIMEOUT_MS / 1000);
	if (r == -EPROTO)
		return log_error_errno(r, "%s on %s failed (%s %d); the device was not mounted",
				       l->mkfs_argv[0], l->desc,
				       WIFEXITED(status) ? "exit status" : "signal",
				       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	if (r < 0)
		return log_error_errno(r, "cannot run %s for %s", l->mkfs_argv[0], l->desc);

	/* Believe the device, not mkfs's exit status. */
	r = dvol_blk_probe(l->fd, &l->dev, true, &after);
	if (r >= 0 && (after.state != DVOL_BLK_FS || strcmp(after.fstype, l->fstype) != 0 ||
		       !after.uuid || strcmp(after.uuid, l->uuid) != 0))
		r = -EIO;
	dvol_blk_verdict_done(&after);
	if (r < 0)
		return log_error_errno(r,
				       "%s ran on %s, but its %s (UUID=%s) cannot be found there",
				       l->mkfs_argv[0], l->desc, l->fstype, l->uuid);
	r = dvol_blk_mark_clear(DVOL_BLK_MARK_DIR, &l->dev);
	if (r < 0)
		log_warning_errno(r, "cannot remove the format mark of %s", l->desc);
	log_notice("formatted %s as %s, UUID=%s LABEL=%s", l->desc, l->fstype, l->uuid, l->label);
	return 0;
}

/* act, stage 2: mount the device with the probed type, fd to fd. */
static int act_local_mount(struct plan *p)
{
	struct local *l = &p->local;
	_cleanup_close_ int mfd = -EBADF;
	int r;

	r = dvol_mount_dev(l->fstype, l->dev.node, p->opts.fs, &mfd);
	if (r < 0)
		return log_error_errno(r, "cannot mount the %s on %s%s%s (see dmesg)", l->fstype,
				       l->desc, p->opts.fs ? " with options " : "",
				       p->opts.fs ? p->opts.fs : "");
	if (l->fresh && (p->opts.mode_set || p->opts.uid_set || p->opts.gid_set)) {
		r = dvol_mount_chmod_root(mfd, p->opts.mode_set ? p->opts.mode : (mode_t)-1,
					  p->opts.uid_set ? p->opts.uid : (uid_t)-1,
					  p->opts.gid_set ? p->opts.gid : (gid_t)-1);
		if (r < 0)
			return log_error_errno(r, "cannot set mode and owner of the new %s on %s",
					       l->fstype, l->desc);
	}
	r = dvol_mount_attach(mfd, p->target_fd, p->opts.mflags);
	if (r < 0)
		return log_error_errno(r, "cannot attach the %s of %s on %s", l->fstype, l->desc,
				       p->target);
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
		print_plan_local(p);
		break;
	case PLAN_NFS:
		print_plan_nfs(p);
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
	/* A tag is recorded as the device it named, as mount(8) does: libmount would
	 * evaluate it again, and udev's links it relies on may not exist. */
	if (r >= 0)
		r = mnt_context_set_source(
		    cxt, p->kind == PLAN_LOCAL && p->spec.kind == DVOL_SPEC_TAG ? p->local.dev.node
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

static int run(struct libmnt_context *cxt)
{
	_cleanup_(plan_done) struct plan p = {
	    .target_fd = -EBADF, .src_fd = -EBADF, .local.fd = -EBADF};
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
		r = plan_local(&p);
		break;
	case PLAN_NFS:
		r = plan_nfs(&p);
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

	if (p.kind == PLAN_LOCAL) {
		r = act_local_format(&p);
		if (r < 0)
			return dvol_exit_code(DVOL_FAIL_MOUNT, r);
	}

	/* Stage 2: the mount itself, on the fds already held (and utab afterwards); a local
	 * volume is formatted by now, so exec and the device ioctls go. */
	sets = DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_WPATH | DVOL_SB_MOUNT;
	r = dvol_sandbox_enter(sets);
	if (r < 0)
		return log_error_errno(r, "cannot narrow the sandbox"), DVOL_EX_SYSERR;

	dvol_debug_stop("act");
	r = p.kind == PLAN_NFS	   ? act_nfs(&p)
	    : p.kind == PLAN_LOCAL ? act_local_mount(&p)
				   : act_bind(&p);
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
		log_error("refusing to run: %s", why);
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
