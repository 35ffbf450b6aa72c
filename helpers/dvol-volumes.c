/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dvol-volumes: bring up the lines of /etc/dvol/volumes that concern a block device that
 * appeared (udev's %k), in two steps run by two units:
 *
 *   format KNAME   dvol-prepare@KNAME.service, sandboxed with a mount namespace of its
 *                  own: `mount.dvol --format-only` for each local line naming the device
 *   mount KNAME    dvol-mount@KNAME.service, in the host's mount namespace: mount(8) for
 *                  the local line without mkfs=, then the bind lines beneath its target
 *   umount KNAME   the same unit's stop (also on hot-remove): what `mount` mounted, in
 *                  reverse order
 *   plan KNAME     print what would be done, and change nothing
 *   status         list the volumes mount.dvol recorded in utab that are mounted, which of
 *                  them are optional's fallback, and who holds the writer's lease of those
 *                  mounted with writer=exclusive (--json for a provisioning script)
 *   heal           dvol-heal.service, from its timer: dvol's NFS mounts that answer ESTALE
 *                  and were mounted with heal are mounted again by mount.dvol, which puts
 *                  a fresh mount in the stale one's place; the others are reported
 *
 * The blank verdict and the format are mount.dvol's alone; this helper only chooses the
 * lines and the order.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libmount/libmount.h>

#include "blockdev.h"
#include "cleanup.h"
#include "libmount-util.h"
#include "escape.h"
#include "exitcode.h"
#include "fdutil.h"
#include "json.h"
#include "leaseinfo.h"
#include "log.h"
#include "mountop.h"
#include "heal.h"
#include "rootdir.h"
#include "sandbox.h"
#include "stale.h"
#include "timeutil.h"
#include "version.h"
#include "volumes.h"

#ifndef DVOL_SBINDIR
#define DVOL_SBINDIR "/usr/sbin"
#endif

#define MOUNT_HELPER  "/sbin/mount.dvol"
#define WRITER_HELPER DVOL_SBINDIR "/dvol-writer"
#define RECORD_DIR    "/run/dvol/volumes"
/* How long status waits for the volumes to say who holds their writer's lease. */
#define WRITER_STATUS_TIMEOUT_MS 5000
/* How long a mount's server may take to answer the watchdog's look. */
#define HEAL_CHECK_TIMEOUT_MS 10000

static const char *arg_config = DVOL_VOLUMES_FILE;
static const char *arg_verb;
static const char *arg_name;
static bool arg_json;

static void help(void)
{
	printf("Usage: dvol-volumes [--config FILE] format|mount|umount|plan KNAME\n"
	       "       dvol-volumes status [--json]\n"
	       "       dvol-volumes heal\n"
	       "\n"
	       "Bring up the lines of %s that concern the block device KNAME\n"
	       "(a kernel name such as nvme1n1), as dvol-prepare@KNAME.service and\n"
	       "dvol-mount@KNAME.service do when udev sees it appear.\n"
	       "\n"
	       "  format     judge and format (mount.dvol --format-only); mount nothing\n"
	       "  mount      mount the volume, then the bind lines beneath its target\n"
	       "  umount     unmount what `mount` mounted, binds first\n"
	       "  plan       print the lines and the order, change nothing\n"
	       "  status     list dvol's mounted volumes, which are degraded (optional's\n"
	       "             fallback in their place), and who holds the writer's lease of\n"
	       "             those mounted with writer=exclusive (asked of dvol-writer status,\n"
	       "             %d s at most)\n"
	       "  --json     status: a JSON array of {target, source, kind, degraded, fallback,\n"
	       "             writer}\n"
	       "  heal       mount again dvol's stale NFS mounts that have heal\n"
	       "  --config FILE  read FILE instead of %s\n"
	       "  -v         verbose\n"
	       "  -h, --help, -V, --version\n"
	       "\n"
	       "See dvol-volumes(5).\n",
	       DVOL_VOLUMES_FILE, WRITER_STATUS_TIMEOUT_MS / 1000, DVOL_VOLUMES_FILE);
}

static int parse_argv(int argc, char *argv[])
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},	      {"version", no_argument, NULL, 'V'},
	    {"config", required_argument, NULL, 'c'}, {"verbose", no_argument, NULL, 'v'},
	    {"json", no_argument, NULL, 'j'},	      {},
	};
	int c;

	while ((c = getopt_long(argc, argv, "hVc:vj", longopts, NULL)) >= 0) {
		switch (c) {
		case 'h':
			help();
			return 0;
		case 'V':
			dvol_print_version("dvol-volumes");
			return 0;
		case 'c':
			arg_config = optarg;
			break;
		case 'v':
			dvol_log_verbose();
			break;
		case 'j':
			arg_json = true;
			break;
		default:
			return -EINVAL;
		}
	}
	if (argc - optind == 1 && strcmp(argv[optind], "status") == 0) {
		arg_verb = argv[optind];
		return 1;
	}
	if (arg_json) {
		log_error("--json is for the status verb; try 'dvol-volumes --help'");
		return -EINVAL;
	}
	if (argc - optind == 1 && strcmp(argv[optind], "heal") == 0) {
		arg_verb = argv[optind];
		return 1;
	}
	if (argc - optind != 2) {
		log_error("expected a verb and a kernel name; try 'dvol-volumes --help'");
		return -EINVAL;
	}
	arg_verb = argv[optind];
	arg_name = argv[optind + 1];
	if (strcmp(arg_verb, "format") != 0 && strcmp(arg_verb, "mount") != 0 &&
	    strcmp(arg_verb, "umount") != 0 && strcmp(arg_verb, "plan") != 0) {
		log_error("unknown verb '%s'; try 'dvol-volumes --help'", arg_verb);
		return -EINVAL;
	}
	if (!*arg_name || strchr(arg_name, '/') || arg_name[0] == '.') {
		log_error("'%s' is not a kernel device name (such as nvme1n1)", arg_name);
		return -EINVAL;
	}
	return 1;
}

