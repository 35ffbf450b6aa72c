/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "heal.h"
#include "rootdir.h"
#include "unitname.h"

int dvol_heal_dir_open(const char *path, int *ret_fd)
{
	_cleanup_free_ char *copy = strdup(path);
	_cleanup_close_ int fd = -EBADF;
	char *save = NULL;
	struct stat st;
	int r;

	if (!copy)
		return -ENOMEM;
	if (path[0] != '/')
		return -EINVAL;
	r = dvol_rootdir_open("/", &fd, NULL);
	if (r < 0)
		return r;
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int next = -EBADF;

		r = dvol_rootdir_mkdirat(fd, c, 0700, -1, -1, &next);
		if (r < 0)
			return r;
		safe_close(fd);
		fd = next;
	}
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_uid != geteuid())
		return -EPERM;
	if ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) < 0)
		return -errno;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int dvol_heal_file_name(const char *target, const char *suffix, char **ret)
{
	_cleanup_free_ char *name = NULL;
	int r;

	r = dvol_unit_path_escape(target, &name);
	if (r < 0)
		return r;
	return asprintf(ret, "%s%s", name, suffix) < 0 ? -ENOMEM : 0;
}

uint64_t dvol_heal_pause_ms(unsigned failures)
{
	const uint64_t max = 30ULL * 60 * 1000;

	if (failures == 0)
		return 0;
	if (failures > 7)
		return max;
	return (30000ULL << (failures - 1)) < max ? 30000ULL << (failures - 1) : max;
}
