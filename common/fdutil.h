/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Whole reads and writes on pipes between dvol's processes (systemd's loop_read/loop_write). */

/* Write all SIZE bytes of BUF to FD, again after EINTR and short writes. 0 or -errno. */
int dvol_write_all(int fd, const void *buf, size_t size);

/*
 * Read exactly SIZE bytes from FD into BUF by UNTIL_MS (dvol_now_ms()'s clock). 0;
 * -ETIMEDOUT when the time ran out first; -EPIPE when the other end was closed first;
 * -errno for a failed poll or read.
 */
int dvol_read_all_until(int fd, void *buf, size_t size, uint64_t until_ms);

/*
 * Read from FD into BUF until SIZE bytes are in or the other end is closed, by UNTIL_MS:
 * 0 with *ret_len the bytes read (fewer than SIZE: the end came first); -ETIMEDOUT; or
 * -errno for a failed poll or read.
 */
int dvol_read_until(int fd, void *buf, size_t size, uint64_t until_ms, size_t *ret_len);
