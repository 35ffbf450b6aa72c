/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <strings.h>
#include <string.h>

#include "blkdecide.h"
#include "cleanup.h"
#include "strv.h"

#define KIB UINT64_C(1024)
#define MIB (KIB * 1024)

/* The record, little-endian, at fixed offsets. Bytes 252-511 stay zero: in the first
 * sector that keeps the MBR signature (510-511) and its table empty, so that libblkid
 * never takes a claim for a partition table. */
#define MAGIC	  "DVOL-MKFS-CLAIM"
#define O_MAGIC	  0   /* 16 bytes, NUL padded */
#define O_VERSION 16  /* le32 */
#define O_SIZE	  24  /* le64: the device's size */
#define O_OFFSET  32  /* le64: where this copy is */
#define O_FSTYPE  40  /* 8 bytes */
#define O_UUID	  48  /* 40 bytes */
#define O_IDENT	  88  /* 160 bytes */
#define O_CRC	  248 /* le32 over bytes 0-247 */
#define O_END	  252

int dvol_claim_offsets(uint64_t size, uint64_t ret[2])
{
	uint64_t end = size & ~(uint64_t)(4 * KIB - 1);

	if (size < (uint64_t)DVOL_CLAIM_MIN_DEVSIZE)
		return -ERANGE;
	ret[0] = 0;
	ret[1] = end - 768 * KIB;
	return 0;
}

