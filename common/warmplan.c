/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "strv.h"
#include "warmplan.h"

const char *dvol_warm_skip_to_string(enum dvol_warm_skip s)
{
	static const char *const names[_DVOL_WARM_SKIP_MAX] = {
	    [DVOL_WARM_SKIP_SYMLINK] = "symlink",
	    [DVOL_WARM_SKIP_DIR] = "folder",
	    [DVOL_WARM_SKIP_SPECIAL] = "not-regular",
	    [DVOL_WARM_SKIP_ERROR] = "error",
	};
	return s < _DVOL_WARM_SKIP_MAX ? names[s] : NULL;
}

void dvol_warm_plan_done(struct dvol_warm_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++)
		free(plan->f[i].path);
	free(plan->f);
	free(plan->seen);
	*plan = (struct dvol_warm_plan){0};
}

struct expand {
	const struct dvol_warm_pattern *p;
	unsigned idx;
	struct dvol_warm_plan *plan;
	dvol_warm_skip_fn skip;
	void *userdata;
	size_t matched;
	size_t plen;
	char path[PATH_MAX];
};

static void skipped(struct expand *e, enum dvol_warm_skip why, int err)
{
	e->matched++;
	if (e->skip)
		e->skip(e->userdata, e->p, why, e->path, err);
}

/* Set e->path to the folder's path and NAME; false when it would not fit. */
static bool path_push(struct expand *e, const char *name, size_t *ret_saved)
{
	size_t l = strlen(name), need = e->plen + (e->plen ? 1 : 0) + l;

	*ret_saved = e->plen;
	if (need >= sizeof(e->path))
		return false;
	if (e->plen)
		e->path[e->plen++] = '/';
	memcpy(e->path + e->plen, name, l + 1);
	e->plen += l;
	return true;
}

static void path_pop(struct expand *e, size_t saved)
{
	e->plen = saved;
	e->path[saved] = '\0';
}

static size_t id_hash(dev_t dev, ino_t ino, size_t cap)
{
	uint64_t h =
	    ((uint64_t)dev * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)ino * 0xc2b2ae3d27d4eb4fULL);

	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

/* The slot of (DEV, INO) in plan->seen: the file's, or the empty one where it would go. */
static size_t id_slot(const struct dvol_warm_plan *plan, dev_t dev, ino_t ino)
{
	size_t i = id_hash(dev, ino, plan->seen_cap);

	while (plan->seen[i] &&
	       (plan->f[plan->seen[i] - 1].dev != dev || plan->f[plan->seen[i] - 1].ino != ino))
		i = (i + 1) & (plan->seen_cap - 1);
	return i;
}

/* Keep plan->seen at most half full. 0 or -ENOMEM. */
static int id_grow(struct dvol_warm_plan *plan)
{
	size_t cap = plan->seen_cap ? plan->seen_cap * 2 : 64;
	size_t *old = plan->seen;

	if ((plan->n + 1) * 2 <= plan->seen_cap)
		return 0;
	plan->seen = calloc(cap, sizeof(*plan->seen));
	if (!plan->seen) {
		plan->seen = old;
		return -ENOMEM;
	}
	plan->seen_cap = cap;
	free(old);
	for (size_t k = 0; k < plan->n; k++)
		plan->seen[id_slot(plan, plan->f[k].dev, plan->f[k].ino)] = k + 1;
	return 0;
}

/* A regular file, unless the plan has it already (the same device and inode). */
static int add_file(struct expand *e, const struct stat *st)
{
	struct dvol_warm_plan *plan = e->plan;
	struct dvol_warm_file *nf;
	size_t slot;
	char *p;

	e->matched++;
	if (id_grow(plan) < 0)
		return -ENOMEM;
	slot = id_slot(plan, st->st_dev, st->st_ino);
	if (plan->seen[slot]) {
		plan->dups++;
		return 0;
	}
	p = strdup(e->path);
	if (!p)
		return -ENOMEM;
	nf = reallocarray(plan->f, plan->n + 1, sizeof(*nf));
	if (!nf) {
		free(p);
		return -ENOMEM;
	}
	plan->f = nf;
	plan->f[plan->n++] = (struct dvol_warm_file){.path = p,
						     .size = (uint64_t)st->st_size,
						     .dev = st->st_dev,
						     .ino = st->st_ino,
						     .pattern = e->idx};
	plan->seen[slot] = plan->n;
	plan->bytes += (uint64_t)st->st_size;
	return 0;
}

static int expand_at(struct expand *e, int dfd, char *const *comps);

