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
#include "stale.h"

DEFINE_CLEANUP_FUNC(struct libmnt_update *, mnt_free_update)

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

int dvol_stale_run(const struct dvol_stale_opts *o)
{
	_cleanup_(mnt_unref_tablep) struct libmnt_table *utab = NULL, *mi = NULL;
	_cleanup_(mnt_free_iterp) struct libmnt_iter *it = NULL;
	struct libmnt_fs *fs;
	int r, n = 0;

	utab = mnt_new_table();
	mi = mnt_new_table();
	it = mnt_new_iter(MNT_ITER_FORWARD);
	if (!utab || !mi || !it)
		return -ENOMEM;
	r = mnt_table_parse_file(utab, dvol_utab_path());
	if (r == -ENOENT || (r < 0 && access(dvol_utab_path(), F_OK) < 0))
		return 0;
	if (r < 0)
		return r;
	r = mnt_table_parse_file(mi, "/proc/self/mountinfo");
	if (r < 0)
		return r;

	while (mnt_table_next_fs(utab, it, &fs) == 0) {
		_cleanup_free_ char *kind = NULL;
		const char *target = mnt_fs_get_target(fs), *src = mnt_fs_get_source(fs);
		char *val;
		size_t valsz;

		if (!target || mnt_fs_get_attribute(fs, "dvol.kind", &val, &valsz) != 0)
			continue; /* not dvol's */
		kind = strndup(val ? val : "", val ? valsz : 0);
		if (!kind)
			return -ENOMEM;

		if (!mnt_table_find_target(mi, target, MNT_ITER_BACKWARD)) {
			r = o->dry_run ? 0 : utab_remove(target);
			if (o->event)
				o->event(o->userdata, DVOL_STALE_RECORD, src, target, kind, r);
			n++;
			continue;
		}
		if (strcmp(kind, "nfs") != 0 || !is_estale(target))
			continue;
		if (o->event)
			o->event(o->userdata, DVOL_STALE_NFS, src, target, kind, 0);
		n++;
		if (!o->unmount || o->dry_run)
			continue;
		r = umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 ? -errno : 0;
		if (r == 0)
			r = utab_remove(target);
		if (o->event)
			o->event(o->userdata, DVOL_STALE_UNMOUNTED, src, target, kind, r);
	}
	return n;
}
