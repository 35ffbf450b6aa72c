/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "rootdir.h"

const char *const dvol_rootdir_system[] = {
    "/",      "/bin",	 "/boot", "/dev",  "/etc",     "/home",	   "/lib",     "/lib32",
    "/lib64", "/libx32", "/opt",  "/proc", "/root",    "/run",	   "/sbin",    "/srv",
    "/sys",   "/tmp",	 "/usr",  "/var",  "/var/lib", "/var/log", "/var/tmp",
};
const size_t dvol_rootdir_n_system = ELEMENTSOF(dvol_rootdir_system);

int dvol_rootdir_match(const struct dvol_file_id *id, const struct dvol_file_id *ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (dvol_file_id_equal(&ids[i], id))
			return (int)i;
	return -1;
}

static int set_at(char **ret_at, const char *path, size_t len)
{
	if (!ret_at)
		return 0;
	*ret_at = strndup(path, len);
	return *ret_at ? 0 : -ENOMEM;
}

/* One O_PATH|O_NOFOLLOW|O_DIRECTORY step at a time; also run after an openat2 refusal,
 * to name the component at fault. */
int dvol_rootdir_open_walk(const char *path, int *ret_fd, char **ret_at)
{
	_cleanup_close_ int fd = -EBADF;
	const char *p = path;
	int r;

	if (ret_at)
		*ret_at = NULL;
	if (!path || path[0] != '/')
		return -EINVAL;
	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		_cleanup_free_ char *comp = NULL;
		struct stat st;
		size_t l;
		int nfd;

		p += strspn(p, "/");
		if (!*p)
			break;
		l = strcspn(p, "/");
		comp = strndup(p, l);
		if (!comp)
			return -ENOMEM;
		p += l;
		nfd = openat(fd, comp, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
		if (nfd < 0) {
			r = -errno;
			/* O_DIRECTORY answers ENOTDIR for a symlink before O_NOFOLLOW can. */
			if (r == -ENOTDIR && fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode))
				r = -ELOOP;
			if (r == -ELOOP || r == -ENOENT || r == -ENOTDIR) {
				int q = set_at(ret_at, path, (size_t)(p - path));
				if (q < 0)
					return q;
			}
			return r;
		}
		safe_close(fd);
		fd = nfd;
	}
	r = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r < 0)
		return -errno;
	*ret_fd = r;
	return 0;
}

int dvol_rootdir_open(const char *path, int *ret_fd, char **ret_at)
{
	struct open_how how = {
	    .flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
	    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	if (ret_at)
		*ret_at = NULL;
	if (!path || path[0] != '/')
		return -EINVAL;
	fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
	if (fd >= 0) {
		*ret_fd = fd;
		return 0;
	}
	/* ENOSYS: an old kernel, or a seccomp stage that hides openat2 (its flags are out of
	 * a filter's reach). A refusal is walked again by hand to name the component. */
	if (errno != ENOSYS && errno != EPERM && errno != ELOOP && errno != ENOENT &&
	    errno != ENOTDIR)
		return -errno;
	return dvol_rootdir_open_walk(path, ret_fd, ret_at);
}

int dvol_rootdir_mkdirat(int dfd, const char *name, mode_t mode, uid_t uid, gid_t gid, int *ret_fd)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat st;
	bool made;

	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	/* 0700 until the mode asked for is set on the fd: never wider in between. */
	made = mkdirat(dfd, name, 0700) == 0;
	if (!made && errno != EEXIST)
		return -errno;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int r = -errno;

		/* O_DIRECTORY answers ENOTDIR for a symlink before O_NOFOLLOW can. */
		if (r == -ENOTDIR && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode))
			r = -ELOOP;
		return r;
	}
	if (made && (fchmod(fd, mode & 07777) < 0 ||
		     ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0)))
		return -errno;
	*ret_fd = TAKE_FD(fd);
	return made;
}

/* Down the components of COPY (a path cut up in place) from *fd, each made where it is
 * missing (PARENTS_MODE, the last one 0700) and opened without following a link: *fd
 * ends on the last. AT (SIZE bytes) holds the path up to the component it reached. */
static int walk_down(char *copy, mode_t parents_mode, int *fd, char *at, size_t size)
{
	char *save = NULL, *c, *next_c;
	size_t len = 0;
	int r;

	at[0] = '\0';
	for (c = strtok_r(copy, "/", &save); c; c = next_c) {
		int next = -EBADF;

		next_c = strtok_r(NULL, "/", &save);
		/* The components joined again fit in PATH's length: "//" only shortens. */
		len += (size_t)snprintf(at + len, size - len, "/%s", c);
		r = dvol_rootdir_mkdirat(*fd, c, next_c ? parents_mode : 0700, -1, -1, &next);
		if (r < 0)
			return r;
		safe_close(*fd);
		*fd = next;
	}
	return 0;
}

/* The folder is this user's, and left 0700. */
static int own_private(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_uid != geteuid())
		return -EPERM;
	if ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) < 0)
		return -errno;
	return 0;
}

int dvol_rootdir_private(const char *path, mode_t parents_mode, int *ret_fd, char **ret_at)
{
	_cleanup_free_ char *copy = strdup(path), *at = strdup(path);
	_cleanup_close_ int fd = -EBADF;
	int r;

	if (!copy || !at)
		return -ENOMEM;
	if (path[0] != '/')
		return -EINVAL;
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = walk_down(copy, parents_mode, &fd, at, strlen(path) + 1);
	if (r >= 0)
		r = own_private(fd);
	if (r < 0) {
		if (ret_at)
			*ret_at = TAKE_PTR(at);
		return r;
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static int id_of(int dfd, const char *path, int flags, struct dvol_file_id *ret)
{
	struct stat st;

	if (fstatat(dfd, path, &st, flags) < 0)
		return -errno;
	*ret = (struct dvol_file_id){.dev = st.st_dev, .ino = st.st_ino};
	return 0;
}

int dvol_rootdir_is_system(int fd, const char **ret_which)
{
	struct dvol_file_id ids[ELEMENTSOF(dvol_rootdir_system)] = {}, id = {};
	size_t n = 0;
	const char *names[ELEMENTSOF(dvol_rootdir_system)];
	int r, i;

	r = id_of(fd, "", AT_EMPTY_PATH, &id);
	if (r < 0)
		return r;
	for (size_t k = 0; k < ELEMENTSOF(dvol_rootdir_system); k++) {
		/* A folder this system does not have cannot be the root. */
		if (id_of(AT_FDCWD, dvol_rootdir_system[k], 0, &ids[n]) < 0)
			continue;
		names[n++] = dvol_rootdir_system[k];
	}
	if (n == 0)
		return -ENOENT; /* not even "/": nothing to compare with, so no answer */
	i = dvol_rootdir_match(&id, ids, n);
	if (i < 0)
		return 0;
	if (ret_which)
		*ret_which = names[i];
	return 1;
}