uint32_t dvol_crc32(const void *buf, size_t n)
{
	const unsigned char *p = buf;
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_le32(const unsigned char *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t get_le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* A NUL-terminated string of at most MAX bytes in a field of MAX+1 bytes, zero padded. */
static bool get_str(const unsigned char *p, size_t max, char *ret)
{
	size_t n = strnlen((const char *)p, max + 1);

	if (n > max)
		return false;
	for (size_t i = n; i <= max; i++)
		if (p[i])
			return false;
	memcpy(ret, p, n);
	ret[n] = 0;
	return true;
}

int dvol_claim_encode(const struct dvol_claim *c, uint64_t offset, void *buf)
{
	unsigned char *b = buf;

	if (strlen(c->fstype) > DVOL_CLAIM_FSTYPE_MAX || strlen(c->uuid) > DVOL_CLAIM_UUID_MAX ||
	    strlen(c->ident) > DVOL_CLAIM_IDENT_MAX || !c->uuid[0] || !c->fstype[0])
		return -EINVAL;
	memset(b, 0, DVOL_CLAIM_SIZE);
	memcpy(b + O_MAGIC, MAGIC, sizeof(MAGIC) - 1);
	put_le32(b + O_VERSION, DVOL_CLAIM_VERSION);
	put_le64(b + O_SIZE, c->size);
	put_le64(b + O_OFFSET, offset);
	memcpy(b + O_FSTYPE, c->fstype, strlen(c->fstype));
	memcpy(b + O_UUID, c->uuid, strlen(c->uuid));
	memcpy(b + O_IDENT, c->ident, strlen(c->ident));
	put_le32(b + O_CRC, dvol_crc32(b, O_CRC));
	return 0;
}

static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* An xfs superblock: "XFSB", then sb_uuid (16 bytes) at offset 32, printed as libblkid
 * prints it. */
static bool xfs_sb_uuid(const unsigned char *b, char ret[DVOL_CLAIM_UUID_MAX + 1])
{
	const unsigned char *u = b + 32;

	if (memcmp(b, "XFSB", 4) != 0)
		return false;
	snprintf(ret, DVOL_CLAIM_UUID_MAX + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
		 u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
		 u[15]);
	return true;
}

void dvol_claim_classify(const void *buf, uint64_t offset, uint64_t size, const char *ident,
			 struct dvol_claim_read *ret)
{
	const unsigned char *b = buf;
	struct dvol_claim *c = &ret->claim;
	unsigned char again[DVOL_CLAIM_SIZE];

	*ret = (struct dvol_claim_read){.kind = DVOL_COPY_OTHER};
	if (all_zero(b, DVOL_CLAIM_SIZE)) {
		ret->kind = DVOL_COPY_ZERO;
		return;
	}
	if (offset == 0 && xfs_sb_uuid(b, ret->uuid)) {
		ret->kind = DVOL_COPY_XFS_SB;
		return;
	}
	if (memcmp(b + O_MAGIC, MAGIC, sizeof(MAGIC)) != 0 ||
	    get_le32(b + O_VERSION) != DVOL_CLAIM_VERSION ||
	    get_le32(b + O_CRC) != dvol_crc32(b, O_CRC) ||
	    !all_zero(b + O_END, DVOL_CLAIM_SIZE - O_END) ||
	    !get_str(b + O_FSTYPE, DVOL_CLAIM_FSTYPE_MAX, c->fstype) ||
	    !get_str(b + O_UUID, DVOL_CLAIM_UUID_MAX, c->uuid) ||
	    !get_str(b + O_IDENT, DVOL_CLAIM_IDENT_MAX, c->ident) || !c->uuid[0] || !c->fstype[0]) {
		*c = (struct dvol_claim){0};
		return;
	}
	c->size = get_le64(b + O_SIZE);
	/* Only the very bytes dvol writes are its claim: nothing in the gaps between the
	 * fields, nor after a string's NUL. */
	if (dvol_claim_encode(c, get_le64(b + O_OFFSET), again) != 0 ||
	    memcmp(again, b, DVOL_CLAIM_SIZE) != 0) {
		*c = (struct dvol_claim){0};
		return;
	}
	/* The device it was written on: the same size, identity and place, or a claim that
	 * moved (a loop offset changed, a dm table reloaded, a namespace re-provisioned). */
	ret->kind = c->size == size && get_le64(b + O_OFFSET) == offset &&
			    strcmp(c->ident, ident ? ident : "") == 0
			? DVOL_COPY_CLAIM
			: DVOL_COPY_STALE;
}

static bool same_claim(const struct dvol_claim *a, const struct dvol_claim *b)
{
	return strcmp(a->fstype, b->fstype) == 0 && strcmp(a->uuid, b->uuid) == 0 &&
	       a->size == b->size && strcmp(a->ident, b->ident) == 0;
}

enum dvol_claim_state dvol_claim_combine(const struct dvol_claim_read copies[2],
					 struct dvol_claim *ret_claim)
{
	const struct dvol_claim *c = NULL;

	for (size_t i = 0; i < 2; i++)
		if (copies[i].kind == DVOL_COPY_STALE)
			return DVOL_CLAIM_FOREIGN;
	for (size_t i = 0; i < 2; i++) {
		if (copies[i].kind != DVOL_COPY_CLAIM)
			continue;
		if (c && !same_claim(c, &copies[i].claim))
			return DVOL_CLAIM_DAMAGED;
		c = &copies[i].claim;
	}
	if (!c)
		return DVOL_CLAIM_NONE;
	/* Every other copy must be what the claimed format itself leaves there. */
	for (size_t i = 0; i < 2; i++)
		switch (copies[i].kind) {
		case DVOL_COPY_CLAIM:
		case DVOL_COPY_ZERO:
			break;
		case DVOL_COPY_XFS_SB:
			if (i != 0 || strcmp(c->fstype, "xfs") != 0 ||
			    strcasecmp(copies[i].uuid, c->uuid) != 0)
				return DVOL_CLAIM_DAMAGED;
			break;
		default:
			return DVOL_CLAIM_DAMAGED;
		}
	if (ret_claim)
		*ret_claim = *c;
	return DVOL_CLAIM_OURS;
}

const char *dvol_claim_state_to_string(enum dvol_claim_state s)
{
	static const char *const names[] = {
	    [DVOL_CLAIM_NONE] = "none",
	    [DVOL_CLAIM_OURS] = "an unfinished format of dvol's own",
	    [DVOL_CLAIM_FOREIGN] = "a claim written for another device, size or place",
	    [DVOL_CLAIM_DAMAGED] = "a claim partly overwritten since",
	};

	return (unsigned)s < ELEMENTSOF(names) ? names[s] : "?";
}

static struct dvol_blk_decision act(enum dvol_blk_action a, enum dvol_blk_reason r)
{
	return (struct dvol_blk_decision){.action = a, .reason = r};
}

struct dvol_blk_decision dvol_blk_decide(const struct dvol_blk_facts *f)
{
	const struct dvol_claim *c = f->claimed;

	switch (f->claim) {
	case DVOL_CLAIM_FOREIGN:
		return act(DVOL_ACT_REFUSE, DVOL_WHY_CLAIM_FOREIGN);
	case DVOL_CLAIM_DAMAGED:
		return act(DVOL_ACT_REFUSE, DVOL_WHY_CLAIM_DAMAGED);
	case DVOL_CLAIM_OURS:
		/* Only what the claimed format itself may have left: nothing yet, its partial
		 * work without a signature, or its filesystem with the claimed UUID. */
		if (!c ||
		    !(f->kind == DVOL_KIND_BLANK || f->kind == DVOL_KIND_DATA ||
		      (f->kind == DVOL_KIND_FS && f->fstype && f->uuid &&
		       strcmp(f->fstype, c->fstype) == 0 && strcasecmp(f->uuid, c->uuid) == 0)))
			return act(DVOL_ACT_REFUSE, DVOL_WHY_CLAIM_CONTENT);
		if (!f->mkfs)
			return act(DVOL_ACT_REFUSE, DVOL_WHY_CLAIM_NO_MKFS);
		if (strcmp(f->mkfs, c->fstype) != 0)
			return act(DVOL_ACT_REFUSE, DVOL_WHY_CLAIM_FSTYPE);
		if (f->read_only)
			return act(DVOL_ACT_REFUSE, DVOL_WHY_READ_ONLY);
		if (f->in_use)
			return act(DVOL_ACT_REFUSE, DVOL_WHY_IN_USE);
		return act(DVOL_ACT_REDO, DVOL_WHY_CLAIM);
	case DVOL_CLAIM_NONE:
		break;
	}

	switch (f->kind) {
	case DVOL_KIND_FS:
		if (f->mkfs && (!f->fstype || strcmp(f->fstype, f->mkfs) != 0))
			return act(DVOL_ACT_REFUSE, DVOL_WHY_FS_MISMATCH);
		return act(DVOL_ACT_MOUNT, DVOL_WHY_FS);
	case DVOL_KIND_BLANK:
		if (f->first != DVOL_KIND_BLANK)
			return act(DVOL_ACT_REFUSE, DVOL_WHY_PROBES_DISAGREE);
		if (!f->mkfs)
			return act(DVOL_ACT_REFUSE, DVOL_WHY_NO_MKFS);
		if (f->read_only)
			return act(DVOL_ACT_REFUSE, DVOL_WHY_READ_ONLY);
		if (f->in_use)
			return act(DVOL_ACT_REFUSE, DVOL_WHY_IN_USE);
		return act(DVOL_ACT_FORMAT, DVOL_WHY_BLANK);
	case DVOL_KIND_DATA:
		return act(DVOL_ACT_REFUSE, DVOL_WHY_DATA);
	case DVOL_KIND_OTHER:
	default:
		return act(DVOL_ACT_REFUSE, DVOL_WHY_OTHER);
	}
}

const char *dvol_blk_action_to_string(enum dvol_blk_action a)
{
	static const char *const names[] = {
	    [DVOL_ACT_MOUNT] = "mount",
	    [DVOL_ACT_FORMAT] = "format",
	    [DVOL_ACT_REDO] = "format again",
	    [DVOL_ACT_REFUSE] = "refuse",
	};

	return (unsigned)a < ELEMENTSOF(names) ? names[a] : "?";
}

int dvol_blk_explain(enum dvol_blk_reason reason, const struct dvol_blk_words *w, char **ret_text)
{
	static const struct dvol_claim none = {.fstype = "?", .uuid = "?"};
	const struct dvol_claim *c = w->claimed ? w->claimed : &none;
	const char *mkfs = w->mkfs ? w->mkfs : "?", *node = w->node, *desc = w->desc;
	const char *verb = w->mkfs ? "format" : "mount";
	char *t = NULL;
	int r;

	switch (reason) {
	case DVOL_WHY_FS:
	case DVOL_WHY_BLANK:
		*ret_text = NULL;
		return 0;
	case DVOL_WHY_CLAIM:
		(void)dvol_strextendf(
		    &t, NULL,
		    "%s: dvol's format as %s (UUID=%s) was started earlier and did not "
		    "finish; its claim is on the medium and nothing else was found (%s): "
		    "formatting it again",
		    desc, c->fstype, c->uuid, w->what);
		r = 0;
		break;
	case DVOL_WHY_FS_MISMATCH:
		(void)dvol_strextendf(
		    &t, NULL,
		    "%s holds an %s, but mkfs=%s was asked; dvol never formats over a "
		    "filesystem: mount it as it is (drop mkfs=, or use mkfs=%s), or wipe it "
		    "yourself first (wipefs -a %s)",
		    desc, w->what, mkfs, w->fstype ? w->fstype : "?", node);
		r = -EMEDIUMTYPE;
		break;
	case DVOL_WHY_NO_MKFS:
		(void)dvol_strextendf(
		    &t, NULL,
		    "%s is blank (%s) and no mkfs= was given; add -o mkfs=xfs or mkfs=ext4 "
		    "to format it",
		    desc, w->what);
		r = -ENOMEDIUM;
		break;
	case DVOL_WHY_PROBES_DISAGREE:
		(void)dvol_strextendf(
		    &t, NULL,
		    "%s: two probes disagree (first %s, then %s); refusing to format a "
		    "device that does not read the same twice",
		    desc, w->first, w->what);
		r = -EIO;
		break;
	case DVOL_WHY_DATA:
		(void)dvol_strextendf(
		    &t, NULL,
		    "refusing to %s %s: found %s. It may hold data that libblkid does not "
		    "recognize. If it really holds nothing, zero it (blkdiscard -z %s) or add "
		    "the option mkfs-ignore-nonzero-data",
		    verb, desc, w->what, node);
		r = -EMEDIUMTYPE;
		break;
	case DVOL_WHY_OTHER:
		(void)dvol_strextendf(
		    &t, NULL,
		    "refusing to %s %s: found %s. dvol formats only blank devices and "
		    "mounts only filesystems; to reuse this device, wipe it yourself first "
		    "(wipefs -a %s)",
		    verb, desc, w->what, node);
		r = -EMEDIUMTYPE;
		break;
	case DVOL_WHY_CLAIM_NO_MKFS:
		(void)dvol_strextendf(
		    &t, NULL,
		    "%s holds dvol's unfinished format as %s (UUID=%s; %s); add -o mkfs=%s "
		    "to format it again",
		    desc, c->fstype, c->uuid, w->what, c->fstype);
		r = -EMEDIUMTYPE;
		break;
	case DVOL_WHY_CLAIM_FSTYPE:
		(void)dvol_strextendf(
		    &t, NULL,
		    "%s holds dvol's unfinished format as %s (UUID=%s), but mkfs=%s was "
		    "asked; use mkfs=%s to finish it, or zero the device first "
		    "(blkdiscard -z %s)",
		    desc, c->fstype, c->uuid, mkfs, c->fstype, node);
		r = -EMEDIUMTYPE;
		break;
	case DVOL_WHY_CLAIM_CONTENT:
		(void)dvol_strextendf(
		    &t, NULL,
		    "refusing to %s %s: it carries dvol's claim of an unfinished format as "
		    "%s (UUID=%s), but now holds %s, which that format did not write. Keep "
		    "it by mounting it with mount(8) yourself; to reuse the device, zero it "
		    "(blkdiscard -z %s)",
		    verb, desc, c->fstype, c->uuid, w->what, node);
		r = -EMEDIUMTYPE;
		break;
	case DVOL_WHY_CLAIM_FOREIGN:
		(void)dvol_strextendf(
		    &t, NULL,
		    "refusing to %s %s: it carries a format claim of dvol's written for "
		    "another device, size or place (resized, moved behind another offset, or "
		    "remapped since); what it holds now may be data. Check it; to reuse the "
		    "device, zero it (blkdiscard -z %s)",
		    verb, desc, node);
		r = -EMEDIUMTYPE;
		break;
	case DVOL_WHY_CLAIM_DAMAGED:
		(void)dvol_strextendf(
		    &t, NULL,
		    "refusing to %s %s: it carries a format claim of dvol's that was partly "
		    "overwritten since, so it may hold data written after that format "
		    "stopped. Check it; to reuse the device, zero it (blkdiscard -z %s)",
		    verb, desc, node);
		r = -EMEDIUMTYPE;
		break;
	case DVOL_WHY_READ_ONLY:
		(void)dvol_strextendf(
		    &t, NULL,
		    "%s is read-only (write-protected) and cannot be formatted; make it "
		    "writable (blockdev --setrw %s, or a loop device without -r) or mount "
		    "what it holds",
		    desc, node);
		r = -EROFS;
		break;
	case DVOL_WHY_IN_USE:
		(void)dvol_strextendf(
		    &t, NULL,
		    "%s is in use (mounted, or held by md, dm or swap): refusing to format "
		    "it",
		    desc);
		r = -EBUSY;
		break;
	default:
		(void)dvol_strextendf(&t, NULL, "%s: no words for reason %d", desc, (int)reason);
		r = -EINVAL;
		break;
	}
	if (!t)
		return -ENOMEM;
	*ret_text = t;
	return r;
}
