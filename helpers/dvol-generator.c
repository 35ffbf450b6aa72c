/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dvol-generator: a systemd generator for fstab lines of type dvol. systemd-fstab-generator
 * makes their .mount units, but knows nothing of dvol's NFS sources: it would order them
 * like local filesystems, with its default timeout. Beside each such unit this writes a
 * drop-in (NORMAL_DIR/UNIT.d/50-dvol.conf): network-online.target, dvol-nfs-wait@SOURCE,
 * and a start timeout from the line's own deadlines. SYSTEMD_FSTAB names another fstab,
 * as for systemd-fstab-generator. It also reads /etc/dvol/volumes (DVOL_VOLUMES names
 * another), to say at boot when a line there keeps every device from being prepared. For
 * each dvol-warm manifest in /etc/dvol/warm.d (DVOL_WARM_DIR names another folder), it
 * starts dvol-warm@NAME.service with multi-user.target, after the mounts its root lies on.
 *
 *   dvol-generator NORMAL_DIR [EARLY_DIR LATE_DIR]
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmount/libmount.h>

#include "cleanup.h"
#include "fdutil.h"
#include "fscache.h"
#include "options.h"
#include "libmount-util.h"
#include "log.h"
#include "sandbox.h"
#include "spec.h"
#include "unitname.h"
#include "volumes.h"
#include "warm.h"

/* dvol-warm's manifests, one unit instance each (DVOL_WARM_DIR names another folder). */
#define WARM_DIR      DVOL_SYSCONFDIR "/dvol/warm.d"
#define WARM_TEMPLATE "dvol-warm@.service"
#ifndef DVOL_UNITDIR
#define DVOL_UNITDIR "/lib/systemd/system"
#endif

/* Generators run before the journal: stderr is all there is (systemd passes it to kmsg). */
#define gen_log(...) fprintf(stderr, "dvol-generator: " __VA_ARGS__)

