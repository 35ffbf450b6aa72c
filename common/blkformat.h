/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "blockdev.h"

/*
 * The format step of a local volume, under the device lock held on FD, which mkfs
 * inherits: dvol's claim on the medium (blkdecide.h), mkfs, a probe that must find the
 * filesystem with the UUID chosen, and the claim cleared again. A format that failed or
 * finished loses its claim: a later run must not take a device this format left
 * half-written, or wrote and then failed to verify, for its own. One killed from outside
 * keeps it, so that the next run formats it again, as after a power loss.
 */
enum dvol_blk_format_fail {
	DVOL_FORMAT_OPEN,    /* the device could not be opened for writing */
	DVOL_FORMAT_CLAIM,   /* the claim could not be written; nothing was formatted */
	DVOL_FORMAT_KILLED,  /* mkfs was killed by someone else; the claim stays */
	DVOL_FORMAT_TIMEOUT, /* mkfs did not finish in time, and was killed */
	DVOL_FORMAT_EXIT,    /* mkfs failed (->status) */
	DVOL_FORMAT_RUN,     /* mkfs could not be run */
	DVOL_FORMAT_VERIFY,  /* mkfs ran, but its filesystem is not on the device */
};

struct dvol_blk_format {
	/* In. */
	const struct dvol_blk_dev *dev;
	int fd; /* the device, read-only, locked */
	const char *fstype;
	const char *uuid;
	char *const *argv; /* dvol_mkfs_argv()'s */
	uint64_t timeout_ms;

	/* Out. */
	int wfd;      /* the device, read-write, once opened (start it at -EBADF) */
	bool claimed; /* false: the device is too small for a claim */
	char *output; /* what mkfs wrote */
	int status;   /* mkfs's wait status */
	int unclaim;  /* 0, or the -errno of clearing the claim: zero it by hand */
	enum dvol_blk_format_fail fail;
};

/* Open the device for writing and write the claim: 0, or -errno with ->fail. */
int dvol_blk_format_claim(struct dvol_blk_format *f);
/* mkfs, the probe after it, the claim cleared (see ->unclaim): 0, or -errno with ->fail. */
int dvol_blk_format_run(struct dvol_blk_format *f);
void dvol_blk_format_done(struct dvol_blk_format *f);
