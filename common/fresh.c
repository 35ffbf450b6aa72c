/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fresh.h"

static bool uuid_ok(const char *uuid)
{
	size_t l = strlen(uuid);

	return l > 0 && l <= 36 && strspn(uuid, "0123456789abcdefABCDEF-") == l;
}

static int open_dir(const char *dir, bool create, int *ret_fd)
{
	int fd;

	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST) {
		/* One level of parents: /run/dvol itself. */
		_cleanup_free_ char *parent = strdup(dir);
		char *s = parent ? strrchr(parent, '/') : NULL;

		if (!parent)
			return -ENOMEM;
		if (errno != ENOENT || !s || s == parent)
			return -errno;
		*s = '\0';
		if (mkdir(parent, 0700) < 0 && errno != EEXIST)
			return -errno;
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return -errno;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

int dvol_fresh_mark(const char *dir, const char *uuid)
{
	_cleanup_close_ int dfd = -EBADF, fd = -EBADF;
	int r;

	if (!uuid_ok(uuid))
		return -EINVAL;
	r = open_dir(dir, true, &dfd);
	if (r < 0)
		return r;
	fd = openat(dfd, uuid, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	return fd < 0 ? -errno : 0;
}

int dvol_fresh_take(const char *dir, const char *uuid)
{
	_cleanup_close_ int dfd = -EBADF;
	int r;

	if (!uuid_ok(uuid))
		return -EINVAL;
	r = open_dir(dir, false, &dfd);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (unlinkat(dfd, uuid, 0) < 0)
		return errno == ENOENT ? 0 : -errno;
	return 1;
}
