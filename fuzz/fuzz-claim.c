/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the format claim read back from arbitrary on-disk bytes, and the blank
 * verdict decided from what was read. Input: a flags byte, 8 bytes of device size, then
 * the head and the tail copy (DVOL_CLAIM_SIZE bytes each, zero-padded). Flag bit 0 gives
 * each copy a valid CRC, so that the fields behind it are reached too; the other bits
 * choose the remaining facts of the decision.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blkdecide.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fstypes[] = {NULL, "ext4", "xfs", "btrfs"};

static void fix_crc(unsigned char *b)
{
	uint32_t crc = dvol_crc32(b, 248);

	for (int i = 0; i < 4; i++)
		b[248 + i] = (unsigned char)(crc >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char copy[2][DVOL_CLAIM_SIZE] = {{0}};
	struct dvol_claim_read rd[2];
	struct dvol_claim ours = {0};
	struct dvol_blk_facts f = {0};
	struct dvol_blk_decision d;
	uint64_t dsize = 0, off[2] = {0, 0};
	unsigned flags;
	enum dvol_claim_state st;
	unsigned char enc[DVOL_CLAIM_SIZE];

	if (size < 9)
		return 0;
	flags = data[0];
	memcpy(&dsize, data + 1, 8);
	data += 9;
	size -= 9;
	memcpy(copy, data, size < sizeof(copy) ? size : sizeof(copy));
	if (flags & 1) {
		fix_crc(copy[0]);
		fix_crc(copy[1]);
	}
	if (dvol_claim_offsets(dsize, off) == 0 && (off[1] >= dsize || off[1] % 4096))
		abort();
	for (int i = 0; i < 2; i++) {
		dvol_claim_classify(copy[i], off[i], dsize, "fuzz-ident", &rd[i]);
		if (rd[i].kind > DVOL_COPY_OTHER)
			abort();
		if ((rd[i].kind == DVOL_COPY_CLAIM || rd[i].kind == DVOL_COPY_STALE) &&
		    (memchr(rd[i].claim.fstype, 0, sizeof(rd[i].claim.fstype)) == NULL ||
		     memchr(rd[i].claim.uuid, 0, sizeof(rd[i].claim.uuid)) == NULL ||
		     memchr(rd[i].claim.ident, 0, sizeof(rd[i].claim.ident)) == NULL))
			abort();
		/* What was read as ours encodes back to the very same bytes. */
		if (rd[i].kind == DVOL_COPY_CLAIM &&
		    (dvol_claim_encode(&rd[i].claim, off[i], enc) != 0 ||
		     memcmp(enc, copy[i], sizeof(enc)) != 0))
			abort();
	}
	st = dvol_claim_combine(rd, &ours);
	if (!dvol_claim_state_to_string(st))
		abort();
	if (st == DVOL_CLAIM_OURS && dvol_claim_encode(&ours, off[0], enc) != 0)
		abort();

	f.mkfs = fstypes[(flags >> 1) & 3];
	f.first = (enum dvol_blk_kind)((flags >> 3) & 3);
	f.kind = (enum dvol_blk_kind)(((flags >> 5) & 3) ^ (unsigned)(dsize & 3));
	f.fstype = fstypes[(dsize >> 2) & 3];
	f.uuid = rd[0].kind == DVOL_COPY_XFS_SB ? rd[0].uuid : NULL;
	f.claim = st;
	f.claimed = st == DVOL_CLAIM_OURS ? &ours : NULL;
	f.read_only = flags & 0x80;
	f.in_use = (dsize >> 4) & 1;
	if (f.kind == DVOL_KIND_FS && !f.fstype)
		f.fstype = "ext4";
	d = dvol_blk_decide(&f);
	if (!dvol_blk_action_to_string(d.action))
		abort();
	/* Never a format without mkfs=, of a read-only or held device, of anything but a
	 * blank device seen blank twice, or of anything but dvol's own unfinished format. */
	if ((d.action == DVOL_ACT_FORMAT || d.action == DVOL_ACT_REDO) &&
	    (!f.mkfs || f.read_only || f.in_use || f.kind == DVOL_KIND_OTHER))
		abort();
	if (d.action == DVOL_ACT_FORMAT &&
	    (f.kind != DVOL_KIND_BLANK || f.first != DVOL_KIND_BLANK || st != DVOL_CLAIM_NONE))
		abort();
	if (d.action == DVOL_ACT_REDO &&
	    (st != DVOL_CLAIM_OURS || strcmp(f.mkfs, ours.fstype) != 0))
		abort();
	return 0;
}
