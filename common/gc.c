/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "gc.h"

/* --- the histogram --------------------------------------------------------------------- */

unsigned dvol_gc_hist_bucket(uint64_t age_s)
{
	unsigned e;

	if (age_s < DVOL_GC_HIST_SUB)
		return (unsigned)age_s;
	if (age_s >> DVOL_GC_HIST_BITS)
		return DVOL_GC_HIST_BUCKETS - 1;
	e = 63 - __builtin_clzll(age_s); /* 6 .. BITS-1 */
	return (e - 5) * DVOL_GC_HIST_SUB + (unsigned)((age_s >> (e - 6)) - DVOL_GC_HIST_SUB);
}

uint64_t dvol_gc_hist_floor(unsigned b)
{
	unsigned e, sub;

	if (b < DVOL_GC_HIST_SUB)
		return b;
	e = b / DVOL_GC_HIST_SUB + 5;
	sub = b % DVOL_GC_HIST_SUB;
	return (uint64_t)(DVOL_GC_HIST_SUB + sub) << (e - 6);
}

void dvol_gc_hist_add(struct dvol_gc_hist *h, uint64_t age_s, uint64_t bytes)
{
	unsigned b = dvol_gc_hist_bucket(age_s);

	h->bytes[b] += bytes;
	h->files[b]++;
}

uint64_t dvol_gc_hist_cutoff(const struct dvol_gc_hist *h, uint64_t need, uint64_t *ret_bytes)
{
	uint64_t acc = 0, cutoff = UINT64_MAX;

	if (need > 0)
		for (unsigned b = DVOL_GC_HIST_BUCKETS; b-- > 0;) {
			if (!h->files[b])
				continue;
			acc += h->bytes[b];
			cutoff = dvol_gc_hist_floor(b);
			if (acc >= need)
				break;
		}
	if (ret_bytes)
		*ret_bytes = acc;
	return cutoff;
}

const char *dvol_gc_skip_to_string(enum dvol_gc_skip s)
{
	static const char *const names[_DVOL_GC_SKIP_MAX] = {
	    [DVOL_GC_SKIP_YOUNG] = "young",    [DVOL_GC_SKIP_KEEP] = "keep",
	    [DVOL_GC_SKIP_LOCKED] = "locked",  [DVOL_GC_SKIP_SPECIAL] = "special",
	    [DVOL_GC_SKIP_MOUNT] = "mount",    [DVOL_GC_SKIP_CHANGED] = "changed",
	    [DVOL_GC_SKIP_DEPTH] = "too-deep", [DVOL_GC_SKIP_ERROR] = "error",
	};
	return s < _DVOL_GC_SKIP_MAX ? names[s] : NULL;
}

/* --- the walk -------------------------------------------------------------------------- */

#define STATX_WANT                                                                                 \
	(STATX_TYPE | STATX_MODE | STATX_INO | STATX_NLINK | STATX_SIZE | STATX_BLOCKS |           \
	 STATX_ATIME | STATX_MTIME | STATX_CTIME | STATX_MNT_ID)

struct walk {
	const struct dvol_gc_opts *o;
	const struct dvol_gc_budget *b;
	struct dvol_gc_stats *st;
	struct dvol_gc_hist *hist;
	uint64_t now;
	uint32_t dev_major, dev_minor;
	uint64_t mnt_id;
	bool have_mnt_id;
	bool pass2;
	bool count; /* this walk fills the statistics (the first one, or the only one) */
	bool no_openat2;
	uint64_t cutoff;      /* pass 2: evict at this age and older */
	uint64_t prev_cutoff; /* a repeat of pass 2: what was this old had its turn */
	bool quiet;	      /* a dry run's repeat, telling what went before: no events */
	uint64_t over_age;
	uint64_t shed; /* the root's bytes (shares of hard-linked files) no longer in it */
	size_t plen;
	char path[PATH_MAX];
};

static void event(struct walk *w, enum dvol_gc_event ev, enum dvol_gc_skip why, uint64_t bytes,
		  int err)
{
	if (w->quiet)
		return;
	if (ev == DVOL_GC_SKIP)
		w->st->skipped[why]++;
	if (ev == DVOL_GC_SKIP && (why == DVOL_GC_SKIP_DEPTH || why == DVOL_GC_SKIP_ERROR))
		w->st->not_walked++;
	if (w->o->event)
		w->o->event(w->o->userdata, ev, why, w->path, bytes, err);
}