/* NAME in DFD, matched by the component COMPS[0]; GLOB: matched by a glob, among others. */
static int entry(struct expand *e, int dfd, const char *name, char *const *comps, bool glob)
{
	bool last = !comps[1];
	struct stat st;
	size_t saved;
	int r = 0;

	if (!path_push(e, name, &saved)) {
		skipped(e, DVOL_WARM_SKIP_ERROR, -ENAMETOOLONG);
		return 0;
	}
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		/* A literal name that is not there matches nothing. */
		if (errno != ENOENT && errno != ENOTDIR)
			skipped(e, DVOL_WARM_SKIP_ERROR, -errno);
	} else if (S_ISLNK(st.st_mode)) {
		/* A link among a glob's folders leads nowhere the pattern asks for. */
		if (last || !glob)
			skipped(e, DVOL_WARM_SKIP_SYMLINK, 0);
	} else if (last && S_ISREG(st.st_mode)) {
		r = add_file(e, &st);
	} else if (last) {
		skipped(e, S_ISDIR(st.st_mode) ? DVOL_WARM_SKIP_DIR : DVOL_WARM_SKIP_SPECIAL, 0);
	} else if (S_ISDIR(st.st_mode)) {
		_cleanup_close_ int fd =
		    openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (fd < 0)
			/* Swapped for a link since the stat: ENOTDIR or ELOOP. */
			skipped(e,
				errno == ELOOP || errno == ENOTDIR ? DVOL_WARM_SKIP_SYMLINK
								   : DVOL_WARM_SKIP_ERROR,
				-errno);
		else
			r = expand_at(e, fd, comps + 1);
	}
	path_pop(e, saved);
	return r;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in DFD that GLOB matches, sorted. 0 with *ret (NULL-terminated), or -errno. */
static int glob_names(int dfd, const char *glob, char ***ret)
{
	_cleanup_(closedirp) DIR *d = NULL;
	_cleanup_strv_free_ char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int fd;

	fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		safe_close(fd);
		return -errno;
	}
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fnmatch(glob, de->d_name, FNM_PERIOD) != 0)
			continue;
		if (n + 2 > cap) {
			char **nv = reallocarray(v, cap = cap ? cap * 2 : 16, sizeof(*nv));

			if (!nv)
				return -ENOMEM;
			v = nv;
		}
		v[n] = strdup(de->d_name);
		if (!v[n])
			return -ENOMEM;
		v[++n] = NULL;
	}
	if (errno)
		return -errno;
	if (n)
		qsort(v, n, sizeof(*v), cmp_names);
	*ret = TAKE_PTR(v);
	return 0;
}

static int expand_at(struct expand *e, int dfd, char *const *comps)
{
	_cleanup_strv_free_ char **names = NULL;
	int r;

	if (!dvol_warm_is_glob(comps[0])) {
		_cleanup_free_ char *name = malloc(strlen(comps[0]) + 1);

		if (!name)
			return -ENOMEM;
		dvol_warm_unescape(comps[0], name);
		return entry(e, dfd, name, comps, false);
	}
	r = glob_names(dfd, comps[0], &names);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		skipped(e, DVOL_WARM_SKIP_ERROR, r);
		return 0;
	}
	for (char **n = names; n && *n; n++) {
		r = entry(e, dfd, *n, comps, true);
		if (r < 0)
			return r;
	}
	return 0;
}

int dvol_warm_plan_add(int root_fd, const struct dvol_warm_pattern *p, unsigned idx,
		       struct dvol_warm_plan *plan, dvol_warm_skip_fn skip, void *userdata,
		       size_t *ret_matched)
{
	_cleanup_free_ struct expand *e = calloc(1, sizeof(*e));
	int r;

	if (!e)
		return -ENOMEM;
	*e = (struct expand){.p = p, .idx = idx, .plan = plan, .skip = skip, .userdata = userdata};
	r = expand_at(e, root_fd, p->comps);
	if (r < 0)
		return r;
	*ret_matched = e->matched;
	return 0;
}

/* O_DIRECTORY answers ENOTDIR for a symlink before O_NOFOLLOW can: tell them apart. */
static int nofollow_errno(int dfd, const char *name, int err)
{
	struct stat st;

	if (err == ENOTDIR && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		return -ELOOP;
	return -err;
}

int dvol_warm_open(int root_fd, const struct dvol_warm_file *f, int *ret_fd)
{
	_cleanup_close_ int dfd = -EBADF, fd = -EBADF;
	_cleanup_free_ char *copy = strdup(f->path);
	char *comp, *slash;
	struct stat st;
	int flags;

	if (!copy)
		return -ENOMEM;
	comp = copy;
	while ((slash = strchr(comp, '/'))) {
		int nfd;

		*slash = '\0';
		nfd = openat(dfd >= 0 ? dfd : root_fd, comp,
			     O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0)
			return nofollow_errno(dfd >= 0 ? dfd : root_fd, comp, errno);
		safe_close(dfd);
		dfd = nfd;
		comp = slash + 1;
	}
	/* Looked at before it is opened: a FIFO or a device is never opened at all. */
	if (fstatat(dfd >= 0 ? dfd : root_fd, comp, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	if (!S_ISREG(st.st_mode))
		return -EMEDIUMTYPE;
	/* O_NONBLOCK: what is swapped in between the stat and the open does not block it. */
	fd = openat(dfd >= 0 ? dfd : root_fd, comp,
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EMEDIUMTYPE;
	if (st.st_dev != f->dev || st.st_ino != f->ino)
		return -EXDEV;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
		return -errno;
	*ret_fd = TAKE_FD(fd);
	return 0;
}
