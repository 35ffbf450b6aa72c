/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <libmount/libmount.h>

#include "cleanup.h"
#include "libmount-util.h"
#include "stale.h"

/* What is mounted. The utab fuzz target gives a table of its own: the kernel makes this
 * file anew on every read, which cost most of that target's time. */
#ifndef DVOL_STALE_MOUNTINFO
#define DVOL_STALE_MOUNTINFO "/proc/self/mountinfo"
#endif

const char *dvol_utab_path(void)
{
	const char *e = getenv("LIBMOUNT_UTAB");

	return e && *e ? e : "/run/mount/utab";
}

/* Remove TARGET's entry from utab, under libmount's utab lock. */
static int utab_remove(const char *target)
{
	_cleanup_(mnt_free_updatep) struct libmnt_update *upd = mnt_new_update();
	int r;

	if (!upd)
		return -ENOMEM;
	r = mnt_update_set_fs(upd, 0, target, NULL);
	if (r == 1)
		return -EROFS; /* libmount sees no writable utab */
	if (r < 0)
		return r;
	return mnt_update_table(upd, NULL);
}

/* Does TARGET's mount answer ESTALE? statfs goes to the server; a stat may be cached. */
static bool is_estale(const char *target)
{
	struct statfs sfs;
	struct statx sx;

	if (statfs(target, &sfs) < 0 && errno == ESTALE)
		return true;
	return statx(AT_FDCWD, target, AT_NO_AUTOMOUNT | AT_STATX_FORCE_SYNC, STATX_TYPE, &sx) <
		   0 &&
	       errno == ESTALE;
}

/*
 * utab's own lines: blank-separated KEY=VALUE fields, values mangled like fstab's.
 * libmount 2.38 has no public reader for utab alone (mnt_table_parse_mtab() merges only
 * the entries that are still mounted, the very ones this is not about): split the line,
 * and leave unmangling to mnt_unmangle() and the attributes to libmount's optstr parser.
 */
struct utab_entry {
	char *source, *target, *attrs;
};

static void utab_entry_done(struct utab_entry *e)
{
	free(e->source);
	free(e->target);
	free(e->attrs);
	*e = (struct utab_entry){0};
}

