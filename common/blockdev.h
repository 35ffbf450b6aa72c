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
	    diskseq;	 /* BLKGETDISKSEQ of the opened fd (per boot, for messages); 0 if unknown */
	char *ident;	 /* stable identity of the opened device (see dvol_blk_open); "" if none */
	bool read_only;	 /* BLKROGET of the opened fd */
	char *found_via; /* nvme:instance-store: the udev name it was found by, or the table */
};
void dvol_blk_dev_done(struct dvol_blk_dev *d);

/* "serial DVOLSER1 (/dev/nvme1n1)", "UUID=... (/dev/loop3)" or the node: for messages.
 * Caller frees; NULL on -ENOMEM. */
char *dvol_blk_dev_describe(const struct dvol_blk_dev *d, const char *uuid);

/* What sysfs says of the block device with kernel name NAME ("nvme1n1", as udev's %k):
 * -EINVAL for a name that is not one path component, -ENOENT if there is none. */
int dvol_blk_dev_from_name(const char *name, struct dvol_blk_dev *ret);

/* The tags libblkid's safe probe reads on NODE (each NULL when absent). */
struct dvol_blk_tags {
	char *type, *uuid, *label, *partuuid, *partlabel;
};
int dvol_blk_read_tags(const char *node, struct dvol_blk_tags *ret);
void dvol_blk_tags_done(struct dvol_blk_tags *t);

/* Is MODEL (as sysfs reports it, maybe space padded) an ephemeral instance-store NVMe
 * model of a cloud (AWS, GCP, Azure)? Pure. The built-in table, for where udev's
 * /dev/disk/by-dvol/instance-store/ names are not made (see dvol_blk_find()). */
bool dvol_nvme_model_is_instance_store(const char *model);

/* That table: fnmatch(3) patterns, NULL-terminated, the same list as udev/60-dvol.rules. */
const char *const *dvol_nvme_instance_store_models(void);

/* Where udev/60-dvol.rules makes its names: serial/ and instance-store/. */
#define DVOL_BY_DVOL_DIR "/dev/disk/by-dvol"

/*
 * Find the one block device SPEC names, waiting up to TIMEOUT_MS for it to appear.
 * 0 with *ret filled; -ENOENT when nothing matched in time; -ENOTUNIQ when several did
 * (then *ret_candidates lists them, one per line; caller frees); -ENOTBLK when a path
 * is not a block device; -ENAMETOOLONG at once for an NVMe serial longer than
 * DVOL_NVME_SERIAL_MAX or a model longer than DVOL_NVME_MODEL_MAX bytes.
 * nvme:instance-store is what udev names in DVOL_BY_DVOL_DIR/instance-store/ where udev
 * makes dvol names at all (DVOL_BY_DVOL_DIR exists), else what the built-in table says of
 * each NVMe model; ->found_via says which.
 */
#define DVOL_NVME_SERIAL_MAX 20
#define DVOL_NVME_MODEL_MAX  40
int dvol_blk_find(const struct dvol_spec *spec, uint64_t timeout_ms, struct dvol_blk_dev *ret,
		  char **ret_candidates);

/*
 * Every instance-store NVMe namespace (the rule of nvme:instance-store), in the order of
 * their serials and namespace ids, waiting up to TIMEOUT_MS until there are at least WANT
 * (at least one if 0) and udev's event queue is empty, so that drives still coming up are
 * counted. 0 with *ret (free with dvol_blk_devs_free()), also when fewer than WANT came
 * in time; -ENOENT when none did.
 */
int dvol_blk_find_instance_stores(uint64_t timeout_ms, unsigned want, struct dvol_blk_dev **ret,
				  size_t *ret_n);
void dvol_blk_devs_free(struct dvol_blk_dev *v, size_t n);

/* The md array that holds D (sysfs holders/): 1 with *ret_md its kernel name ("md127"),
 * 0 if nothing holds it, -EBUSY if something other than md does. */
int dvol_blk_md_holder(const struct dvol_blk_dev *d, char **ret_md);

/* What sysfs says of the md array MD ("md127"): whether it runs (array_state neither
 * "inactive" nor "clear"), and its members' kernel names (slaves/, NULL-terminated, free
 * with dvol_strv_free()). */
int dvol_md_read(const char *md, bool *ret_running, char ***ret_members);

/*
 * Open the node read-only (O_CLOEXEC) and check it is still DEVNO: probes need no more,
 * and closing a writable fd makes udev probe the device again. What identifies the medium
 * is then read from the fd, not from the sysfs entry the node was found by: its size
 * (BLKGETSIZE64), diskseq (BLKGETDISKSEQ), read-only state (BLKROGET), and an identity
 * that survives a reboot (an md array's UUID; wwid; else controller serial and namespace; else a
 * loop device's backing file and offset; a partition adds its number and start to its disk's).
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
	bool md_member; /* an md RAID member's superblock (uuid, label: the array's) */
	bool held;	/* no signature, but something holds it (sysfs holders/) */
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
