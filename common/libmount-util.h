/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* libmount's handles, freed the way cleanup.h frees everything (systemd libmount-util.h). */
#include <stdint.h>

#include <libmount/libmount.h>

#include "cleanup.h"

DEFINE_CLEANUP_FUNC(struct libmnt_context *, mnt_free_context)
DEFINE_CLEANUP_FUNC(struct libmnt_table *, mnt_unref_table)
DEFINE_CLEANUP_FUNC(struct libmnt_fs *, mnt_unref_fs)
DEFINE_CLEANUP_FUNC(struct libmnt_iter *, mnt_free_iter)
DEFINE_CLEANUP_FUNC(struct libmnt_update *, mnt_free_update)

/*
 * PATH in fstab syntax, comments kept so that entries know their lines: *ret the table
 * (caller unrefs). A line libmount cannot parse is *ret_bad_line (the first of them; 0 for
 * none), with 0 returned and the table as far as it was read. -errno when PATH cannot be
 * read at all.
 */
int dvol_mnt_table_load(const char *path, struct libmnt_table **ret, unsigned *ret_bad_line);

/* dvol_mnt_table_load(), and *ret_it a forward iterator for its entries (caller frees). */
int dvol_mnt_table_load_iter(const char *path, struct libmnt_table **ret,
			     struct libmnt_iter **ret_it, unsigned *ret_bad_line);

/* The line of FS in TB's file, given the line of the entry before it (0 for the first). */
unsigned dvol_mnt_fs_line(struct libmnt_table *tb, struct libmnt_fs *fs, unsigned prev);

/* The mount of this mount namespace whose id is ID (statx's STATX_MNT_ID, mountinfo's
 * first field), read from /proc/self/mountinfo: *ret_tb holds the table (caller unrefs),
 * *ret_fs the entry in it. -ENOENT when there is none. */
int dvol_mountinfo_find_id(uint64_t id, struct libmnt_table **ret_tb, struct libmnt_fs **ret_fs);