/* A folder or entry the walk could not look at: told by the walk that counts, once, not
 * again by every pass after it. */
static void walk_error(struct walk *w, int err)
{
	if (w->count)
		event(w, DVOL_GC_SKIP, DVOL_GC_SKIP_ERROR, 0, err);
}

static uint64_t since(const struct walk *w, int64_t t)
{
	return t < 0 || (uint64_t)t >= w->now ? 0 : w->now - (uint64_t)t;
}

/* The age that orders eviction: the last use, the newer of atime and mtime. */
static uint64_t age_of(const struct walk *w, const struct statx *sx)
{
	int64_t t = sx->stx_atime.tv_sec > sx->stx_mtime.tv_sec ? sx->stx_atime.tv_sec
								: sx->stx_mtime.tv_sec;

	return since(w, t);
}

bool dvol_gc_young(const struct statx *sx, uint64_t now, uint64_t grace_s)
{
	int64_t t = sx->stx_atime.tv_sec;

	if (sx->stx_mtime.tv_sec > t)
		t = sx->stx_mtime.tv_sec;
	if (sx->stx_ctime.tv_sec > t)
		t = sx->stx_ctime.tv_sec;
	/* From the future (a clock set back): age 0, as for eviction. */
	return t >= 0 && ((uint64_t)t >= now ? grace_s > 0 : now - (uint64_t)t < grace_s);
}

static bool young(const struct walk *w, const struct statx *sx)
{
	return dvol_gc_young(sx, w->now, w->b->grace_s);
}

static uint64_t bytes_of(const struct statx *sx)
{
	/* A file with several names is charged to each of them in part. */
	return sx->stx_blocks * 512 / (sx->stx_nlink ? sx->stx_nlink : 1);
}

uint64_t dvol_gc_bytes_freed(const struct statx *sx)
{
	return sx->stx_nlink <= 1 ? sx->stx_blocks * 512 : 0;
}

/* Another mount: a different device, a different mount id (a bind mount of the same
 * filesystem), or the root of a mount. */