/* Run ARGV and wait: its exit status, or -errno. */
static int spawn(char *const argv[])
{
	pid_t pid;
	int status;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

/* The options without mkfs= and its companion: the mount step never formats. */
static int options_without_mkfs(const char *opts, char **ret, char **ret_mkfs)
{
	_cleanup_free_ char *o = opts ? strdup(opts) : strdup("");
	char *val = NULL;
	size_t valsz = 0;

	if (!o)
		return -ENOMEM;
	*ret_mkfs = NULL;
	if (mnt_optstr_get_option(o, "mkfs", &val, &valsz) == 0 && val) {
		*ret_mkfs = strndup(val, valsz);
		if (!*ret_mkfs)
			return -ENOMEM;
	}
	(void)mnt_optstr_remove_option(&o, "mkfs");
	(void)mnt_optstr_remove_option(&o, "mkfs-ignore-nonzero-data");
	*ret = TAKE_PTR(o);
	return 0;
}

/* source-mounted=TARGET appended to *OPTS, quoted when TARGET holds a comma. */
static int option_source_mounted(char **opts, const char *target)
{
	_cleanup_free_ char *q = NULL;

	if (strchr(target, '"'))
		return -EINVAL;
	if (strchr(target, ',') && asprintf(&q, "\"%s\"", target) < 0)
		return -ENOMEM;
	return mnt_optstr_append_option(opts, "source-mounted", q ? q : target);
}

struct device {
	struct dvol_blk_dev dev;
	struct dvol_blk_tags tags;
	struct dvol_vol_device facts;
	char *desc;
};

static void device_done(struct device *d)
{
	dvol_blk_dev_done(&d->dev);
	dvol_blk_tags_done(&d->tags);
	free(d->desc);
}

static int device_read(struct device *d)
{
	int r;

	r = dvol_blk_dev_from_name(arg_name, &d->dev);
	if (r == -ENOENT)
		return log_error_errno(r, "%s: no such block device (gone already?); nothing done",
				       arg_name);
	if (r < 0)
		return log_error_errno(r, "%s: cannot read the device's attributes in sysfs",
				       arg_name);
	r = dvol_blk_read_tags(d->dev.node, &d->tags);
	if (r < 0)
		log_debug("%s: no tags read (%s); lines by UUID= or LABEL= will not match",
			  d->dev.node, strerror(-r));
	d->facts = (struct dvol_vol_device){
	    .devno = d->dev.devno,
	    .serial = d->dev.serial,
	    .model = d->dev.model,
	    .instance_store = d->dev.model && dvol_nvme_model_is_instance_store(d->dev.model),
	    .uuid = d->tags.uuid,
	    .label = d->tags.label,
	    .partuuid = d->tags.partuuid,
	    .partlabel = d->tags.partlabel,
	};
	d->desc = dvol_blk_dev_describe(&d->dev, NULL);
	return d->desc ? 0 : -ENOMEM;
}

/* A path line names a device by its node or a link: resolved now, to compare numbers. */
static void resolve_paths(struct dvol_volumes *vs)
{
	for (size_t i = 0; i < vs->n; i++) {
		struct stat st;

		if (vs->v[i].local && vs->v[i].spec.kind == DVOL_SPEC_PATH &&
		    stat(vs->v[i].spec.path, &st) == 0 && S_ISBLK(st.st_mode))
			vs->v[i].devno = st.st_rdev;
	}
}

static int load(struct dvol_volumes *vs)
{
	unsigned line = 0;
	const char *why = NULL;
	int r;

	r = dvol_volumes_load(vs, arg_config, &line, &why);
	if (r == -ENOENT) {
		log_notice("%s: %s does not exist; nothing to prepare", arg_name, arg_config);
		return 0;
	}
	if (r == -EINVAL) {
		log_error("%s, line %u: %s; nothing was prepared (fix the line, then "
			  "systemctl restart dvol-prepare@%s.service)",
			  arg_config, line, why, arg_name);
		return r;
	}
	if (r < 0)
		return log_error_errno(r, "cannot read %s", arg_config);
	resolve_paths(vs);
	return 0;
}

static const char *opts_or_defaults(const char *o)
{
	return o && *o ? o : "defaults";
}

static int do_format(const struct dvol_volumes *vs, const struct device *d, const size_t *idx,
		     size_t n)
{
	int failed = 0;

	for (size_t k = 0; k < n; k++) {
		const struct dvol_volume *v = &vs->v[idx[k]];
		char *argv[] = {(char *)MOUNT_HELPER,
				(char *)"--format-only",
				v->source,
				v->target,
				(char *)"-o",
				(char *)opts_or_defaults(v->options),
				NULL};
		int r;

		if (!v->local)
			continue;
		r = spawn(argv);
		if (r < 0)
			return log_error_errno(r, "cannot run %s", MOUNT_HELPER);
		if (r != 0) {
			log_error("%s, line %u (%s on %s): %s is left alone and nothing is mounted "
				  "(mount.dvol exit %d; its message above says why)",
				  arg_config, v->line, v->source, v->target, d->desc, r);
			failed++;
		}
	}
	return failed ? -EIO : 0;
}

static int record_open(bool create, int flags, int *ret_fd)
{
	_cleanup_free_ char *p = NULL;
	int fd;

	if (create) {
		(void)mkdir("/run/dvol", 0700);
		if (mkdir(RECORD_DIR, 0700) < 0 && errno != EEXIST)
			return -errno;
	}
	if (asprintf(&p, RECORD_DIR "/%s", arg_name) < 0)
		return -ENOMEM;
	fd = open(p, flags | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

static bool is_mounted(const char *target)
{
	_cleanup_(mnt_unref_tablep) struct libmnt_table *tb = mnt_new_table();

	if (!tb || mnt_table_parse_mtab(tb, "/proc/self/mountinfo") < 0)
		return false;
	return mnt_table_find_target(tb, target, MNT_ITER_BACKWARD) != NULL;
}

/* The volume before the K-th that a bind's source lies in, as an index into IDX; -1 for
 * none. The last one wins: it is the deepest. */
static ssize_t bind_holder(const struct dvol_volumes *vs, const size_t *idx, size_t k)
{
	const struct dvol_volume *v = &vs->v[idx[k]];
	ssize_t holder = -1;

	for (size_t j = 0; j < k; j++)
		if (dvol_path_under(v->spec.path, vs->v[idx[j]].target))
			holder = (ssize_t)j;
	return holder;
}

/*
 * The filesystem type V's device D holds, as the mount step checks it: its own; or, for a
 * member of an instance-store stripe, that of the array that runs with it. *ret NULL for
 * none. The format step judged and made it; this one only reads.
 */
static int fs_of(const struct dvol_volume *v, const struct device *d, char **ret)
{
	_cleanup_(dvol_blk_tags_done) struct dvol_blk_tags t = {0};
	_cleanup_free_ char *md = NULL, *node = NULL;
	int r;

	*ret = NULL;
	if (!d->tags.type)
		return 0;
	if (strcmp(d->tags.type, "linux_raid_member") != 0 ||
	    v->spec.kind != DVOL_SPEC_NVME_INSTANCE_STORE) {
		*ret = strdup(d->tags.type);
		return *ret ? 0 : -ENOMEM;
	}
	r = dvol_blk_md_holder(&d->dev, &md);
	if (r <= 0) {
		/* Not running: the member itself is all there is to name. */
		*ret = strdup(d->tags.type);
		return *ret ? 0 : -ENOMEM;
	}
	if (asprintf(&node, "/dev/%s", md) < 0)
		return -ENOMEM;
	if (dvol_blk_read_tags(node, &t) < 0 || !t.type)
		return 0;
	*ret = TAKE_PTR(t.type);
	return 0;
}

static int spawn_mount(const struct dvol_volume *v, const char *opts)
{
	char *argv[] = {(char *)"/bin/mount",
			(char *)"-t",
			(char *)"dvol",
			v->source,
			v->target,
			(char *)"-o",
			(char *)opts_or_defaults(opts),
			NULL};

	return spawn(argv);
}

/* The K-th volume of the device, recorded in RFD once mounted: 1 mounted, 0 not (and said
 * why), <0 an error that ends the run. OK says which of those before it are mounted. */
static int mount_one(const struct dvol_volumes *vs, const struct device *d, const size_t *idx,
		     size_t k, const bool *ok, int rfd)
{
	const struct dvol_volume *v = &vs->v[idx[k]];
	_cleanup_free_ char *opts = NULL, *mkfs = NULL, *fstype = NULL;
	ssize_t holder;
	int r;

	/* A bind waits for the volume its source lies in; never the bare folder. */
	holder = bind_holder(vs, idx, k);
	if (!v->local && holder >= 0 && !ok[holder]) {
		log_error("%s, line %u: %s is not bound on %s, as its source lies under %s, "
			  "which is not mounted",
			  arg_config, v->line, v->source, v->target, vs->v[idx[holder]].target);
		return 0;
	}
	r = options_without_mkfs(v->options, &opts, &mkfs);
	if (r < 0)
		return r;
	/* mount(8) resolves links in the source: mount.dvol's gate keeps the bind on
	 * the volume, where a link planted in it would lead elsewhere. */
	if (!v->local && holder >= 0) {
		r = option_source_mounted(&opts, vs->v[idx[holder]].target);
		if (r == -EINVAL) {
			log_error("%s, line %u: %s is not bound on %s: the folder %s holds a "
				  "'\"', which mount options cannot carry",
				  arg_config, v->line, v->source, v->target,
				  vs->v[idx[holder]].target);
			return 0;
		}
		if (r < 0)
			return r;
	}
	/* Without mkfs=, mount.dvol would mount any filesystem: the mount step takes
	 * only the one the line asks for, as the format step judged it (on the array, for
	 * a member of an instance-store stripe). */
	r = v->local && mkfs ? fs_of(v, d, &fstype) : 0;
	if (r < 0)
		return r;
	if (v->local && mkfs && !(fstype && strcmp(fstype, mkfs) == 0)) {
		log_error("%s, line %u: %s holds %s, not the %s the line asks for; not "
			  "mounted on %s (see dvol-prepare@%s.service for the verdict)",
			  arg_config, v->line, d->desc, fstype ? fstype : "no filesystem", mkfs,
			  v->target, arg_name);
		return 0;
	}
	r = dvol_mkdir_p(v->target, 0755, (uid_t)-1, (gid_t)-1, NULL);
	if (r < 0) {
		log_error_errno(r, "%s, line %u: cannot make the mount point %s", arg_config,
				v->line, v->target);
		return 0;
	}
	r = spawn_mount(v, opts);
	if (r < 0)
		return log_error_errno(r, "cannot run mount(8)");
	if (r != 0) {
		log_error("%s, line %u: mounting %s on %s failed (mount exit %d; its "
			  "message above says why)%s",
			  arg_config, v->line, v->source, v->target, r,
			  v->local ? "; the bind lines beneath it wait" : "");
		return 0;
	}
	if (dprintf(rfd, "%s%c", v->target, '\0') < 0)
		return log_error_errno(-errno, "cannot write %s/%s", RECORD_DIR, arg_name);
	log_notice("%s: mounted %s on %s (%s, line %u)", d->desc, v->source, v->target, arg_config,
		   v->line);
	return 1;
}

static int do_mount(const struct dvol_volumes *vs, const struct device *d, const size_t *idx,
		    size_t n)
{
	_cleanup_free_ bool *ok = calloc(n ? n : 1, sizeof(bool));
	_cleanup_close_ int rfd = -EBADF;
	int failed = 0, r;

	if (!ok)
		return -ENOMEM;
	/* What is mounted is written down as it happens: the stop, maybe after a hot-remove
	 * when sysfs no longer says what the device was, unmounts exactly that. */
	r = record_open(true, O_WRONLY | O_CREAT | O_TRUNC, &rfd);
	if (r < 0)
		return log_error_errno(r, "cannot write %s/%s; nothing was mounted", RECORD_DIR,
				       arg_name);

	for (size_t k = 0; k < n; k++) {
		r = mount_one(vs, d, idx, k, ok, rfd);
		if (r < 0)
			return r;
		ok[k] = r > 0;
		if (r == 0)
			failed++;
	}
	return failed ? -EIO : 0;
}

static int do_umount(void)
{
	_cleanup_close_ int rfd = -EBADF;
	_cleanup_free_ char *buf = NULL;
	char *targets[256];
	size_t n = 0, sz = 0;
	ssize_t l;
	int failed = 0, r;

	r = record_open(false, O_RDONLY, &rfd);
	if (r == -ENOENT) {
		log_info("%s: nothing was mounted for it", arg_name);
		return 0;
	}
	if (r < 0)
		return log_error_errno(r, "cannot read %s/%s", RECORD_DIR, arg_name);
	buf = malloc(65536);
	if (!buf)
		return -ENOMEM;
	while ((l = read(rfd, buf + sz, 65535 - sz)) > 0)
		sz += (size_t)l;
	buf[sz] = '\0';
	for (size_t o = 0; o < sz && n < ELEMENTSOF(targets); o += strlen(buf + o) + 1)
		targets[n++] = buf + o;

	while (n-- > 0) {
		char *argv[] = {(char *)"/bin/umount", targets[n], NULL};
		char *lazy[] = {(char *)"/bin/umount", (char *)"--lazy", targets[n], NULL};

		if (!is_mounted(targets[n]))
			continue;
		r = spawn(argv);
		/* Busy (a container still has it open): detach it, so that nothing hangs on
		 * a device that may be gone already. */
		if (r > 0) {
			log_warning("%s: %s is busy; detaching it (umount --lazy)", arg_name,
				    targets[n]);
			r = spawn(lazy);
		}
		if (r != 0) {
			log_error("%s: cannot unmount %s (umount exit %d)", arg_name, targets[n],
				  r);
			failed++;
		} else {
			log_info("%s: unmounted %s", arg_name, targets[n]);
		}
	}
	{
		_cleanup_free_ char *p = NULL;

		if (asprintf(&p, RECORD_DIR "/%s", arg_name) >= 0)
			(void)unlink(p);
	}
	return failed ? -EIO : 0;
}

static void print_plan(const struct dvol_volumes *vs, const struct device *d, const size_t *idx,
		       size_t n)
{
	printf("device:   %s%s\n", d->desc, d->facts.instance_store ? ", instance store" : "");
	if (n == 0)
		printf("action:   none, no line of %s names it\n", arg_config);
	for (size_t k = 0; k < n; k++) {
		const struct dvol_volume *v = &vs->v[idx[k]];

		printf("%-9s line %u: %s on %s (%s)\n", v->local ? "volume:" : "bind:", v->line,
		       v->source, v->target, opts_or_defaults(v->options));
	}
}

/* KEY: V, or null where the volume has none (a key a script can always read). */
static int add_or_null(json_object *o, const char *key, const char *v)
{
	if (v)
		return dvol_json_add_string(o, key, v);
	return json_object_object_add(o, key, NULL) < 0 ? -ENOMEM : 0;
}

/* The holder as status shows it: the record's fields, and how old its heartbeat is. */
static int holder_json(const struct dvol_lease_info *w, uint64_t now, json_object **ret)
{
	_cleanup_json_ json_object *h = NULL;
	const struct dvol_lease_record *rec = &w->holder;
	bool aged = w->state == DVOL_LEASE_STATE_HELD && now >= rec->heartbeat;
	uint64_t age = aged ? now - rec->heartbeat : 0;
	int r;

	r = dvol_lease_record_to_json(rec, DVOL_LEASE_JSON_HOLDER, aged ? &age : NULL, &h);
	if (r >= 0)
		r = dvol_json_add_bool(h, "this_host", w->this_host);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(h);
	return 0;
}

/* A writer=exclusive volume's "writer": its MODE from utab, and the lease W as asked. */
static int writer_json(const char *mode, const struct dvol_lease_info *w, uint64_t now,
		       json_object **ret)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	json_object *h = NULL;
	int r;

	if (!o)
		return -ENOMEM;
	r = dvol_json_add_string(o, "mode", mode);
	if (r >= 0)
		r = dvol_json_add_string(o, "state", dvol_lease_state_to_string(w->state));
	if (r >= 0 && w->state == DVOL_LEASE_STATE_UNKNOWN)
		r = dvol_json_add_string(o, "reason", w->why);
	if (r >= 0 && w->state != DVOL_LEASE_STATE_UNKNOWN)
		r = dvol_json_add_string(o, "record", dvol_lease_rec_to_string(w->record));
	if (r >= 0 && w->state == DVOL_LEASE_STATE_HELD && w->record == DVOL_LEASE_REC_VALID)
		r = dvol_json_add_bool(o, "this_mount", w->this_mount);
	if (r >= 0 && w->state != DVOL_LEASE_STATE_UNKNOWN && w->record == DVOL_LEASE_REC_VALID) {
		r = holder_json(w, now, &h);
		if (r >= 0)
			r = dvol_json_add(
			    o, w->state == DVOL_LEASE_STATE_HELD ? "holder" : "last_holder", h);
	}
	if (r < 0)
		return r;
	*ret = TAKE_PTR(o);
	return 0;
}

/* The same in words, after "writer: " on the line below the volume's. */
static int writer_line(const char *mode, const struct dvol_lease_info *w, uint64_t now, char **ret)
{
	_cleanup_free_ char *m = NULL, *who = NULL;
	char ago[64] = "";
	int r;

	if (strcmp(mode, "held") == 0)
		m = strdup("mounted read-write, as the lease's holder");
	else if (strcmp(mode, "ro") == 0)
		m = strdup("mounted read-only, as another held the lease");
	else {
		/* Not a mode mount.dvol records: shown as it is. */
		_cleanup_free_ char *e = dvol_escape_name_dup(mode);

		if (e && asprintf(&m, "mode %s", e) < 0)
			m = NULL;
	}
	if (!m)
		return -ENOMEM;
	if (w->state != DVOL_LEASE_STATE_UNKNOWN && w->record == DVOL_LEASE_REC_VALID) {
		r = dvol_lease_describe(&w->holder, w->this_host, &who);
		if (r < 0)
			return r;
	}
	if (w->state == DVOL_LEASE_STATE_HELD && who && now >= w->holder.heartbeat)
		snprintf(ago, sizeof(ago), " (%llu s ago)",
			 (unsigned long long)(now - w->holder.heartbeat));

	if (w->state == DVOL_LEASE_STATE_UNKNOWN)
		r = asprintf(ret, "%s; lease unknown: %s", m, w->why);
	else if (w->state == DVOL_LEASE_STATE_HELD && who)
		r = asprintf(ret, "%s; lease held by %s%s%s", m,
			     w->this_mount ? "this mount: " : "", who, ago);
	else if (w->state == DVOL_LEASE_STATE_HELD)
		r = asprintf(ret,
			     "%s; lease held, by a holder whose record is unreadable (not "
			     "one dvol wrote)",
			     m);
	else if (who)
		r = asprintf(ret, "%s; lease free; last held by %s", m, who);
	else if (w->record == DVOL_LEASE_REC_UNREADABLE)
		r = asprintf(ret, "%s; lease free; the record left is unreadable", m);
	else
		r = asprintf(ret, "%s; lease free; no writer's lease was taken there yet", m);
	return r < 0 ? -ENOMEM : 0;
}

/* What status learned of each volume's writer's lease. */
struct leases {
	struct dvol_lease_ask *ask;
	struct dvol_lease_info *info;
	size_t n;
};

static void leases_done(struct leases *l)
{
	for (size_t i = 0; l->ask && i < l->n; i++)
		dvol_lease_ask_done(&l->ask[i]);
	free(l->ask);
	free(l->info);
}

/*
 * The writer's lease of each writer=exclusive volume, from dvol-writer status (only it can
 * ask the lock: through the volume's own mount), all at once and under one deadline: a
 * server that does not answer leaves its volume's lease unknown, and the others as they
 * are. Each run starts under this stage's filter, which must allow what its own first
 * stage needs (open_tree, for its private copy of the mount); the sandbox narrows to
 * stdio and wait while they run, and to stdio alone before their answers are read.
 */
static int ask_leases(const struct dvol_utab_volume *v, size_t n, struct leases *l)
{
	bool any = false;
	int r;

	l->ask = calloc(n ? n : 1, sizeof(*l->ask));
	l->info = calloc(n ? n : 1, sizeof(*l->info));
	if (!l->ask || !l->info)
		return log_error_errno(-ENOMEM, "out of memory");
	l->n = n;
	for (size_t i = 0; i < n; i++) {
		l->ask[i] = (struct dvol_lease_ask){.out_fd = -EBADF, .err_fd = -EBADF};
		if (!v[i].writer)
			continue;
		r = dvol_lease_ask_start(WRITER_HELPER, v[i].target, &l->ask[i]);
		if (r < 0)
			return log_error_errno(r, "cannot start %s for %s", WRITER_HELPER,
					       v[i].target);
		any = true;
	}
	if (any) {
		r = dvol_sandbox_enter(DVOL_SB_STDIO | DVOL_SB_EXEC);
		if (r < 0)
			return log_error_errno(r, "cannot narrow the sandbox");
		r = dvol_lease_ask_wait(l->ask, n, dvol_now_ms() + WRITER_STATUS_TIMEOUT_MS);
		if (r < 0)
			return log_error_errno(r, "cannot wait for dvol-writer status");
	}
	r = dvol_sandbox_enter(DVOL_SB_STDIO);
	if (r < 0)
		return log_error_errno(r, "cannot narrow the sandbox");
	for (size_t i = 0; i < n; i++) {
		if (!v[i].writer)
			continue;
		r = dvol_lease_info_judge(&l->ask[i].answer, v[i].target, WRITER_STATUS_TIMEOUT_MS,
					  &l->info[i]);
		if (r < 0)
			return log_error_errno(r, "out of memory");
	}
	return 0;
}

static int status_human(const struct dvol_utab_volume *v, size_t n, const struct leases *l,
			uint64_t now)
{
	printf("%-32s %-32s %-6s %-12s %s\n", "TARGET", "SOURCE", "KIND", "DEGRADED", "FALLBACK");
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *t = dvol_escape_name_dup(v[i].target);
		_cleanup_free_ char *s = dvol_escape_name_dup(v[i].source ? v[i].source : "-");
		_cleanup_free_ char *w = NULL;

		printf("%-32s %-32s %-6s %-12s %s\n", t ? t : "?", s ? s : "?", v[i].kind,
		       v[i].degraded ? v[i].degraded : "-", v[i].fallback ? v[i].fallback : "-");
		if (!v[i].writer)
			continue;
		if (writer_line(v[i].writer, &l->info[i], now, &w) < 0)
			return -ENOMEM;
		printf("  writer: %s\n", w);
	}
	return 0;
}

static int status_json(const struct dvol_utab_volume *v, size_t n, const struct leases *l,
		       uint64_t now)
{
	_cleanup_json_ json_object *arr = json_object_new_array();
	int r = arr ? 0 : -ENOMEM;

	for (size_t i = 0; r >= 0 && i < n; i++) {
		json_object *o = json_object_new_object(), *w = NULL;

		r = o ? 0 : -ENOMEM;
		if (r >= 0)
			r = dvol_json_add_string(o, "target", v[i].target);
		if (r >= 0)
			r = add_or_null(o, "source", v[i].source);
		if (r >= 0)
			r = dvol_json_add_string(o, "kind", v[i].kind);
		if (r >= 0)
			r = add_or_null(o, "degraded", v[i].degraded);
		if (r >= 0)
			r = add_or_null(o, "fallback", v[i].fallback);
		if (r >= 0 && v[i].writer) {
			r = writer_json(v[i].writer, &l->info[i], now, &w);
			if (r >= 0)
				r = dvol_json_add(o, "writer", w);
		}
		if (o)
			r = r < 0 ? (json_object_put(o), r) : dvol_json_append(arr, o);
	}
	if (r >= 0)
		r = dvol_json_print(arr, stdout);
	return r;
}

/*
 * status: what mount.dvol recorded, for the volumes mounted now, and the writer's lease of
 * those mounted with writer=exclusive. Exit 0 whether or not some are degraded or their
 * lease is unknown: the data says so. JSON has every key but writer, null where a volume
 * is not degraded, so that `jq '.[] | select(.degraded)'` needs no second case; writer is
 * there for writer=exclusive volumes alone.
 */
static int do_status(void)
{
	_cleanup_(leases_done) struct leases l = {0};
	struct dvol_utab_volume *v = NULL;
	size_t n = 0;
	int r;

	r = dvol_utab_volumes(&v, &n);
	if (r < 0)
		return log_error_errno(r, "cannot read dvol's mount records in %s",
				       dvol_utab_path()),
		       DVOL_EX_SYSERR;
	r = ask_leases(v, n, &l);
	if (r >= 0)
		r = arg_json ? status_json(v, n, &l, (uint64_t)time(NULL))
			     : status_human(v, n, &l, (uint64_t)time(NULL));
	dvol_utab_volumes_free(v, n);
	if (r == -ENOMEM)
		return log_error_errno(r, "out of memory"), DVOL_EX_SYSERR;
	if (r < 0 && arg_json)
		return log_error_errno(r, "cannot write the status as JSON"), DVOL_EX_SYSERR;
	return r < 0 ? DVOL_EX_SYSERR : DVOL_EX_OK;
}

/* --- heal ------------------------------------------------------------------------------ */

/* A target's failed heals in a row, and when the next may start: DVOL_HEAL_DIR/NAME.backoff,
 * opened from the folder's fd and never through a link. */
struct heal_backoff {
	unsigned failures;
	uint64_t not_before_ms; /* dvol_now_ms()'s clock; /run goes with the boot */
};

struct heal_run {
	int dir; /* DVOL_HEAL_DIR, opened once a stale mount with heal needs it */
	unsigned failed;
};

static void heal_run_done(struct heal_run *hr)
{
	safe_close(hr->dir);
}

static int heal_dir(struct heal_run *hr)
{
	int r;

	if (hr->dir >= 0)
		return hr->dir;
	r = dvol_rootdir_private(DVOL_HEAL_DIR, 0700, &hr->dir, NULL);
	if (r == -ELOOP)
		return log_error_errno(r,
				       "%s, or a folder above it, is a symbolic link: heal keeps "
				       "no state through one. Remove it",
				       DVOL_HEAL_DIR);
	if (r < 0)
		return log_error_errno(r, "cannot open %s", DVOL_HEAL_DIR);
	return hr->dir;
}

static void heal_backoff_read(int dir, const char *name, struct heal_backoff *ret)
{
	_cleanup_close_ int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_(fclosep) FILE *f = NULL;

	*ret = (struct heal_backoff){0};
	if (fd < 0 || !(f = fdopen(fd, "r")))
		return;
	fd = -EBADF;
	if (fscanf(f, "%u %" SCNu64, &ret->failures, &ret->not_before_ms) != 2)
		*ret = (struct heal_backoff){0};
}

static int heal_backoff_write(int dir, const char *name, const struct heal_backoff *b)
{
	_cleanup_close_ int fd = -EBADF;
	char buf[64];
	int n;

	fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%u %" PRIu64 "\n", b->failures, b->not_before_ms);
	return dvol_write_all(fd, buf, (size_t)n);
}

/* A stale volume with heal, out of its pause: mounted again with its recorded OPTS. A
 * failure makes the next pause longer (B, in the state file STATE of DIR). */
static int heal_remount(const struct dvol_utab_entry *e, struct heal_run *hr, const char *opts,
			int dir, const char *state, struct heal_backoff *b, uint64_t now)
{
	const char *source = e->source ? e->source : "?";
	int r;

	log_info("%s (%s) is stale (ESTALE): mounting it again", e->target, source);
	r = spawn((char *const[]){(char *)MOUNT_HELPER, (char *)source, (char *)e->target,
				  (char *)"-o", opts && *opts ? (char *)opts : (char *)"heal",
				  NULL});
	if (r == 0) {
		(void)unlinkat(dir, state, 0);
		return 0;
	}
	hr->failed++;
	b->failures++;
	b->not_before_ms = now + dvol_heal_pause_ms(b->failures);
	log_error("the heal of %s (%s) failed (mount.dvol: %s %d, above); the next try in %" PRIu64
		  " s",
		  e->target, source, r < 0 ? "error" : "exit status", r < 0 ? -r : r,
		  dvol_heal_pause_ms(b->failures) / 1000);
	r = heal_backoff_write(dir, state, b);
	if (r < 0)
		log_warning_errno(r, "cannot write %s/%s: the next run tries again at once",
				  DVOL_HEAL_DIR, state);
	return 0;
}

/*
 * One of dvol's utab entries: an NFS mount that answers is left; a stale one is mounted
 * again if it has heal (with its recorded options), and reported if it has not. The
 * choice is dvol_heal_decide()'s (heal.h); this gathers its facts and carries it out.
 */
static int heal_one(const struct dvol_utab_entry *e, void *userdata)
{
	_cleanup_free_ char *kind = NULL, *heal = NULL, *opts = NULL, *state = NULL;
	struct heal_run *hr = userdata;
	const char *source = e->source ? e->source : "?";
	struct heal_backoff b = {0};
	struct dvol_heal_facts f;
	int dir = -EBADF, r, look_r;

	if (dvol_attr_get(e->attrs, "dvol.kind", &kind) < 0 ||
	    dvol_attr_get(e->attrs, "dvol.heal", &heal) < 0 ||
	    dvol_attr_get(e->attrs, "dvol.opts", &opts) < 0)
		return -ENOMEM;
	if (!kind || strcmp(kind, "nfs") != 0)
		return 0;
	/* A line whose mount is gone is dvol-gc's to clear. */
	if (!e->mounted)
		return 0;

	/* A target mount.dvol could not have mounted ("..", relative): not dvol's to look at. */
	r = dvol_heal_file_name(e->target, ".backoff", &state);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		log_debug("%s: not a mount point mount.dvol mounts; left alone", e->target);
		return 0;
	}
	look_r = dvol_mount_check_live(e->target, HEAL_CHECK_TIMEOUT_MS);
	f = (struct dvol_heal_facts){.look = dvol_heal_look_of(look_r), .heal = heal != NULL};
	/* heal's own state is opened only where it can matter: a stale mount with heal. */
	if (f.look == DVOL_HEAL_LOOK_STALE && f.heal) {
		dir = heal_dir(hr);
		if (dir < 0) {
			hr->failed++;
			return 0;
		}
		heal_backoff_read(dir, state, &b);
		f.failures = b.failures;
		f.not_before_ms = b.not_before_ms;
		f.now_ms = dvol_now_ms();
	}

	switch (dvol_heal_decide(&f)) {
	case DVOL_HEAL_LIVE:
		log_debug("%s (%s) answers", e->target, source);
		/* Mended on its own (the export came back), or by a heal: no more pause. */
		if (f.heal && heal_dir(hr) >= 0)
			(void)unlinkat(hr->dir, state, 0);
		return 0;
	case DVOL_HEAL_HUNG:
		log_warning("%s (%s) does not answer within %d s: its server is not answering, "
			    "which heal cannot mend",
			    e->target, source, HEAL_CHECK_TIMEOUT_MS / 1000);
		return 0;
	case DVOL_HEAL_UNKNOWN:
		log_warning_errno(look_r, "cannot look at %s (%s)", e->target, source);
		return 0;
	case DVOL_HEAL_NOT_ASKED:
		log_warning("%s (%s) is stale (ESTALE), and was not mounted with heal: it is "
			    "left as it is. Unmount it (umount -l %s) and mount it again, or "
			    "mount it with -o heal",
			    e->target, source, e->target);
		return 0;
	case DVOL_HEAL_PAUSED:
		log_notice("%s (%s) is stale; %u heal%s failed in a row, the next in %" PRIu64 " s",
			   e->target, source, b.failures, b.failures == 1 ? "" : "s",
			   (b.not_before_ms - f.now_ms + 999) / 1000);
		return 0;
	case DVOL_HEAL_RUN:
		break;
	}
	return heal_remount(e, hr, opts, dir, state, &b, f.now_ms);
}

