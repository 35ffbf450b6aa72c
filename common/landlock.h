/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * Landlock, through its raw system calls: confine the process to the trees beneath the
 * directory fds given, with read access and, if REMOVE, the right to unlink and rmdir
 * there; nothing else on any file system (no write, no create, no exec).
 *
 * 1 when applied, 0 when the kernel has no Landlock (or it is disabled), or -errno.
 * Like seccomp, it only narrows, and cannot be undone.
 */
int dvol_landlock_beneath(const int *fds, size_t n, bool remove);
