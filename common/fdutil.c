/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "fdutil.h"
#include "timeutil.h"

int dvol_write_all(int fd, const void *buf, size_t size)
{
	const char *b = buf;

	while (size > 0) {
		ssize_t k = write(fd, b, size);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			return -EIO;
		b += k;
		size -= (size_t)k;
	}
	return 0;
}

int dvol_read_until(int fd, void *buf, size_t size, uint64_t until_ms, size_t *ret_len)
{
	char *b = buf;
	size_t n = 0;

	while (n < size) {
		uint64_t now = dvol_now_ms();
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t k;
		int r;

		if (now >= until_ms)
			return -ETIMEDOUT;
		r = poll(&pfd, 1, until_ms - now > 60000 ? 60000 : (int)(until_ms - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			continue;
		k = read(fd, b + n, size - n);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		n += (size_t)k;
	}
	*ret_len = n;
	return 0;
}

int dvol_read_all_until(int fd, void *buf, size_t size, uint64_t until_ms)
{
	size_t n = 0;
	int r = dvol_read_until(fd, buf, size, until_ms, &n);

	return r < 0 ? r : n < size ? -EPIPE : 0;
}