static int do_heal(void)
{
	_cleanup_(heal_run_done) struct heal_run hr = {.dir = -EBADF};
	int r;

	r = dvol_utab_foreach(heal_one, &hr);
	if (r == -ENOMEM)
		return log_error_errno(r, "out of memory");
	if (r < 0)
		return log_error_errno(r, "cannot read %s", dvol_utab_path());
	return hr.failed ? -EIO : 0;
}

static int run(void)
{
	_cleanup_(dvol_volumes_done) struct dvol_volumes vs = {0};
	_cleanup_(device_done) struct device d = {0};
	_cleanup_free_ size_t *idx = NULL;
	size_t n;
	int r;

	if (strcmp(arg_verb, "umount") == 0)
		return do_umount() < 0 ? DVOL_EX_FAIL : DVOL_EX_OK;
	if (strcmp(arg_verb, "status") == 0)
		return do_status();
	if (strcmp(arg_verb, "heal") == 0) {
		r = do_heal();
		return r == -ENOMEM ? DVOL_EX_SYSERR : r < 0 ? DVOL_EX_FAIL : DVOL_EX_OK;
	}

	r = load(&vs);
	if (r < 0)
		return dvol_exit_code(r == -EINVAL ? DVOL_FAIL_USAGE : DVOL_FAIL_SYSTEM, r);
	r = device_read(&d);
	if (r < 0)
		return dvol_exit_code(DVOL_FAIL_MOUNT, r);
	idx = calloc(vs.n ? vs.n : 1, sizeof(*idx));
	if (!idx)
		return DVOL_EX_SYSERR;
	n = dvol_volumes_plan(&vs, &d.facts, idx);

	if (strcmp(arg_verb, "plan") == 0) {
		print_plan(&vs, &d, idx, n);
		return DVOL_EX_OK;
	}
	if (n == 0) {
		/* Installing dvol changes nothing: without a line, a device is not touched. */
		log_notice("%s: no line of %s names it; left alone", d.desc, arg_config);
		return DVOL_EX_OK;
	}
	r = strcmp(arg_verb, "format") == 0 ? do_format(&vs, &d, idx, n)
					    : do_mount(&vs, &d, idx, n);
	if (r == -ENOMEM)
		return DVOL_EX_SYSERR;
	return r < 0 ? DVOL_EX_FAIL : DVOL_EX_OK;
}

