/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* What a file is, whichever path or mount it is reached through: its device and inode. */
struct dvol_file_id {
	uint64_t dev;
	uint64_t ino;
};

static inline bool dvol_file_id_equal(const struct dvol_file_id *a, const struct dvol_file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}
