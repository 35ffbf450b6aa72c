/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* Small value parsers shared by options, config files and argv. 0 or -EINVAL/-ERANGE. */

/* "3", "3s", "500ms", "2m", "1h", "30d": to milliseconds. A bare number is seconds. */
int dvol_parse_duration_ms(const char *s, uint64_t *ret_ms);
/* "1048576", "512K", "200G", "1.5T" (powers of 1024): to bytes. */
int dvol_parse_size(const char *s, uint64_t *ret_bytes);
/* Octal permission bits, at most 07777. */
int dvol_parse_mode(const char *s, mode_t *ret);
/* A decimal id, or a user/group name looked up through NSS. */
int dvol_parse_uid(const char *s, uid_t *ret);
int dvol_parse_gid(const char *s, gid_t *ret);