static int utab_entry_parse(char *line, struct utab_entry *e)
{
	char *save = NULL;

	for (char *tok = strtok_r(line, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		char **dst = strncmp(tok, "SRC=", 4) == 0      ? &e->source
			     : strncmp(tok, "TARGET=", 7) == 0 ? &e->target
			     : strncmp(tok, "ATTRS=", 6) == 0  ? &e->attrs
							       : NULL;

		if (!dst)
			continue;
		free(*dst);
		*dst = mnt_unmangle(strchr(tok, '=') + 1);
		if (!*dst)
			return -ENOMEM;
	}
	return 0;
}

int dvol_stale_run(const struct dvol_stale_opts *o)
{
	_cleanup_(mnt_unref_tablep) struct libmnt_table *mi = NULL;
	_cleanup_(fclosep) FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t linesz = 0;
	int r, n = 0;

	f = fopen(dvol_utab_path(), "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	mi = mnt_new_table();
	if (!mi)
		return -ENOMEM;
	r = mnt_table_parse_file(mi, DVOL_STALE_MOUNTINFO);
	if (r < 0)
		return r;

	while (getline(&line, &linesz, f) > 0) {
		_cleanup_(utab_entry_done) struct utab_entry e = {0};
		_cleanup_free_ char *kind = NULL;
		char *val;
		size_t valsz;

		r = utab_entry_parse(line, &e);
		if (r < 0)
			return r;
		if (!e.target || !e.attrs ||
		    mnt_optstr_get_option(e.attrs, "dvol.kind", &val, &valsz) != 0)
			continue; /* not dvol's */
		kind = strndup(val ? val : "", val ? valsz : 0);
		if (!kind)
			return -ENOMEM;

		if (!mnt_table_find_target(mi, e.target, MNT_ITER_BACKWARD)) {
			r = o->dry_run ? 0 : utab_remove(e.target);
			if (o->event)
				o->event(o->userdata, DVOL_STALE_RECORD, e.source, e.target, kind,
					 r);
			n++;
			continue;
		}
		if (strcmp(kind, "nfs") != 0 || !is_estale(e.target))
			continue;
		if (o->event)
			o->event(o->userdata, DVOL_STALE_NFS, e.source, e.target, kind, 0);
		n++;
		if (!o->unmount || o->dry_run)
			continue;
		r = umount2(e.target, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 ? -errno : 0;
		if (r == 0)
			r = utab_remove(e.target);
		if (o->event)
			o->event(o->userdata, DVOL_STALE_UNMOUNTED, e.source, e.target, kind, r);
	}
	return n;
}

void dvol_utab_volume_done(struct dvol_utab_volume *v)
{
	free(v->source);
	free(v->target);
	free(v->kind);
	free(v->degraded);
	free(v->fallback);
	*v = (struct dvol_utab_volume){0};
}

void dvol_utab_volumes_free(struct dvol_utab_volume *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		dvol_utab_volume_done(&v[i]);
	free(v);
}

/* The value of attribute NAME in ATTRS into *ret (NULL when absent). 0 or -ENOMEM. */
static int attr_get(const char *attrs, const char *name, char **ret)
{
	char *val = NULL;
	size_t valsz = 0;

	*ret = NULL;
	if (mnt_optstr_get_option(attrs, name, &val, &valsz) != 0)
		return 0;
	*ret = strndup(val ? val : "", val ? valsz : 0);
	return *ret ? 0 : -ENOMEM;
}

int dvol_utab_attrs(const char *attrs, struct dvol_utab_volume *v)
{
	int r;

	if (!attrs)
		return -ENOENT;
	r = attr_get(attrs, "dvol.kind", &v->kind);
	if (r < 0)
		return r;
	if (!v->kind)
		return -ENOENT;
	r = attr_get(attrs, "dvol.degraded", &v->degraded);
	if (r >= 0)
		r = attr_get(attrs, "dvol.fallback", &v->fallback);
	if (r >= 0 && v->degraded && !v->fallback && !(v->fallback = strdup("tmpfs")))
		r = -ENOMEM;
	if (r >= 0 && !v->degraded) {
		free(v->fallback);
		v->fallback = NULL;
	}
	return r;
}

int dvol_utab_volumes(struct dvol_utab_volume **ret, size_t *ret_n)
{
	_cleanup_(mnt_unref_tablep) struct libmnt_table *mi = NULL;
	_cleanup_(fclosep) FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	struct dvol_utab_volume *v = NULL;
	size_t linesz = 0, n = 0;
	int r = 0;

	*ret = NULL;
	*ret_n = 0;
	f = fopen(dvol_utab_path(), "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	mi = mnt_new_table();
	if (!mi)
		return -ENOMEM;
	r = mnt_table_parse_file(mi, DVOL_STALE_MOUNTINFO);
	if (r < 0)
		return r;

	while (getline(&line, &linesz, f) > 0) {
		_cleanup_(utab_entry_done) struct utab_entry e = {0};
		struct dvol_utab_volume *nv;

		r = utab_entry_parse(line, &e);
		if (r < 0)
			break;
		if (!e.target || !mnt_table_find_target(mi, e.target, MNT_ITER_BACKWARD))
			continue;
		nv = reallocarray(v, n + 1, sizeof(*v));
		if (!nv) {
			r = -ENOMEM;
			break;
		}
		v = nv;
		v[n] = (struct dvol_utab_volume){0};
		r = dvol_utab_attrs(e.attrs, &v[n]);
		if (r == -ENOENT) {
			dvol_utab_volume_done(&v[n]);
			r = 0;
			continue; /* not dvol's */
		}
		v[n].source = TAKE_PTR(e.source);
		v[n].target = TAKE_PTR(e.target);
		n++;
		if (r < 0)
			break;
	}
	if (r < 0) {
		dvol_utab_volumes_free(v, n);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}
