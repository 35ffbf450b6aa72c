/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/*
 * A name for a line of human output, escaped as `ls -b` does in the C locale: \\ for a
 * backslash, \a \b \t \n \v \f \r, and \ooo for every other byte outside printable
 * ASCII. A name can then neither end a line nor forge one, nor send a terminal escape.
 * Spaces stay (one name a line, after a fixed prefix).
 *
 * Into BUF of SZ bytes, always NUL-terminated; the length the whole escaped name needs
 * (without the NUL), as snprintf() returns.
 */
size_t dvol_escape_name(const char *name, char *buf, size_t sz);
/* The same, in memory of its own (free()); NULL when out of memory. */
char *dvol_escape_name_dup(const char *name);
/*
 * What a message shows of a user's input: escaped as above, and cut after MAX bytes with
 * "... (N bytes)", so that an input of 64 KiB cannot push the reason out of the line.
 * NULL when out of memory.
 */
char *dvol_escape_shown(const char *s, size_t max);