static bool other_mount(const struct walk *w, const struct statx *sx)
{
	if (sx->stx_dev_major != w->dev_major || sx->stx_dev_minor != w->dev_minor)
		return true;
	if (w->have_mnt_id && (sx->stx_mask & STATX_MNT_ID) && sx->stx_mnt_id != w->mnt_id)
		return true;
	return (sx->stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	       (sx->stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

static int stat_at(int dfd, const char *name, struct statx *sx)
{
	if (statx(dfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_WANT, sx) < 0)
		return -errno;
	return 0;
}

/* A subfolder, opened beneath DFD without following a link or crossing a mount. */
static int open_subdir(struct walk *w, int dfd, const char *name)
{
	int fd;

	if (!w->no_openat2) {
		struct open_how how = {
		    .flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
		    .resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS |
			       RESOLVE_NO_MAGICLINKS,
		};

		fd = (int)syscall(SYS_openat2, dfd, name, &how, sizeof(how));
		if (fd >= 0)
			return fd;
		/* ENOSYS: an old kernel, or a sandbox stage without wpath. */
		if (errno != ENOSYS && errno != EPERM)
			return -errno;
		w->no_openat2 = true;
	}
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static bool same_file(const struct statx *a, const struct statx *b)
{
	return a->stx_ino == b->stx_ino && a->stx_dev_major == b->stx_dev_major &&
	       a->stx_dev_minor == b->stx_dev_minor &&
	       (a->stx_mode & S_IFMT) == (b->stx_mode & S_IFMT);
}

static bool unchanged(const struct statx *a, const struct statx *b)
{
	return same_file(a, b) && a->stx_size == b->stx_size &&
	       a->stx_mtime.tv_sec == b->stx_mtime.tv_sec &&
	       a->stx_mtime.tv_nsec == b->stx_mtime.tv_nsec &&
	       a->stx_ctime.tv_sec == b->stx_ctime.tv_sec &&
	       a->stx_ctime.tv_nsec == b->stx_ctime.tv_nsec;
}

/* Does someone hold a lock on FD: a flock, or a POSIX/OFD record lock? */
static int held_locked(int fd)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? 1 : -errno;
	if (fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
		return 1;
	return 0;
}

/* Pass 2: remove one file or symlink, if it still qualifies. 1 removed, 0 skipped. */
static int evict(struct walk *w, int dfd, const char *name, const struct statx *seen)
{
	_cleanup_close_ int fd = -EBADF;
	struct statx now;
	uint64_t age;
	int r;

	if (S_ISREG(seen->stx_mode)) {
		struct stat fst;

		fd = openat(dfd, name,
			    O_RDONLY | O_NOATIME | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd < 0 && errno == EPERM)
			fd = openat(dfd, name,
				    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			if (r == -ENOENT || r == -ELOOP)
				return event(w, DVOL_GC_SKIP, DVOL_GC_SKIP_CHANGED, 0, r), 0;
			return event(w, DVOL_GC_SKIP, DVOL_GC_SKIP_ERROR, 0, r), 0;
		}
		if (fstat(fd, &fst) < 0 || fst.st_ino != seen->stx_ino)
			return event(w, DVOL_GC_SKIP, DVOL_GC_SKIP_CHANGED, 0, 0), 0;
		r = held_locked(fd);
		if (r > 0)
			return event(w, DVOL_GC_SKIP, DVOL_GC_SKIP_LOCKED, 0, 0), 0;
		if (r < 0)
			return event(w, DVOL_GC_SKIP, DVOL_GC_SKIP_ERROR, 0, r), 0;
	}

	/* The last look, right before the unlink: the same inode, not written to, and still
	 * old enough (it may have been read since the scan). */
	r = stat_at(dfd, name, &now);
	if (r < 0 || !unchanged(seen, &now))
		return event(w, DVOL_GC_SKIP, DVOL_GC_SKIP_CHANGED, 0, r), 0;
	age = age_of(w, &now);
	if (young(w, &now) || age < w->cutoff)
		return event(w, DVOL_GC_SKIP, DVOL_GC_SKIP_CHANGED, 0, 0), 0;

	if (!w->o->dry_run && unlinkat(dfd, name, 0) < 0) {
		r = -errno;
		if (r == -ENOENT)
			return event(w, DVOL_GC_SKIP, DVOL_GC_SKIP_CHANGED, 0, r), 0;
		if (r == -EBUSY)
			return event(w, DVOL_GC_SKIP, DVOL_GC_SKIP_MOUNT, 0, r), 0;
		return event(w, DVOL_GC_SKIP, DVOL_GC_SKIP_ERROR, 0, r), 0;
	}
	if (w->quiet)
		return 1;
	w->st->evicted++;
	w->st->freed += dvol_gc_bytes_freed(&now);
	w->shed += bytes_of(&now);
	event(w, DVOL_GC_EVICT, 0, dvol_gc_bytes_freed(&now), 0);
	return 1;
}

static bool path_push(struct walk *w, const char *name, size_t *saved)
{
	size_t l = strlen(name);

	*saved = w->plen;
	if (w->plen + l + 2 > sizeof(w->path))
		return false;
	if (w->plen)
		w->path[w->plen++] = '/';
	memcpy(w->path + w->plen, name, l + 1);
	w->plen += l;
	return true;
}

static void path_pop(struct walk *w, size_t saved)
{
	w->plen = saved;
	w->path[saved] = 0;
}

/*
 * Walk the folder at DFD (taken over). *ret_left: entries that stay in it; *ret_gone:
 * entries removed below it (pass 2). KEEP: inside a .dvol-keep folder.
 */
static int walk_dir(struct walk *w, int dfd, unsigned depth, bool keep, uint64_t *ret_left,
		    uint64_t *ret_gone);

/* A folder: enter it, then remove it if this run left it empty. */
static void visit_dir(struct walk *w, int dfd, const char *name, const struct statx *sx,
		      unsigned depth, bool keep, uint64_t *left, uint64_t *gone)
{
	uint64_t sub_left = 0, sub_gone = 0;
	struct statx dx;
	int fd, r;

	if (depth + 1 >= DVOL_GC_MAX_DEPTH) {
		if (w->count)
			event(w, DVOL_GC_SKIP, DVOL_GC_SKIP_DEPTH, 0, 0);
		(*left)++;
		return;
	}
	fd = open_subdir(w, dfd, name);
	if (fd < 0) {
		/* A link or a mount swapped in since the statx: not ours to enter. */
		enum dvol_gc_skip why = fd == -ELOOP || fd == -ENOTDIR || fd == -ENOENT
					    ? DVOL_GC_SKIP_CHANGED
					: fd == -EXDEV ? DVOL_GC_SKIP_MOUNT
						       : DVOL_GC_SKIP_ERROR;
		if (why == DVOL_GC_SKIP_ERROR)
			walk_error(w, fd);
		else
			event(w, DVOL_GC_SKIP, why, 0, fd);
		(*left)++;
		return;
	}
	if (statx(fd, "", AT_EMPTY_PATH, STATX_WANT, &dx) < 0 || !same_file(sx, &dx) ||
	    other_mount(w, &dx)) {
		close(fd);
		event(w, DVOL_GC_SKIP, DVOL_GC_SKIP_CHANGED, 0, 0);
		(*left)++;
		return;
	}
	r = walk_dir(w, fd, depth + 1, keep, &sub_left, &sub_gone);
	if (r < 0) {
		walk_error(w, r);
		(*left)++;
		return;
	}
	*gone += sub_gone;
	/* Left empty by this run: remove it, if it is still that folder. */
	if (w->pass2 && sub_left == 0 && sub_gone > 0) {
		struct statx again;

		if (stat_at(dfd, name, &again) < 0 || !same_file(sx, &again)) {
			(*left)++;
			return;
		}
		if (!w->o->dry_run && unlinkat(dfd, name, AT_REMOVEDIR) < 0) {
			(*left)++; /* ENOTEMPTY: someone wrote into it meanwhile */
			return;
		}
		w->st->dirs_removed++;
		(*gone)++;
		event(w, DVOL_GC_RMDIR, 0, 0, 0);
		return;
	}
	(*left)++;
}

/* A file or a symlink: counted and judged by age in pass 1, evicted in pass 2. */
static void visit_file(struct walk *w, int dfd, const char *name, const struct statx *sx, bool keep,
		       uint64_t *left, uint64_t *gone)
{
	uint64_t age;
	bool is_young;
	int r;

	age = age_of(w, sx);
	is_young = young(w, sx);
	if (w->count) {
		w->st->files++;
		w->st->bytes += bytes_of(sx);
		if (keep)
			w->st->skipped[DVOL_GC_SKIP_KEEP]++;
		else if (is_young)
			w->st->skipped[DVOL_GC_SKIP_YOUNG]++;
	}
	if (keep || is_young) {
		(*left)++;
		return;
	}
	if (!w->pass2) {
		if (w->b->has_max_age && age >= w->b->max_age_s)
			w->over_age += bytes_of(sx);
		else
			dvol_gc_hist_add(w->hist, age, bytes_of(sx));
		return;
	}
	if (age >= w->prev_cutoff) {
		/* Its turn was in an earlier pass: a real run removed it then or could not;
		 * a dry run, which removed nothing, asks again without a word, for the
		 * folders it would leave empty. */
		if (w->o->dry_run) {
			w->quiet = true;
			r = evict(w, dfd, name, sx);
			w->quiet = false;
			if (r > 0) {
				(*gone)++;
				return;
			}
		}
		(*left)++;
		return;
	}
	if (age < w->cutoff) {
		/* The candidates for one more pass, should this one fall short. */
		dvol_gc_hist_add(w->hist, age, bytes_of(sx));
		(*left)++;
		return;
	}
	if (evict(w, dfd, name, sx) > 0)
		(*gone)++;
	else
		(*left)++;
}

static void visit(struct walk *w, int dfd, const char *name, unsigned depth, bool keep,
		  uint64_t *left, uint64_t *gone)
{
	struct statx sx;
	int r;

	r = stat_at(dfd, name, &sx);
	if (r < 0) {
		if (r != -ENOENT) /* gone since readdir: nothing to do */
			walk_error(w, r), (*left)++;
		return;
	}
	if (other_mount(w, &sx)) {
		if (w->count)
			event(w, DVOL_GC_SKIP, DVOL_GC_SKIP_MOUNT, 0, 0);
		(*left)++;
		return;
	}
	if (S_ISDIR(sx.stx_mode)) {
		visit_dir(w, dfd, name, &sx, depth, keep, left, gone);
		return;
	}
	if (!S_ISREG(sx.stx_mode) && !S_ISLNK(sx.stx_mode)) {
		if (w->count)
			event(w, DVOL_GC_SKIP, DVOL_GC_SKIP_SPECIAL, 0, 0);
		(*left)++;
		return;
	}
	visit_file(w, dfd, name, &sx, keep, left, gone);
}

static int walk_dir(struct walk *w, int dfd, unsigned depth, bool keep, uint64_t *ret_left,
		    uint64_t *ret_gone)
{
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	struct stat kst;
	uint64_t left = 0, gone = 0;

	d = fdopendir(dfd);
	if (!d) {
		int r = -errno;
		close(dfd);
		return r;
	}
	if (w->count)
		w->st->dirs++;
	if (!keep && fstatat(dfd, ".dvol-keep", &kst, AT_SYMLINK_NOFOLLOW) == 0)
		keep = true;
	/* Pass 2 has nothing to do in a kept folder, unless it is the only walk and counts. */
	if (keep && w->pass2 && !w->count) {
		*ret_left = 1;
		*ret_gone = 0;
		return 0;
	}

	while ((errno = 0, de = readdir(d))) {
		size_t saved;

		if (de->d_name[0] == '.' &&
		    (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		if (!path_push(w, de->d_name, &saved)) {
			if (w->count)
				event(w, DVOL_GC_SKIP, DVOL_GC_SKIP_DEPTH, 0, -ENAMETOOLONG);
			left++;
			continue;
		}
		visit(w, dfd, de->d_name, depth, keep, &left, &gone);
		path_pop(w, saved);
	}
	if (errno)
		return -errno;
	*ret_left = left;
	*ret_gone = gone;
	return 0;
}

static int walk_root(struct walk *w, int root_fd)
{
	uint64_t left, gone;
	int fd;

	/* A second fd of its own: closedir() closes what it walks. */
	fd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	w->plen = 0;
	w->path[0] = 0;
	return walk_dir(w, fd, 0, false, &left, &gone);
}

/* Available bytes on the root's filesystem; a dry run, which removes nothing, estimates. */
static uint64_t avail_now(const struct walk *w, int root_fd)
{
	struct statfs sfs;

	if (!w->o->dry_run && fstatfs(root_fd, &sfs) == 0)
		return (uint64_t)sfs.f_bavail * sfs.f_frsize;
	return w->st->fs_avail_before + w->shed;
}

/* Bytes the budgets still ask for. */
static uint64_t still_needed(const struct walk *w, int root_fd, uint64_t min_free)
{
	const struct dvol_gc_budget *b = w->b;
	uint64_t need = 0, left, avail;

	if (b->has_max_size) {
		left = w->st->bytes > w->shed ? w->st->bytes - w->shed : 0;
		if (left > b->max_size)
			need = left - b->max_size;
	}
	if (b->has_min_free) {
		avail = avail_now(w, root_fd);
		if (avail < min_free && min_free - avail > need)
			need = min_free - avail;
	}
	return need;
}

/* The walk over ROOT_FD's tree, and the size and free space of its filesystem in RET. */
static int walk_start(struct walk *w, int root_fd, const struct dvol_gc_opts *o,
		      struct dvol_gc_hist *hist, struct dvol_gc_stats *ret)
{
	struct statx rsx;
	struct statfs sfs;

	w->o = o;
	w->b = o->budget;
	w->st = ret;
	w->hist = hist;
	if (statx(root_fd, "", AT_EMPTY_PATH, STATX_WANT, &rsx) < 0)
		return -errno;
	if (fstatfs(root_fd, &sfs) < 0)
		return -errno;

	w->now = o->now_s ? o->now_s : (uint64_t)time(NULL);
	w->dev_major = rsx.stx_dev_major;
	w->dev_minor = rsx.stx_dev_minor;
	w->have_mnt_id = rsx.stx_mask & STATX_MNT_ID;
	w->mnt_id = rsx.stx_mnt_id;
	w->cutoff = UINT64_MAX;
	w->prev_cutoff = UINT64_MAX;

	ret->fs_size = (uint64_t)sfs.f_blocks * sfs.f_frsize;
	ret->fs_avail_before = (uint64_t)sfs.f_bavail * sfs.f_frsize;
	return 0;
}

/* Pass 1: counts the root, and from its histogram the age from which files go, so that
 * the budget is met (NEED_FREE the bytes min-free asks for). */
static int count_pass(struct walk *w, int root_fd, uint64_t need_free)
{
	struct dvol_gc_stats *st = w->st;
	uint64_t need_size = 0, residual;
	int r;

	w->count = true;
	r = walk_root(w, root_fd);
	if (r < 0)
		return r;
	w->count = false;
	if (w->b->has_max_size && st->bytes > w->b->max_size)
		need_size = st->bytes - w->b->max_size;
	st->need = need_size > need_free ? need_size : need_free;
	residual = st->need > w->over_age ? st->need - w->over_age : 0;
	st->cutoff_age = dvol_gc_hist_cutoff(w->hist, residual, NULL);
	return 0;
}

/*
 * Pass 2, and again while the budget is not met: a file the histogram counted may
 * not go after all (locked, changed, held by another name), and then the next-oldest
 * must. Each pass gathers the survivors younger than its cutoff into the histogram,
 * so the next cutoff is strictly younger: this ends.
 */
static int evict_passes(struct walk *w, int root_fd, uint64_t min_free)
{
	struct dvol_gc_stats *st = w->st;
	int r;

	w->cutoff = st->cutoff_age;
	if (w->b->has_max_age && w->b->max_age_s < w->cutoff)
		w->cutoff = w->b->max_age_s;
	while (w->cutoff != UINT64_MAX) {
		uint64_t still;

		memset(w->hist, 0, sizeof(*w->hist));
		w->pass2 = true;
		r = walk_root(w, root_fd);
		if (r < 0)
			return r;
		w->count = false;
		st->passes++;
		still = still_needed(w, root_fd, min_free);
		if (still == 0)
			break;
		w->prev_cutoff = w->cutoff;
		w->cutoff = dvol_gc_hist_cutoff(w->hist, still, NULL);
		if (w->cutoff != UINT64_MAX)
			st->cutoff_age = w->cutoff;
	}
	return 0;
}

static bool budget_met(const struct walk *w, int root_fd, uint64_t min_free)
{
	const struct dvol_gc_budget *b = w->b;
	uint64_t avail_after = avail_now(w, root_fd);
	uint64_t left = w->st->bytes > w->shed ? w->st->bytes - w->shed : 0;

	return (!b->has_max_size || left <= b->max_size) &&
	       (!b->has_min_free || avail_after >= min_free) && w->st->not_walked == 0;
}

int dvol_gc_root_run(int root_fd, const struct dvol_gc_opts *o, struct dvol_gc_stats *ret)
{
	_cleanup_free_ struct dvol_gc_hist *hist = NULL;
	_cleanup_free_ struct walk *w = NULL;
	const struct dvol_gc_budget *b = o->budget;
	uint64_t min_free = 0, need_free = 0;
	int r;

	*ret = (struct dvol_gc_stats){.cutoff_age = UINT64_MAX};
	hist = calloc(1, sizeof(*hist));
	w = calloc(1, sizeof(*w));
	if (!hist || !w)
		return -ENOMEM;
	r = walk_start(w, root_fd, o, hist, ret);
	if (r < 0)
		return r;
	if (b->has_min_free) {
		min_free = b->min_free_ppm ? (uint64_t)((double)ret->fs_size * b->min_free / 1e6)
					   : b->min_free;
		if (ret->fs_avail_before < min_free)
			need_free = min_free - ret->fs_avail_before;
	}

	/*
	 * Pass 1 is needed for the size of the root, or when space must be freed. Without
	 * either, max-age alone needs one walk: pass 2, which then also counts.
	 */
	if (b->has_max_size || need_free > 0 || !b->has_max_age) {
		r = count_pass(w, root_fd, need_free);
		if (r < 0)
			return r;
	} else
		w->count = true;
	r = evict_passes(w, root_fd, min_free);
	if (r < 0)
		return r;
	ret->budget_met = budget_met(w, root_fd, min_free);
	return 0;
}
