/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libmount/libmount.h>

#include "cleanup.h"
#include "fdutil.h"
#include "libmount-util.h"
#include "stale.h"
#include "timeutil.h"

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

int dvol_utab_remove(const char *target)
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

/* Does TARGET's mount answer? statfs goes to the server; a stat may be cached, a forced
 * one is not. 0 or -errno. */
static int mount_answer(const char *target)
{
	struct statfs sfs;
	struct statx sx;

	if (statfs(target, &sfs) < 0)
		return -errno;
	if (statx(AT_FDCWD, target, AT_NO_AUTOMOUNT | AT_STATX_FORCE_SYNC, STATX_TYPE, &sx) < 0)
		return -errno;
	return 0;
}

static bool is_estale(const char *target)
{
	return mount_answer(target) == -ESTALE;
}

int dvol_mount_check_live(const char *path, uint64_t timeout_ms)
{
	_cleanup_close_ int rfd = -EBADF, wfd = -EBADF;
	int fds[2], answer = 0, r;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	rfd = fds[0];
	wfd = fds[1];
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		answer = mount_answer(path);
		_exit(dvol_write_all(wfd, &answer, sizeof(answer)) < 0 ? 1 : 0);
	}
	wfd = safe_close(wfd);
	r = dvol_read_all_until(rfd, &answer, sizeof(answer), dvol_now_ms() + timeout_ms);
	if (r < 0)
		(void)kill(pid, SIGKILL);
	/* NFS waits for its server killably: a killed child goes at once. One that does
	 * not is left to be reaped with us rather than wait here. */
	for (int i = 0; i < 100 && waitpid(pid, NULL, WNOHANG) == 0; i++)
		dvol_sleep_ms(10);
	if (r == -ETIMEDOUT)
		return r;
	if (r < 0)
		return -EIO;
	return answer > 0 ? -EIO : answer;
}

int dvol_attr_get(const char *attrs, const char *name, char **ret)
{
	char *val = NULL;
	size_t valsz = 0;

	if (!attrs || mnt_optstr_get_option(attrs, name, &val, &valsz) != 0)
		return 0;
	if (val && valsz >= 2 && val[0] == '"' && val[valsz - 1] == '"')
		val++, valsz -= 2;
	*ret = strndup(val ? val : "", val ? valsz : 0);
	return *ret ? 1 : -ENOMEM;
}

/*
 * utab's own lines: blank-separated KEY=VALUE fields, values mangled like fstab's.
 * libmount 2.38 has no public reader for utab alone (mnt_table_parse_mtab() merges only
 * the entries that are still mounted, the very ones this is not about): split the line,
 * and leave unmangling to mnt_unmangle() and the attributes to libmount's optstr parser.
 */
static void utab_entry_done(struct dvol_utab_entry *e)
{
	free(e->source);
	free(e->target);
	free(e->attrs);
	*e = (struct dvol_utab_entry){0};
}

static int utab_entry_parse(char *line, struct dvol_utab_entry *e)
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

struct stale_walk {
	const struct dvol_stale_opts *o;
	int n;
};

