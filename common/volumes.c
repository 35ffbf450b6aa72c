/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libmount/libmount.h>

#include "blockdev.h"
#include "cleanup.h"
#include "libmount-util.h"
#include "volumes.h"

static void volume_done(struct dvol_volume *v)
{
	free(v->source);
	dvol_spec_done(&v->spec);
	free(v->target);
	free(v->options);
	*v = (struct dvol_volume){0};
}

void dvol_volumes_done(struct dvol_volumes *vs)
{
	for (size_t i = 0; i < vs->n; i++)
		volume_done(&vs->v[i]);
	free(vs->v);
	*vs = (struct dvol_volumes){0};
}

static int fail(unsigned *ret_line, unsigned line, const char **ret_why, const char *why)
{
	*ret_line = line;
	*ret_why = why;
	return -EINVAL;
}

/*
 * Which bind lines lie beneath a device line's TARGET, or beneath the TARGET of a bind line
 * that does (in any order in the file): dvol-volumes brings those up when the device
 * appears. The others lie on volumes that fstab mounts, and are mounted at boot. On the
 * spelling: a source that reaches a device's volume through a symbolic link is not beneath
 * it here (and mount.dvol's gate refuses it while that volume is not mounted).
 */
static void mark_on_device(struct dvol_volumes *vs)
{
	bool grew = true;

	for (size_t i = 0; i < vs->n; i++)
		vs->v[i].on_device = vs->v[i].local;
	while (grew) {
		grew = false;
		for (size_t i = 0; i < vs->n; i++)
			for (size_t j = 0; !vs->v[i].on_device && j < vs->n; j++)
				if (j != i && vs->v[j].on_device &&
				    dvol_path_under(vs->v[i].spec.path, vs->v[j].target))
					vs->v[i].on_device = grew = true;
	}
}

int dvol_volumes_load(struct dvol_volumes *vs, const char *path, unsigned *ret_line,
		      const char **ret_why)
{
	_cleanup_(mnt_unref_tablep) struct libmnt_table *tb = NULL;
	_cleanup_(mnt_free_iterp) struct libmnt_iter *it = NULL;
	struct libmnt_fs *fs;
	unsigned bad, line = 0;
	int r;

	r = dvol_mnt_table_load_iter(path, &tb, &it, &bad);
	if (r < 0)
		return r;
	if (bad)
		return fail(ret_line, bad, ret_why,
			    "is not an fstab line (SOURCE TARGET dvol OPTIONS)");

	while (mnt_table_next_fs(tb, it, &fs) == 0) {
		_cleanup_(volume_done) struct dvol_volume v = {0};
		struct dvol_spec t = {0};
		const char *src = mnt_fs_get_source(fs), *dst = mnt_fs_get_target(fs);
		const char *type = mnt_fs_get_fstype(fs), *opts = mnt_fs_get_options(fs);
		const char *why = NULL;
		struct dvol_volume *n;

		line = dvol_mnt_fs_line(tb, fs, line);
		if (!type || strcmp(type, "dvol") != 0)
			return fail(ret_line, line, ret_why, "is not of type dvol");
		if (!src || !dst)
			return fail(ret_line, line, ret_why, "needs SOURCE and TARGET");
		r = dvol_spec_parse(src, &v.spec, &why);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return fail(ret_line, line, ret_why, why);
		if (v.spec.kind == DVOL_SPEC_NFS)
			return fail(ret_line, line, ret_why,
				    "is an NFS share: it belongs in /etc/fstab (with _netdev), "
				    "not in the volumes a device brings up");
		r = dst[0] == '/' ? dvol_spec_parse(dst, &t, &why) : -EINVAL;
		if (r == -ENOMEM)
			return r;
		if (r < 0 || t.kind != DVOL_SPEC_PATH) {
			dvol_spec_done(&t);
			return fail(ret_line, line, ret_why, "TARGET is not an absolute folder");
		}
		v.target = TAKE_PTR(t.path);
		dvol_spec_done(&t);
		v.local = v.spec.kind != DVOL_SPEC_PATH || dvol_spec_is_block(&v.spec);
		if (!v.local && dvol_path_under(v.target, v.spec.path))
			return fail(ret_line, line, ret_why,
				    "binds a folder onto a folder beneath it");
		v.source = strdup(src);
		v.options = opts ? strdup(opts) : NULL;
		if (!v.source || (opts && !v.options))
			return -ENOMEM;
		for (size_t i = 0; i < vs->n; i++)
			if (strcmp(vs->v[i].target, v.target) == 0)
				return fail(ret_line, line, ret_why,
					    "mounts on a TARGET that an earlier line uses");
		v.line = line;
		n = reallocarray(vs->v, vs->n + 1, sizeof(*n));
		if (!n)
			return -ENOMEM;
		vs->v = n;
		vs->v[vs->n++] = v;
		v = (struct dvol_volume){0};
	}
	mark_on_device(vs);
	return 0;
}

bool dvol_path_under(const char *path, const char *target)
{
	size_t l = strlen(target);

	if (strcmp(target, "/") == 0)
		return path[0] == '/';
	return strncmp(path, target, l) == 0 && (path[l] == '/' || path[l] == '\0');
}

static bool eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

bool dvol_volume_names_device(const struct dvol_volume *v, const struct dvol_vol_device *d)
{
	if (!v->local)
		return false;
	switch (v->spec.kind) {
	case DVOL_SPEC_NVME_INSTANCE_STORE:
		return d->instance_store;
	case DVOL_SPEC_NVME_SERIAL:
		return eq(v->spec.serial, d->serial);
	case DVOL_SPEC_NVME_MODEL:
		return eq(v->spec.model, d->model);
	case DVOL_SPEC_TAG:
		if (strcmp(v->spec.tag_name, "UUID") == 0)
			return eq(v->spec.tag_value, d->uuid);
		if (strcmp(v->spec.tag_name, "LABEL") == 0)
			return eq(v->spec.tag_value, d->label);
		if (strcmp(v->spec.tag_name, "PARTUUID") == 0)
			return eq(v->spec.tag_value, d->partuuid);
		if (strcmp(v->spec.tag_name, "PARTLABEL") == 0)
			return eq(v->spec.tag_value, d->partlabel);
		return false;
	case DVOL_SPEC_PATH:
		return v->devno != 0 && v->devno == d->devno;
	default:
		return false;
	}
}

static bool planned(const size_t *idx, size_t n, size_t i)
{
	for (size_t k = 0; k < n; k++)
		if (idx[k] == i)
			return true;
	return false;
}

size_t dvol_volumes_plan(const struct dvol_volumes *vs, const struct dvol_vol_device *d,
			 size_t *ret_idx)
{
	size_t n = 0;

	for (size_t i = 0; i < vs->n; i++)
		if (dvol_volume_names_device(&vs->v[i], d))
			ret_idx[n++] = i;
	/* The plan grows as it is walked: binds beneath a bind come after it. */
	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i < vs->n; i++)
			if (!vs->v[i].local && !planned(ret_idx, n, i) &&
			    dvol_path_under(vs->v[i].spec.path, vs->v[ret_idx[k]].target))
				ret_idx[n++] = i;
	return n;
}

ssize_t dvol_volumes_holder(const struct dvol_volumes *vs, const char *path)
{
	for (size_t i = 0; i < vs->n; i++)
		if (dvol_path_under(path, vs->v[i].target))
			return (ssize_t)i;
	return -1;
}