/* DIR/UNIT.d/NAME holding TEXT; a failure is said here. 0, or 1 for the exit code. */
static int write_dropin_named(const char *dir, const char *unit, const char *name, const char *text)
{
	_cleanup_free_ char *d = NULL, *p = NULL;
	_cleanup_close_ int fd = -EBADF;
	int r = 0;

	if (asprintf(&d, "%s/%s.d", dir, unit) < 0 || asprintf(&p, "%s/%s", d, name) < 0)
		r = -ENOMEM;
	else if ((mkdir(d, 0755) < 0 && errno != EEXIST) ||
		 (fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0)
		r = -errno;
	else
		r = dvol_write_all(fd, text, strlen(text));
	if (r < 0) {
		gen_log("cannot write the drop-in for %s in %s: %s\n", unit, dir, strerror(-r));
		return 1;
	}
	return 0;
}

/* DIR/UNIT.d/50-dvol.conf holding TEXT. */
static int write_dropin(const char *dir, const char *unit, const char *text)
{
	return write_dropin_named(dir, unit, "50-dvol.conf", text);
}

/* The volumes file; dvol-volumes refuses the whole file for one bad line: say so at boot,
 * where it shows. */
static void load_volumes(struct dvol_volumes *vs, const char **ret_path)
{
	const char *path = getenv("DVOL_VOLUMES"), *why = NULL;
	unsigned line = 0;

	if (!path || !*path)
		path = DVOL_VOLUMES_FILE;
	*ret_path = path;
	if (dvol_volumes_load(vs, path, &line, &why) == -EINVAL) {
		gen_log("%s, line %u: %s; no device will be prepared until it is fixed (see "
			"dvol-volumes(5))\n",
			path, line, why);
		dvol_volumes_done(vs);
	}
}

/* Does PATH lie on a network mount of fstab? The fstab line with the deepest TARGET that
 * holds PATH decides: NFS of the kernel or of dvol, any other network filesystem, or
 * _netdev. */
static bool on_network_mount(struct libmnt_table *tb, const char *path)
{
	_cleanup_(mnt_free_iterp) struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
	struct libmnt_fs *fs, *best = NULL;
	size_t best_len = 0;

	while (it && mnt_table_next_fs(tb, it, &fs) == 0) {
		const char *t = mnt_fs_get_target(fs);

		if (t && t[0] == '/' && dvol_path_under(path, t) && strlen(t) >= best_len) {
			best = fs;
			best_len = strlen(t);
		}
	}
	if (!best || best_len <= 1)
		return false;
	if (mnt_fs_is_netfs(best) ||
	    (mnt_fs_get_options(best) &&
	     mnt_optstr_get_option(mnt_fs_get_options(best), "_netdev", NULL, NULL) == 0))
		return true;
	if (mnt_fs_get_fstype(best) && strcmp(mnt_fs_get_fstype(best), "dvol") == 0 &&
	    mnt_fs_get_source(best)) {
		struct dvol_spec spec = {0};
		const char *why = NULL;
		bool nfs = dvol_spec_parse(mnt_fs_get_source(best), &spec, &why) == 0 &&
			   spec.kind == DVOL_SPEC_NFS;

		dvol_spec_done(&spec);
		return nfs;
	}
	return false;
}

/* The mount unit of a volumes bind line beneath no device line, and its place in
 * local-fs.target or remote-fs.target. 0, or 1 for the exit code. */
static int write_bind_unit(const char *dir, const char *config, const struct dvol_volume *v,
			   struct libmnt_table *tb)
{
	_cleanup_free_ char *name = NULL, *text = NULL, *path = NULL, *wants = NULL;
	_cleanup_free_ char *link = NULL, *dest = NULL;
	_cleanup_close_ int fd = -EBADF;
	_cleanup_(mnt_free_iterp) struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
	bool netdev = on_network_mount(tb, v->spec.path);
	struct libmnt_fs *fs;
	const char *why = NULL;
	int r;

	/* systemd-fstab-generator writes fstab's units beside ours, maybe after us. */
	while (it && mnt_table_next_fs(tb, it, &fs) == 0)
		if (mnt_fs_streq_target(fs, v->target)) {
			gen_log("%s, line %u: %s is mounted by an fstab line already; this bind "
				"line is left out\n",
				config, v->line, v->target);
			return 1;
		}

	r = dvol_gen_bind_unit(v->spec.path, v->target, v->options, config, v->line, netdev, &name,
			       &text, &why);
	if (r == -EINVAL) {
		gen_log("%s, line %u: %s; not mounted at boot\n", config, v->line, why);
		return 1;
	}
	if (r < 0 || asprintf(&path, "%s/%s", dir, name) < 0 ||
	    asprintf(&wants, "%s/%s", dir,
		     netdev ? "remote-fs.target.wants" : "local-fs.target.wants") < 0 ||
	    asprintf(&link, "%s/%s", wants, name) < 0 || asprintf(&dest, "../%s", name) < 0)
		return 1;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 && errno == EEXIST) {
		gen_log("%s, line %u: a unit for %s exists already; this bind line is left "
			"out\n",
			config, v->line, v->target);
		return 1;
	}
	if (fd < 0)
		r = -errno;
	else
		r = dvol_write_all(fd, text, strlen(text));
	if (r >= 0 && ((mkdir(wants, 0755) < 0 && errno != EEXIST) || symlink(dest, link) < 0))
		r = -errno;
	if (r < 0) {
		gen_log("cannot write %s for %s, line %u: %s\n", path, config, v->line,
			strerror(-r));
		return 1;
	}
	return 0;
}

/* The root line of the manifest FILE: 0 with *ret_root (NULL: none; caller frees), or 1
 * for the exit code, said here. */