static int stale_one(const struct dvol_utab_entry *e, void *userdata)
{
	struct stale_walk *w = userdata;
	const struct dvol_stale_opts *o = w->o;
	_cleanup_free_ char *kind = NULL;
	int r;

	if (dvol_attr_get(e->attrs, "dvol.kind", &kind) < 0)
		return -ENOMEM;
	if (!e->mounted) {
		r = o->dry_run ? 0 : dvol_utab_remove(e->target);
		if (o->event)
			o->event(o->userdata, DVOL_STALE_RECORD, e->source, e->target, kind, r);
		w->n++;
		return 0;
	}
	if (strcmp(kind, "nfs") != 0 || !is_estale(e->target))
		return 0;
	if (o->event)
		o->event(o->userdata, DVOL_STALE_NFS, e->source, e->target, kind, 0);
	w->n++;
	if (!o->unmount || o->dry_run)
		return 0;
	r = umount2(e->target, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 ? -errno : 0;
	if (r == 0)
		r = dvol_utab_remove(e->target);
	if (o->event)
		o->event(o->userdata, DVOL_STALE_UNMOUNTED, e->source, e->target, kind, r);
	return 0;
}

int dvol_stale_run(const struct dvol_stale_opts *o)
{
	struct stale_walk w = {.o = o};
	int r;

	r = dvol_utab_foreach(stale_one, &w);
	return r < 0 ? r : w.n;
}

void dvol_utab_volume_done(struct dvol_utab_volume *v)
{
	free(v->source);
	free(v->target);
	free(v->kind);
	free(v->degraded);
	free(v->fallback);
	free(v->writer);
	*v = (struct dvol_utab_volume){0};
}

void dvol_utab_volumes_free(struct dvol_utab_volume *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		dvol_utab_volume_done(&v[i]);
	free(v);
}

int dvol_utab_attrs(const char *attrs, struct dvol_utab_volume *v)
{
	int r;

	r = dvol_attr_get(attrs, "dvol.kind", &v->kind);
	if (r <= 0)
		return r < 0 ? r : -ENOENT;
	r = dvol_attr_get(attrs, "dvol.writer", &v->writer);
	if (r >= 0)
		r = dvol_attr_get(attrs, "dvol.degraded", &v->degraded);
	if (r > 0)
		r = dvol_attr_get(attrs, "dvol.fallback", &v->fallback);
	if (r < 0)
		return r;
	if (!v->degraded) {
		free(v->fallback);
		v->fallback = NULL;
		return 0;
	}
	/* A mount.dvol from before dvol.fallback= knew tmpfs alone. */
	if (!v->fallback && !(v->fallback = strdup("tmpfs")))
		return -ENOMEM;
	return 0;
}

struct volumes_collect {
	struct dvol_utab_volume *v;
	size_t n;
};

static int volumes_collect(const struct dvol_utab_entry *e, void *userdata)
{
	struct volumes_collect *c = userdata;
	struct dvol_utab_volume *nv;
	int r;

	if (!e->mounted)
		return 0; /* gone: dvol-gc's */
	nv = reallocarray(c->v, c->n + 1, sizeof(*c->v));
	if (!nv)
		return -ENOMEM;
	c->v = nv;
	nv = &c->v[c->n++];
	*nv = (struct dvol_utab_volume){0};
	r = dvol_utab_attrs(e->attrs, nv);
	if (r < 0)
		return r;
	nv->source = e->source ? strdup(e->source) : NULL;
	nv->target = strdup(e->target);
	return (e->source && !nv->source) || !nv->target ? -ENOMEM : 0;
}

int dvol_utab_volumes(struct dvol_utab_volume **ret, size_t *ret_n)
{
	struct volumes_collect c = {0};
	int r;

	*ret = NULL;
	*ret_n = 0;
	r = dvol_utab_foreach(volumes_collect, &c);
	if (r < 0) {
		dvol_utab_volumes_free(c.v, c.n);
		return r;
	}
	*ret = c.v;
	*ret_n = c.n;
	return 0;
}

int dvol_utab_foreach(dvol_utab_fn fn, void *userdata)
{
	_cleanup_(mnt_unref_tablep) struct libmnt_table *mi = NULL;
	_cleanup_(fclosep) FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t linesz = 0;
	int r;

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
		_cleanup_(utab_entry_done) struct dvol_utab_entry e = {0};

		r = utab_entry_parse(line, &e);
		if (r < 0)
			return r;
		if (!e.target || !e.attrs ||
		    mnt_optstr_get_option(e.attrs, "dvol.kind", NULL, NULL))
			continue; /* not dvol's */
		e.mounted = mnt_table_find_target(mi, e.target, MNT_ITER_BACKWARD) != NULL;
		r = fn(&e, userdata);
		if (r < 0)
			return r;
	}
	return 0;
}
