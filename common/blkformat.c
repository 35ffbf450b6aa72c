/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "blkdecide.h"
#include "blkformat.h"
#include "cleanup.h"
#include "mkfs.h"

int dvol_blk_format_claim(struct dvol_blk_format *f)
{
	struct dvol_claim claim = {.size = f->dev->size};
	int r;

	snprintf(claim.fstype, sizeof(claim.fstype), "%s", f->fstype);
	snprintf(claim.uuid, sizeof(claim.uuid), "%s", f->uuid);
	snprintf(claim.ident, sizeof(claim.ident), "%s", f->dev->ident ? f->dev->ident : "");
	/* Checked to be the same device as the locked one. */
	r = dvol_blk_open_write(f->dev, &f->wfd);
	if (r < 0) {
		f->fail = DVOL_FORMAT_OPEN;
		return r;
	}
	r = dvol_blk_claim_write(f->wfd, f->dev, &claim);
	f->claimed = r >= 0;
	if (r == -ERANGE)
		return 0;
	if (r < 0)
		f->fail = DVOL_FORMAT_CLAIM;
	return r;
}

static void unclaim(struct dvol_blk_format *f)
{
	int r = dvol_blk_claim_clear(f->wfd, f->dev, f->uuid);

	f->unclaim = r < 0 ? r : 0;
}

int dvol_blk_format_run(struct dvol_blk_format *f)
{
	struct dvol_blk_verdict after = {0};
	int r;

	r = dvol_mkfs_run(f->argv, f->fd, f->timeout_ms, &f->output, &f->status);
	if (r == -EPROTO && WIFSIGNALED(f->status)) {
		f->fail = DVOL_FORMAT_KILLED;
		return r;
	}
	if (r < 0) {
		unclaim(f);
		f->fail = r == -ETIMEDOUT ? DVOL_FORMAT_TIMEOUT
			  : r == -EPROTO  ? DVOL_FORMAT_EXIT
					  : DVOL_FORMAT_RUN;
		return r;
	}

	/* Believe the device, not mkfs's exit status. */
	r = dvol_blk_probe(f->fd, f->dev, true, &after);
	if (r >= 0 && (after.state != DVOL_BLK_FS || strcmp(after.fstype, f->fstype) != 0 ||
		       !after.uuid || strcmp(after.uuid, f->uuid) != 0))
		r = -EIO;
	dvol_blk_verdict_done(&after);
	unclaim(f);
	if (r < 0)
		f->fail = DVOL_FORMAT_VERIFY;
	return r < 0 ? r : 0;
}

void dvol_blk_format_done(struct dvol_blk_format *f)
{
	f->wfd = safe_close(f->wfd);
	free(f->output);
	f->output = NULL;
}
