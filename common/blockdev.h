/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "blkdecide.h"
#include "spec.h"

/*
 * Local block devices: found by identity (sysfs attributes, libblkid tags), never by a
 * kernel name such as nvme1n1, which changes across boots; judged blank or not; locked
 * the way systemd and udev agree (flock on the whole-disk node).
 */

struct dvol_blk_dev {
	char *node;   /* /dev/nvme1n1, /dev/loop3: where it is now */
	dev_t devno;  /* checked against the node when it is opened */
	char *serial; /* NVMe controller serial, trimmed; NULL if none */
	char *model;  /* NVMe controller model, trimmed; NULL if none */
	unsigned nsid;
	uint64_t size; /* from sysfs when found; from the opened fd (BLKGETSIZE64) after */
	uint64_t
	    diskseq;	/* BLKGETDISKSEQ of the opened fd (per boot, for messages); 0 if unknown */
	char *ident;	/* stable identity of the opened device (see dvol_blk_open); "" if none */
	bool read_only; /* BLKROGET of the opened fd */
};
void dvol_blk_dev_done(struct dvol_blk_dev *d);

/* "serial DVOLSER1 (/dev/nvme1n1)", "UUID=... (/dev/loop3)" or the node: for messages.
 * Caller frees; NULL on -ENOMEM. */
char *dvol_blk_dev_describe(const struct dvol_blk_dev *d, const char *uuid);

/* Is MODEL (as sysfs reports it, maybe space padded) an ephemeral instance-store NVMe
 * model of a cloud (AWS, GCP, Azure)? Pure. */
bool dvol_nvme_model_is_instance_store(const char *model);

/*
 * Find the one block device SPEC names, waiting up to TIMEOUT_MS for it to appear.
 * 0 with *ret filled; -ENOENT when nothing matched in time; -ENOTUNIQ when several did
 * (then *ret_candidates lists them, one per line; caller frees); -ENOTBLK when a path
 * is not a block device; -ENAMETOOLONG at once for an NVMe serial longer than
 * DVOL_NVME_SERIAL_MAX or a model longer than DVOL_NVME_MODEL_MAX bytes.
 */
#define DVOL_NVME_SERIAL_MAX 20
#define DVOL_NVME_MODEL_MAX  40
int dvol_blk_find(const struct dvol_spec *spec, uint64_t timeout_ms, struct dvol_blk_dev *ret,
		  char **ret_candidates);

/*
 * Open the node read-only (O_CLOEXEC) and check it is still DEVNO: probes need no more,
 * and closing a writable fd makes udev probe the device again. What identifies the medium
 * is then read from the fd, not from the sysfs entry the node was found by: its size
 * (BLKGETSIZE64), diskseq (BLKGETDISKSEQ), read-only state (BLKROGET), and an identity
 * that survives a reboot (wwid; else controller serial and namespace; else a loop device's
 * backing file and offset; a partition adds its number and start to its disk's).
 */
int dvol_blk_open(struct dvol_blk_dev *d, int *ret_fd);

/* Open the node read-write (O_CLOEXEC), for a format only, and check it is still DEVNO
 * and of the size dvol_blk_open() read: -ESTALE if it is not. */
int dvol_blk_open_write(const struct dvol_blk_dev *d, int *ret_fd);

/* flock(LOCK_EX) on FD, retried until TIMEOUT_MS has passed (-ETIMEDOUT). */
int dvol_blk_lock(int fd, uint64_t timeout_ms);

/* Open the node with O_EXCL once: -EBUSY if it is mounted or held by md, dm or swap. */
int dvol_blk_check_exclusive(const struct dvol_blk_dev *d);

enum dvol_blk_state {
	DVOL_BLK_BLANK, /* nothing found, and the first and last MiB are zeros */
	DVOL_BLK_FS,	/* a filesystem dvol can mount */
	DVOL_BLK_DATA,	/* no signature, but non-zero data */
	DVOL_BLK_OTHER, /* anything else: a reason in .what */
};

struct dvol_blk_verdict {
	enum dvol_blk_state state;
	char *fstype; /* FS: blkid TYPE */
	char *uuid;
	char *label;
	char what[256]; /* what was found, or why it is blank, in words */
};
void dvol_blk_verdict_done(struct dvol_blk_verdict *v);

/*
 * The blank verdict for the open device FD: holders and partitions in sysfs, libblkid's
 * safe probe with superblocks and partition tables (any error or ambiguity is "not
 * blank"), and, unless SKIP_ZERO_CHECK, the first and last MiB read back as zeros.
 * 0 with *ret filled (whatever the verdict), or -errno when it could not be judged at all.
 */
int dvol_blk_probe(int fd, const struct dvol_blk_dev *d, bool skip_zero_check,
		   struct dvol_blk_verdict *ret);

/* Are all N bytes of BUF zero? Pure. */
bool dvol_buf_is_zero(const void *buf, size_t n);

/*
 * The claim of a format on the medium itself (see blkdecide.h). Read: both copies
 * classified into RET (-ERANGE: the device is too small to carry one). Write: both copies,
 * then fdatasync, through FD (the locked one). Clear: zero each copy that still holds a
 * claim with UUID, never a block mkfs has written since; the number cleared, or -errno.
 */
int dvol_blk_claim_read(int fd, const struct dvol_blk_dev *d, struct dvol_claim_read ret[2]);
int dvol_blk_claim_write(int fd, const struct dvol_blk_dev *d, const struct dvol_claim *c);
int dvol_blk_claim_clear(int fd, const struct dvol_blk_dev *d, const char *uuid);