int main(int argc, char *argv[])
{
	const char *why;
	int r;

	dvol_log_open("dvol-volumes");
	/* status shows times in UTC; glibc still reads the zone file once, before the sandbox. */
	tzset();
	if (dvol_refuse_elevation(&why) < 0) {
		log_error("refusing to run: %s", why);
		return DVOL_EX_USAGE;
	}
	r = parse_argv(argc, argv);
	if (r <= 0)
		return r < 0 ? DVOL_EX_USAGE : DVOL_EX_OK;
	/* Never inet. mount.dvol inherits the filter and narrows it further itself; mount(8)
	 * and umount(8) are not dvol's (they change uids, among others), so the steps that
	 * run them are left to their unit's confinement. So is heal: the mount.dvol it runs
	 * needs the network and a change of uid for its probe before its own sandbox, which
	 * no filter of ours could allow without allowing nearly all. */
	if (strcmp(arg_verb, "status") == 0) {
		/* exec and mount for dvol-writer status, whose runs inherit this filter and
		 * make a private copy of their volume's mount: only until they are started
		 * (ask_leases() narrows it). */
		r = dvol_sandbox_enter(DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_MOUNT |
				       DVOL_SB_EXEC);
		if (r < 0)
			return log_error_errno(r, "cannot enter the sandbox"), DVOL_EX_SYSERR;
	} else if (strcmp(arg_verb, "format") == 0 || strcmp(arg_verb, "plan") == 0) {
		/* md: an instance-store stripe is made by mdadm, under this filter too. */
		r = dvol_sandbox_enter(DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_WPATH |
				       DVOL_SB_MOUNT | DVOL_SB_BLKDEV | DVOL_SB_EXEC | DVOL_SB_MD);
		if (r < 0)
			return log_error_errno(r, "cannot enter the sandbox"), DVOL_EX_SYSERR;
		/* mount.dvol inherits a filter without socket(2): it cannot open a syslog
		 * socket of its own, and would die trying. It writes to our stderr, which
		 * is the journal under dvol-prepare@. */
		if (setenv("DVOL_LOG", "stderr", 1) < 0)
			return log_error_errno(-errno, "cannot set DVOL_LOG"), DVOL_EX_SYSERR;
	}
	return run();
}
