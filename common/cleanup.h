/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Scope-bound cleanup for heap memory, fds and library handles, after systemd's
 * alloc-util.h and fd-util.h. Every destructor accepts NULL (or a negative fd).
 */

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

#define DEFINE_CLEANUP_FUNC(type, func)                                                            \
	static inline void func##p(type *p)                                                        \
	{                                                                                          \
		if (*p)                                                                            \
			func(*p);                                                                  \
	}

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline int safe_close(int fd)
{
	if (fd >= 0) {
		int saved = errno;
		(void)close(fd);
		errno = saved;
	}
	return -EBADF;
}

static inline void closep(int *fd)
{
	safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void *steal_ptr_(void **p)
{
	void *t = *p;
	*p = NULL;
	return t;
}
/* Hand ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p) ((__typeof__(p))steal_ptr_((void **)&(p)))

static inline int steal_fd_(int *fd)
{
	int t = *fd;
	*fd = -EBADF;
	return t;
}
#define TAKE_FD(fd) steal_fd_(&(fd))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* libc's handles. Each library's own live beside the module that wraps it: libmount-util.h,
 * blockdev.c (libblkid), sandbox.h (libseccomp), json.h (json-c). */
#include <dirent.h>
#include <stdio.h>

DEFINE_CLEANUP_FUNC(FILE *, fclose)
DEFINE_CLEANUP_FUNC(DIR *, closedir)