static int warm_manifest_root(const char *file, char **ret_root)
{
	_cleanup_(dvol_warm_manifest_done) struct dvol_warm_manifest m = {0};
	_cleanup_close_ int fd = open(file, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	_cleanup_free_ char *text = malloc(1 << 20);
	const char *why = NULL;
	unsigned line = 0;
	size_t len = 0;
	int r = 0;

	if (fd < 0 || !text) {
		gen_log("cannot read %s: %s\n", file, strerror(fd < 0 ? errno : ENOMEM));
		return 1;
	}
	r = dvol_read_until(fd, text, (1 << 20) - 1, UINT64_MAX, &len);
	if (r < 0) {
		gen_log("cannot read %s: %s\n", file, strerror(-r));
		return 1;
	}
	r = dvol_warm_manifest_parse(text, len, &m, &line, &why);
	if (r == -EINVAL) {
		gen_log("%s, line %u: the line %s; not warmed at boot (see dvol-warm(8))\n", file,
			line, why);
		return 1;
	}
	if (r < 0)
		return 1;
	*ret_root = TAKE_PTR(m.root);
	return 0;
}

/* dvol-warm@NAME.service for the manifest DIR/NAME.manifest, started with multi-user.target
 * after the mounts its root lies on. 0, or 1 for the exit code. */
static int write_warm_unit(const char *normal, const char *dir, const char *entry)
{
	_cleanup_free_ char *file = NULL, *name = NULL, *esc = NULL, *unit = NULL, *root = NULL;
	_cleanup_free_ char *text = NULL, *wants = NULL, *link = NULL;
	size_t l = strlen(entry) - strlen(".manifest");

	name = strndup(entry, l);
	if (!name || asprintf(&file, "%s/%s", dir, entry) < 0)
		return 1;
	if (warm_manifest_root(file, &root))
		return 1;
	if (!root) {
		gen_log(
		    "%s: no root line; dvol-warm@ cannot tell which volume it warms: not warmed "
		    "at boot\n",
		    file);
		return 1;
	}
	if (dvol_unit_escape(name, &esc) < 0 || asprintf(&unit, "dvol-warm@%s.service", esc) < 0)
		return 1;
	free(esc);
	esc = NULL;
	if (dvol_unit_setting_escape(root, true, &esc) < 0 ||
	    asprintf(&text,
		     "# Written by dvol-generator for %s:\n"
		     "# warmed at boot, after the mounts its root lies on.\n"
		     "[Unit]\n"
		     "RequiresMountsFor=%s\n",
		     file, esc) < 0)
		return 1;
	if (write_dropin(normal, unit, text))
		return 1;
	if (asprintf(&wants, "%s/multi-user.target.wants", normal) < 0 ||
	    asprintf(&link, "%s/%s", wants, unit) < 0)
		return 1;
	if ((mkdir(wants, 0755) < 0 && errno != EEXIST) ||
	    (symlink(DVOL_UNITDIR "/" WARM_TEMPLATE, link) < 0 && errno != EEXIST)) {
		gen_log("cannot link %s into multi-user.target: %s\n", unit, strerror(errno));
		return 1;
	}
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every DIR/NAME.manifest, in name order. 0, or 1 for the exit code. */
static int write_warm_units(const char *normal)
{
	_cleanup_(closedirp) DIR *d = NULL;
	const char *dir = getenv("DVOL_WARM_DIR");
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	int rc = 0;

	if (!dir || !*dir)
		dir = WARM_DIR;
	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		gen_log("cannot read %s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		char **nn;

		if (l <= strlen(".manifest") || de->d_name[0] == '.' ||
		    strcmp(de->d_name + l - strlen(".manifest"), ".manifest") != 0)
			continue;
		nn = reallocarray(names, n + 1, sizeof(*nn));
		if (!nn || !(nn[n] = strdup(de->d_name))) {
			names = nn ? nn : names;
			rc = 1;
			break;
		}
		names = nn;
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		rc |= write_warm_unit(normal, dir, names[i]);
		free(names[i]);
	}
	free(names);
	return rc;
}

/*
 * One fstab line FS of TB: if it is dvol's, the drop-ins its units want, and the warnings
 * about its ordering. 0, or -ENOMEM, or -EIO when a drop-in could not be written.
 */
static int generate_fstab_line(const char *dir, const char *fstab, struct libmnt_table *tb,
			       struct libmnt_fs *fs)
{
	const char *type = mnt_fs_get_fstype(fs), *src = mnt_fs_get_source(fs);
	const char *target = mnt_fs_get_target(fs), *opts = mnt_fs_get_options(fs);
	_cleanup_(dvol_gen_line_done) struct dvol_gen_line g = {0};
	_cleanup_free_ char *bad = NULL;
	const char *why = NULL;
	int r = 0;

	if (!type || !src || !target ||
	    (strcmp(type, "dvol") != 0 && strncmp(type, "dvol.", 5) != 0))
		return 0;
	r = dvol_gen_line(src, target, opts, &g, &bad, &why);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		/* mount.dvol will say the same when the unit runs; nothing to add. */
		gen_log("%s: the dvol line for %s: %s%s%s%s; left to systemd-fstab-generator as "
			"it is\n",
			fstab, target, bad ? "option '" : "", bad ? bad : "", bad ? "' " : "",
			why ? why : strerror(-r));
		return 0;
	}
	if (g.bind_path && on_network_mount(tb, g.bind_path) &&
	    !(opts && mnt_optstr_get_option(opts, "_netdev", NULL, NULL) == 0))
		gen_log("%s: the dvol line for %s binds a folder of a network mount without "
			"_netdev: systemd would order it into local-fs.target, before that mount "
			"can be; add _netdev (and nofail) to its options\n",
			fstab, target);
	if (g.warn_no_netdev)
		gen_log("%s: the dvol line for %s is an NFS share without _netdev: systemd orders "
			"it into local-fs.target, before the network is up; add _netdev (and "
			"nofail) to its options\n",
			fstab, target);
	r = 0;
	if (g.wait_dropin && write_dropin(dir, g.wait_unit, g.wait_dropin))
		r = -EIO;
	if (g.dropin && write_dropin(dir, g.unit, g.dropin))
		r = -EIO;
	return r;
}

/* The target of fstab's dvol line for nvme:instance-store, or NULL. */
static const char *instance_store_target(struct libmnt_table *tb)
{
	_cleanup_(mnt_free_iterp) struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
	struct libmnt_fs *fs;

	while (it && mnt_table_next_fs(tb, it, &fs) == 0) {
		const char *type = mnt_fs_get_fstype(fs), *src = mnt_fs_get_source(fs);
		const char *t = mnt_fs_get_target(fs);
		struct dvol_spec spec = {0};
		const char *why = NULL;
		bool is;

		if (!type || strcmp(type, "dvol") != 0 || !src || !t || t[0] != '/')
			continue;
		is = dvol_spec_parse(src, &spec, &why) == 0 &&
		     spec.kind == DVOL_SPEC_NVME_INSTANCE_STORE;
		dvol_spec_done(&spec);
		if (is)
			return t;
	}
	return NULL;
}

/*
 * cache=local: the host's one FS-Cache, from fstab's NFS lines that ask for it. The first
 * such line's cache-dir= (default: fscache/ on the instance store's mount) and cache-size=
 * set up dvol-cachefilesd.service, which waits for that folder's mounts; each such line's
 * mount unit wants it and comes after it. A later line that names another cache is said
 * and follows the first. With no folder at all, the lines mount uncached (mount.dvol says
 * so) and nothing is ordered. 0, or 1 for the exit code.
 */
static int generate_cache(const char *dir, const char *fstab, struct libmnt_table *tb)
{
	_cleanup_(mnt_free_iterp) struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
	_cleanup_free_ char *cache_dir = NULL, *cache_size = NULL, *svc = NULL;
	_cleanup_free_ char *env_dir = NULL, *env_args = NULL, *req = NULL, *e1 = NULL, *e2 = NULL;
	const char *first = NULL;
	struct libmnt_fs *fs;
	int rc = 0;

	while (it && mnt_table_next_fs(tb, it, &fs) == 0) {
		const char *type = mnt_fs_get_fstype(fs), *src = mnt_fs_get_source(fs);
		const char *target = mnt_fs_get_target(fs);
		_cleanup_(dvol_opts_done) struct dvol_opts o = {0};
		_cleanup_(dvol_spec_done) struct dvol_spec spec = {0};
		_cleanup_free_ char *d = NULL, *size = NULL, *unit = NULL, *text = NULL,
				    *esc = NULL;
		const char *why = NULL;

		/* A newline would end a drop-in's comment (dvol_gen_line refuses it too). */
		if (!type || strcmp(type, "dvol") != 0 || !src || !target || strchr(target, '\n') ||
		    dvol_spec_parse(src, &spec, &why) < 0 || spec.kind != DVOL_SPEC_NFS ||
		    dvol_opts_parse(mnt_fs_get_options(fs), &o, NULL, &why) < 0 || !o.cache_local)
			continue;
		if (o.cache_dir)
			d = strdup(o.cache_dir);
		else if (instance_store_target(tb) &&
			 asprintf(&d, "%s/%s",
				  strcmp(instance_store_target(tb), "/") == 0
				      ? ""
				      : instance_store_target(tb),
				  DVOL_FSCACHE_SUBDIR) < 0)
			d = NULL;
		if (o.cache_size_set &&
		    asprintf(&size, o.cache_size_pct ? "%" PRIu64 "%%" : "%" PRIu64, o.cache_size) <
			0)
			return 1;
		if (d && strchr(d, '\n')) {
			gen_log("%s: the dvol line for %s names a cache folder with a newline: it "
				"mounts uncached\n",
				fstab, target);
			continue;
		}
		if (!d) {
			gen_log("%s: the dvol line for %s asks for cache=local, and names no "
				"cache-dir= while no nvme:instance-store line is there to hold the "
				"cache: it mounts uncached\n",
				fstab, target);
			continue;
		}
		if (!first) {
			first = target;
			cache_dir = TAKE_PTR(d);
			cache_size = TAKE_PTR(size);
		} else if (strcmp(d, cache_dir) != 0 ||
			   (size ? !cache_size || strcmp(size, cache_size) != 0 : !!cache_size))
			gen_log("%s: the dvol line for %s names another cache (%s%s%s) than the "
				"line for %s (%s%s%s); a host has one: it uses the first\n",
				fstab, target, d, size ? ", cache-size=" : "", size ? size : "",
				first, cache_dir, cache_size ? ", cache-size=" : "",
				cache_size ? cache_size : "");
		if (dvol_unit_path_escape(target, &esc) < 0 ||
		    asprintf(&unit, "%s.mount", esc) < 0 ||
		    asprintf(
			&text,
			"# Written by dvol-generator for the dvol NFS line of %s (cache=local):\n"
			"# the host's FS-Cache first; without it, the line mounts uncached.\n"
			"[Unit]\n"
			"Wants=dvol-cachefilesd.service\n"
			"After=dvol-cachefilesd.service\n",
			target) < 0)
			return 1;
		if (write_dropin_named(dir, unit, "51-dvol-cache.conf", text))
			rc = 1;
	}
	if (!cache_dir)
		return rc;
	if (asprintf(&env_dir, "DVOL_FSCACHE_DIR=%s", cache_dir) < 0 ||
	    (cache_size &&
	     asprintf(&env_args, "DVOL_FSCACHE_ARGS=--cache-size=%s", cache_size) < 0) ||
	    dvol_unit_setting_escape(cache_dir, true, &req) < 0 ||
	    dvol_unit_setting_escape(env_dir, true, &e1) < 0 ||
	    (env_args && dvol_unit_setting_escape(env_args, true, &e2) < 0) ||
	    asprintf(&svc,
		     "# Written by dvol-generator: the cache of fstab's cache=local lines (the\n"
		     "# first, %s), on the volume that holds it.\n"
		     "[Unit]\n"
		     "RequiresMountsFor=%s\n"
		     "\n"
		     "[Service]\n"
		     "Environment=%s%s%s\n",
		     first, req, e1, e2 ? " " : "", e2 ? e2 : "") < 0)
		return 1;
	return write_dropin(dir, "dvol-cachefilesd.service", svc) | rc;
}

int main(int argc, char *argv[])
{
	_cleanup_(mnt_unref_tablep) struct libmnt_table *tb = NULL;
	_cleanup_(mnt_free_iterp) struct libmnt_iter *it = NULL;
	_cleanup_(dvol_volumes_done) struct dvol_volumes vs = {0};
	const char *fstab = getenv("SYSTEMD_FSTAB"), *volumes = NULL;
	struct libmnt_fs *fs;
	int r, rc = 0;

	const char *refused = NULL;

	if (dvol_refuse_elevation(&refused) < 0) {
		gen_log("refusing to run: %s\n", refused);
		return 1;
	}
	if (argc != 2 && argc != 4) {
		gen_log("expected NORMAL_DIR [EARLY_DIR LATE_DIR]\n");
		return 1;
	}
	if (!fstab || !*fstab)
		fstab = "/etc/fstab";
	/* Read one file, write a few: nothing else, from here on. */
	r = dvol_sandbox_enter(DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_WPATH);
	if (r < 0) {
		gen_log("cannot enter the sandbox: %s\n", strerror(-r));
		return 1;
	}
	dvol_debug_stop("generate");
	tb = mnt_new_table();
	it = mnt_new_iter(MNT_ITER_FORWARD);
	if (!tb || !it)
		return 1;
	load_volumes(&vs, &volumes);
	r = mnt_table_parse_fstab(tb, fstab);
	if (r < 0 && r != -ENOENT) {
		gen_log("cannot read %s: %s\n", fstab, strerror(-r));
		return 1;
	}
	while (mnt_table_next_fs(tb, it, &fs) == 0) {
		r = generate_fstab_line(argv[1], fstab, tb, fs);
		if (r == -ENOMEM)
			return 1;
		if (r < 0)
			rc = 1;
	}
	if (generate_cache(argv[1], fstab, tb))
		rc = 1;
	for (size_t i = 0; i < vs.n; i++)
		if (!vs.v[i].local && !vs.v[i].on_device &&
		    write_bind_unit(argv[1], volumes, &vs.v[i], tb))
			rc = 1;
	if (write_warm_units(argv[1]))
		rc = 1;
	return rc;
}
