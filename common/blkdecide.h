/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * What to do with a local block device, decided from facts already probed, and the claim
 * record that lets a format interrupted at any point (a killed helper, a killed mkfs, a
 * power loss) be told apart from data. Everything here is pure: no I/O, no logging.
 *
 * Before mkfs, dvol writes a claim (magic, version, fstype, the UUID it gives mkfs, the
 * device's size, the copy's own offset, the device's identity, a CRC) in two places on
 * the medium itself and syncs it:
 *   - head: the first sector (bytes 0-511). mkfs.ext4 zeroes it at once and never writes
 *     it again; mkfs.xfs zeroes it at once and then writes its superblock there, which
 *     carries the UUID dvol chose;
 *   - tail: 768 KiB before the end (4 KiB aligned): in the zero-checked last MiB, but
 *     outside what mkfs.ext4 (the last 64 KiB) and mkfs.xfs (the last 128 KiB) zero, and
 *     measured untouched by either from 64 MiB to 4 TiB.
 * So at every point of a format each copy is either the claim, zeros, or (head, xfs) a
 * superblock with the claimed UUID; and anything else found there was written by someone
 * else after the format stopped.
 */

#define DVOL_CLAIM_SIZE	       512u
#define DVOL_CLAIM_VERSION     1u
#define DVOL_CLAIM_UUID_MAX    36u
#define DVOL_CLAIM_FSTYPE_MAX  7u
#define DVOL_CLAIM_IDENT_MAX   159u
#define DVOL_CLAIM_MIN_DEVSIZE (4u * 1024 * 1024)

struct dvol_claim {
	char fstype[DVOL_CLAIM_FSTYPE_MAX + 1];
	char uuid[DVOL_CLAIM_UUID_MAX + 1];
	uint64_t size;			      /* the device's size in bytes when claimed */
	char ident[DVOL_CLAIM_IDENT_MAX + 1]; /* wwid, serial/nsid, loop file@offset, or "" */
};

/* Where the two copies go on a device of SIZE bytes: 0 and 2 offsets, or -ERANGE for a
 * device too small to hold them apart from each other (then nothing is claimed). */
int dvol_claim_offsets(uint64_t size, uint64_t ret[2]);

/* CRC-32 (IEEE 802.3, as zlib's crc32()). */
uint32_t dvol_crc32(const void *buf, size_t n);

/* Encode C as the copy that lives at OFFSET into BUF (DVOL_CLAIM_SIZE bytes). -EINVAL if a
 * field does not fit. */
int dvol_claim_encode(const struct dvol_claim *c, uint64_t offset, void *buf);

enum dvol_claim_copy {
	DVOL_COPY_ZERO,	  /* all zeros: never claimed, cleared, or zeroed by mkfs */
	DVOL_COPY_CLAIM,  /* a well-formed claim for this device, at this offset */
	DVOL_COPY_STALE,  /* a well-formed claim, but for another size, identity or offset */
	DVOL_COPY_XFS_SB, /* an xfs superblock (head copy only): its UUID in .uuid */
	DVOL_COPY_OTHER,  /* anything else */
};

struct dvol_claim_read {
	enum dvol_claim_copy kind;
	struct dvol_claim claim;	    /* CLAIM, STALE */
	char uuid[DVOL_CLAIM_UUID_MAX + 1]; /* XFS_SB */
};

/* Classify the DVOL_CLAIM_SIZE bytes BUF read at OFFSET of a device of SIZE bytes whose
 * identity is IDENT. */
void dvol_claim_classify(const void *buf, uint64_t offset, uint64_t size, const char *ident,
			 struct dvol_claim_read *ret);

enum dvol_claim_state {
	DVOL_CLAIM_NONE,    /* no claim: the device is judged as it is */
	DVOL_CLAIM_OURS,    /* an unfinished format of dvol's own, and nothing else on the copies */
	DVOL_CLAIM_FOREIGN, /* a claim for another device, size or place: moved, resized */
	DVOL_CLAIM_DAMAGED, /* a claim, but a copy was overwritten since by someone else */
};

/* The two copies (head, tail) taken together; *ret_claim is set for OURS. Pure. */
enum dvol_claim_state dvol_claim_combine(const struct dvol_claim_read copies[2],
					 struct dvol_claim *ret_claim);
const char *dvol_claim_state_to_string(enum dvol_claim_state s);

/* --- the decision ---------------------------------------------------------------------- */

enum dvol_blk_kind {
	DVOL_KIND_BLANK, /* no signature, no partitions, no holders, zeros where checked */
	DVOL_KIND_FS,	 /* a filesystem dvol can mount */
	DVOL_KIND_DATA,	 /* no signature, but non-zero data */
	DVOL_KIND_OTHER, /* a partition table, LUKS, md, LVM, swap, a probe error... */
};

struct dvol_blk_facts {
	const char *mkfs;	  /* mkfs= asked, or NULL */
	enum dvol_blk_kind first; /* the probe before the lock */
	enum dvol_blk_kind kind;  /* the probe under the lock */
	const char *fstype;	  /* FS: its type */
	const char *uuid;	  /* FS: its UUID, or NULL */
	enum dvol_claim_state claim;
	const struct dvol_claim *claimed; /* OURS: what was claimed */
	bool read_only;			  /* BLKROGET */
	bool in_use; /* O_EXCL failed with EBUSY (only asked before a format) */
};

enum dvol_blk_action {
	DVOL_ACT_MOUNT,	 /* mount the filesystem there */
	DVOL_ACT_FORMAT, /* blank: claim, mkfs, mount */
	DVOL_ACT_REDO,	 /* dvol's own unfinished format: claim again, mkfs -f, mount */
	DVOL_ACT_REFUSE,
};

enum dvol_blk_reason {
	DVOL_WHY_FS,		  /* MOUNT: the filesystem asked for (or any, without mkfs=) */
	DVOL_WHY_BLANK,		  /* FORMAT */
	DVOL_WHY_CLAIM,		  /* REDO */
	DVOL_WHY_FS_MISMATCH,	  /* REFUSE: a filesystem other than mkfs= */
	DVOL_WHY_NO_MKFS,	  /* REFUSE: blank, no mkfs= */
	DVOL_WHY_PROBES_DISAGREE, /* REFUSE: blank under the lock, not blank before */
	DVOL_WHY_DATA,		  /* REFUSE: non-zero data without a signature */
	DVOL_WHY_OTHER,		  /* REFUSE: see the verdict's words */
	DVOL_WHY_CLAIM_NO_MKFS,	  /* REFUSE: an unfinished format, and no mkfs= to finish it */
	DVOL_WHY_CLAIM_FSTYPE,	  /* REFUSE: an unfinished format as another fstype */
	DVOL_WHY_CLAIM_CONTENT,	  /* REFUSE: a claim, but the device holds something not ours */
	DVOL_WHY_CLAIM_FOREIGN,	  /* REFUSE: a claim for another device, size or place */
	DVOL_WHY_CLAIM_DAMAGED,	  /* REFUSE: a claim copy overwritten by someone else */
	DVOL_WHY_READ_ONLY,	  /* REFUSE: a format asked of a read-only device */
	DVOL_WHY_IN_USE,	  /* REFUSE: a format asked of a device someone holds */
	_DVOL_WHY_MAX,
};

struct dvol_blk_decision {
	enum dvol_blk_action action;
	enum dvol_blk_reason reason;
};

/* Pure: every combination of facts has exactly one answer (see test-blkdecide). */
struct dvol_blk_decision dvol_blk_decide(const struct dvol_blk_facts *f);
const char *dvol_blk_action_to_string(enum dvol_blk_action a);

/* What a message about a decision names: the helper's words for the facts. */
struct dvol_blk_words {
	const char *desc;		  /* the device by identity: "serial S (/dev/nvme1n1)" */
	const char *node;		  /* its /dev path, for the commands suggested */
	const char *mkfs;		  /* mkfs= asked, or NULL */
	const char *first;		  /* the probe before the lock, in words */
	const char *what;		  /* the probe under the lock, in words */
	const char *fstype;		  /* ...its filesystem type, if any */
	const struct dvol_claim *claimed; /* OURS: what was claimed */
};

/*
 * The one place a decision becomes words: what was found, why, and what to do. *ret_text
 * (caller frees) is the message, or NULL for a reason that needs none (FS, BLANK). Returns
 * the -errno the reason is as a failure, 0 for one that goes ahead (FS, BLANK, CLAIM), or
 * -ENOMEM.
 */
int dvol_blk_explain(enum dvol_blk_reason reason, const struct dvol_blk_words *w, char **ret_text);
