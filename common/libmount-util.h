/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* libmount's handles, freed the way cleanup.h frees everything (systemd libmount-util.h). */
#include <libmount/libmount.h>

#include "cleanup.h"

DEFINE_CLEANUP_FUNC(struct libmnt_context *, mnt_free_context)
DEFINE_CLEANUP_FUNC(struct libmnt_table *, mnt_unref_table)
DEFINE_CLEANUP_FUNC(struct libmnt_fs *, mnt_unref_fs)
DEFINE_CLEANUP_FUNC(struct libmnt_iter *, mnt_free_iter)
