/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mount.dvol, a block device: found by what it is, locked, judged twice, formatted only if
 * blank, and mounted.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "blkformat.h"
#include "cleanup.h"
#include "fdutil.h"
#include "fresh.h"
#include "log.h"
#include "mkfs.h"
#include "strv.h"

#include "mount-dvol.h"

void local_done(struct local *l)
{
	dvol_blk_dev_done(&l->dev);
	free(l->desc);
	safe_close(l->fd);
	dvol_blk_verdict_done(&l->verdict);
	dvol_strv_free(l->mkfs_argv);
	stripe_done(&l->stripe);
}

static int local_find(struct plan *p)
{
	struct local *l = &p->local;
	_cleanup_free_ char *cands = NULL, *spec = shown(arg_spec);
	int r;

	r = dvol_blk_find(&p->spec, p->opts.device_timeout_ms, &l->dev, &cands);
	if (r == -ENOENT) {
		log_error("no block device matches '%s' after waiting %.1f s; check that it is "
			  "attached (lsblk, nvme list), or wait longer with device-timeout=",
			  spec, p->opts.device_timeout_ms / 1000.0);
		return r;
	}
	if (r == -ENAMETOOLONG) {
		log_error("'%s' can match no device: an NVMe serial has at most %d bytes and a "
			  "model at most %d (as /sys/class/nvme/*/serial and model show them); "
			  "check the value",
			  spec, DVOL_NVME_SERIAL_MAX, DVOL_NVME_MODEL_MAX);
		p->fail = DVOL_FAIL_USAGE;
		return -EINVAL;
	}
	if (r == -ENOTUNIQ) {
		log_error("'%s' matches more than one block device:\n%s\nname exactly one, "
			  "by nvme:serial=, nvme:model=M,index=N or UUID=%s",
			  spec, cands ? cands : "",
			  p->spec.kind == DVOL_SPEC_NVME_INSTANCE_STORE
			      ? " (or its " DVOL_BY_DVOL_DIR "/instance-store/ name), or drop "
				"stripe=no to stripe them all"
			      : "");
		return r;
	}
	if (r == -ENOTBLK) {
		log_error("'%s' is not a block device", spec);
		return r;
	}
	if (r < 0)
		return log_error_errno(r, "cannot look for the block device '%s'", spec);
	return 0;
}

/* Open the device found, read-only, and name it for messages. */
static int local_open(struct plan *p)
{
	struct local *l = &p->local;
	_cleanup_free_ char *spec = shown(arg_spec);
	int r;

	/* Read-only: the close of a writable fd makes udev re-probe the device (and, for an
	 * md member, assemble its array again). Only a format opens it for writing. */
	r = dvol_blk_open(&l->dev, &l->fd);
	if (r < 0)
		return log_error_errno(r, "cannot open %s for '%s'", l->dev.node, spec);
	if (l->striped) {
		if (asprintf(&l->desc, "stripe %s (%s)", l->stripe.name, l->dev.node) < 0)
			l->desc = NULL;
	} else
		l->desc = dvol_blk_dev_describe(&l->dev, NULL);
	if (!l->desc)
		return -ENOMEM;
	log_debug("'%s' is %s (%" PRIu64 " bytes, diskseq %" PRIu64 ", identity '%s'%s)", spec,
		  l->desc, l->dev.size, l->dev.diskseq, l->dev.ident,
		  l->dev.read_only ? ", read-only" : "");
	return 0;
}

static enum dvol_blk_kind verdict_kind(enum dvol_blk_state s)
{
	switch (s) {
	case DVOL_BLK_BLANK:
		return DVOL_KIND_BLANK;
	case DVOL_BLK_FS:
		return DVOL_KIND_FS;
	case DVOL_BLK_DATA:
		return DVOL_KIND_DATA;
	default:
		return DVOL_KIND_OTHER;
	}
}

/* The decision in words (blkdecide.c): a notice for a redo, an error for a refusal. */
static int local_explain(const struct plan *p, const struct dvol_blk_verdict *first)
{
	const struct local *l = &p->local;
	_cleanup_free_ char *text = NULL;
	int r;

	r = dvol_blk_explain(l->decision.reason,
			     &(struct dvol_blk_words){.desc = l->desc,
						      .node = l->dev.node,
						      .mkfs = p->opts.mkfs,
						      .first = first->what,
						      .what = l->verdict.what,
						      .fstype = l->verdict.fstype,
						      .claimed = &l->claimed},
			     &text);
	if (r == -ENOMEM)
		return log_error_errno(r, "out of memory");
	if (text)
		dvol_log(r < 0 ? LOG_ERR : LOG_NOTICE, "%s", text);
	return r;
}

/* Read the claim and decide, over the facts under the lock (blkdecide.h). */
static int local_decide(struct plan *p, const struct dvol_blk_verdict *first)
{
	struct local *l = &p->local;
	struct dvol_claim_read copies[2];
	struct dvol_blk_facts f;
	int r;

	r = dvol_blk_claim_read(l->fd, &l->dev, copies);
	if (r == -ERANGE)
		l->claim = DVOL_CLAIM_NONE;
	else if (r < 0)
		return log_error_errno(r, "cannot read %s for dvol's format claim", l->desc);
	else
		l->claim = dvol_claim_combine(copies, &l->claimed);

	f = (struct dvol_blk_facts){
	    .mkfs = p->opts.mkfs,
	    .first = verdict_kind(first->state),
	    .kind = verdict_kind(l->verdict.state),
	    .fstype = l->verdict.fstype,
	    .uuid = l->verdict.uuid,
	    .claim = l->claim,
	    .claimed = &l->claimed,
	    .read_only = l->dev.read_only,
	};
	l->decision = dvol_blk_decide(&f);
	/* Nobody else may have it open exclusively: not mounted, not held by md, dm, swap. */
	if (l->decision.action == DVOL_ACT_FORMAT || l->decision.action == DVOL_ACT_REDO) {
		r = dvol_blk_check_exclusive(&l->dev);
		if (r < 0 && r != -EBUSY)
			return log_error_errno(r, "cannot open %s exclusively", l->desc);
		f.in_use = r == -EBUSY;
		l->decision = dvol_blk_decide(&f);
	}
	log_debug("%s: verdict %s, claim %s: %s", l->desc, l->verdict.what,
		  dvol_claim_state_to_string(l->claim),
		  dvol_blk_action_to_string(l->decision.action));
	r = local_explain(p, first);
	if (r < 0)
		return r;
	switch (l->decision.action) {
	case DVOL_ACT_MOUNT:
		l->fstype = l->verdict.fstype;
		return 0;
	case DVOL_ACT_FORMAT:
	case DVOL_ACT_REDO:
		l->format = true;
		l->redo = l->decision.action == DVOL_ACT_REDO;
		return 0;
	default:
		return -EMEDIUMTYPE;
	}
}

/* resolve + plan for a local volume: find, lock, judge twice, decide. Changes nothing. */
int plan_local(struct plan *p)
{
	struct local *l = &p->local;
	_cleanup_(dvol_blk_verdict_done) struct dvol_blk_verdict first = {0};
	bool skip_zero = p->opts.mkfs_ignore_nonzero;
	int r;

	if ((p->opts.stripe_set || p->opts.count) &&
	    p->spec.kind != DVOL_SPEC_NVME_INSTANCE_STORE) {
		_cleanup_free_ char *spec = shown(arg_spec);

		log_error("option '%s' is for nvme:instance-store, not for '%s'",
			  p->opts.count ? "count" : "stripe", spec);
		p->fail = DVOL_FAIL_USAGE;
		return -EINVAL;
	}
	/* Several instance stores: the members first, then their array as the device. */
	if (p->spec.kind == DVOL_SPEC_NVME_INSTANCE_STORE && !p->opts.stripe_no) {
		r = plan_stripe(p);
		if (r < 0 || r == 2)
			return r < 0 ? r : 0;
	}
	r = l->striped ? 0 : local_find(p);
	if (r >= 0)
		r = local_open(p);
	if (r < 0)
		return r;

	r = dvol_blk_probe(l->fd, &l->dev, skip_zero, &first);
	if (r < 0)
		return log_error_errno(r, "cannot probe %s", l->desc);
	log_debug("%s, first probe: %s", l->desc, first.what);

	/* udev and systemd take the same lock on the whole disk: while it is held they
	 * neither probe nor touch it, and concurrent mount.dvol runs wait in line. */
	r = dvol_blk_lock(l->fd, p->opts.device_timeout_ms);
	if (r == -ETIMEDOUT) {
		log_error("%s stays locked by another process (flock) after %.1f s; retry, or "
			  "find the holder (lslocks)",
			  l->desc, p->opts.device_timeout_ms / 1000.0);
		return r;
	}
	if (r < 0)
		return log_error_errno(r, "cannot lock %s", l->desc);

	/* The format step mounts nothing, and may run in a mount namespace of its own. */
	r = arg_format_only ? 0 : check_existing(p);
	if (r < 0 || p->already)
		return r;

	r = dvol_blk_probe(l->fd, &l->dev, skip_zero, &l->verdict);
	if (r < 0)
		return log_error_errno(r, "cannot probe %s", l->desc);
	/* Name it by what it holds as well, where the device itself has no serial. */
	if (!l->dev.serial && l->verdict.uuid) {
		_cleanup_free_ char *d = dvol_blk_dev_describe(&l->dev, l->verdict.uuid);

		if (d) {
			free(l->desc);
			l->desc = TAKE_PTR(d);
		}
	}
	r = local_decide(p, &first);
	if (r < 0 || !l->format)
		return r;

	l->fstype = p->opts.mkfs;
	l->fresh = true;
	r = dvol_mkfs_new_uuid(l->uuid);
	if (r < 0)
		return r;
	dvol_mkfs_label_from_path(p->target, l->label);
	return dvol_mkfs_argv(&(struct dvol_mkfs){.fstype = p->opts.mkfs,
						  .device = l->dev.node,
						  .label = l->label,
						  .uuid = l->uuid,
						  .force = l->redo},
			      &l->mkfs_argv);
}

/* act, stage 1: the claim, the format (under the lock, which mkfs inherits), a third
 * probe (blkformat.h). */
int act_local_format(struct plan *p)
{
	struct local *l = &p->local;
	_cleanup_(dvol_blk_format_done) struct dvol_blk_format f = {
	    .dev = &l->dev,
	    .fd = l->fd,
	    .fstype = l->fstype,
	    .uuid = l->uuid,
	    .argv = l->mkfs_argv,
	    .timeout_ms = DVOL_MKFS_TIMEOUT_MS,
	    .wfd = -EBADF,
	};
	_cleanup_free_ char *line = NULL;
	const char *mkfs = l->mkfs_argv ? l->mkfs_argv[0] : "mkfs";
	int r;

	if (!l->format)
		return 0;
	r = dvol_blk_format_claim(&f);
	if (r < 0 && f.fail == DVOL_FORMAT_OPEN)
		return log_error_errno(r, "cannot open %s for writing; nothing was formatted",
				       l->desc);
	if (r < 0)
		return log_error_errno(r,
				       "cannot write dvol's format claim on %s; nothing was "
				       "formatted",
				       l->desc);
	if (!f.claimed)
		log_debug("%s is smaller than %u bytes: no claim; an interrupted format will be "
			  "refused, not redone",
			  l->desc, DVOL_CLAIM_MIN_DEVSIZE);

	line = dvol_strv_join(l->mkfs_argv);
	log_info("formatting %s: %s", l->desc, line ? line : mkfs);
	dvol_debug_stop("mkfs");
	r = dvol_blk_format_run(&f);
	if (f.output && *f.output)
		dvol_log(r < 0 && f.fail != DVOL_FORMAT_VERIFY ? LOG_ERR : LOG_INFO, "%s: %s", mkfs,
			 f.output);
	if (f.unclaim < 0)
		log_warning_errno(f.unclaim,
				  "cannot clear dvol's format claim on %s (the first sector "
				  "and 768 KiB before the end); zero them before reusing it",
				  l->desc);
	if (r == 0) {
		log_notice("formatted %s as %s, UUID=%s LABEL=%s", l->desc, l->fstype, l->uuid,
			   l->label);
		return 0;
	}
	switch (f.fail) {
	/* The status says why: no errno text after these (-EPROTO would read as a network
	 * error). */
	case DVOL_FORMAT_KILLED:
		/* Interrupted, not failed: the claim stays, as after a power loss. */
		log_error("%s on %s was killed (signal %d); the device was not mounted, and the "
			  "next run formats it again",
			  mkfs, l->desc, WTERMSIG(f.status));
		return r;
	case DVOL_FORMAT_TIMEOUT:
		return log_error_errno(r, "%s on %s did not finish in %u s and was killed", mkfs,
				       l->desc, DVOL_MKFS_TIMEOUT_MS / 1000);
	case DVOL_FORMAT_EXIT:
		log_error("%s on %s failed (%s %d); the device was not mounted", mkfs, l->desc,
			  WIFEXITED(f.status) ? "exit status" : "signal",
			  WIFEXITED(f.status) ? WEXITSTATUS(f.status) : WTERMSIG(f.status));
		return r;
	case DVOL_FORMAT_VERIFY:
		return log_error_errno(r,
				       "%s ran on %s, but its %s (UUID=%s) cannot be found there",
				       mkfs, l->desc, l->fstype, l->uuid);
	default:
		return log_error_errno(r, "cannot run %s for %s", mkfs, l->desc);
	}
}

/* act, stage 2: mount the device with the probed type, fd to fd. */
int act_local_mount(struct plan *p)
{
	struct local *l = &p->local;
	_cleanup_close_ int mfd = -EBADF;
	bool chown_root;
	int r;

	/* Made by the format step of this boot (--format-only): its root is ours to set. */
	if (!l->fresh && l->verdict.uuid && dvol_fresh_take(DVOL_FRESH_DIR, l->verdict.uuid) > 0) {
		log_info("%s was formatted by dvol's format step; setting up its root", l->desc);
		l->fresh = true;
	}
	chown_root = l->fresh && (p->opts.mode_set || p->opts.uid_set || p->opts.gid_set);

	/* As mount(8) does with a write-protected device: read-only, and say so. */
	if (l->dev.read_only && !(p->opts.mflags & MS_RDONLY)) {
		log_notice("%s is write-protected, mounting it read-only", l->desc);
		p->opts.mflags |= MS_RDONLY;
	}
	/* ro is the superblock's, not only the mount point's: no journal replay, no mount
	 * count, not one byte written. A new filesystem gets its root's owner first. */
	r = dvol_mount_dev(l->fstype, l->dev.node, p->opts.fs,
			   (p->opts.mflags & MS_RDONLY) && !chown_root, &mfd);
	if (r < 0)
		return log_error_errno(r, "cannot mount the %s on %s%s%s (see dmesg)", l->fstype,
				       l->desc, p->opts.fs ? " with options " : "",
				       p->opts.fs ? p->opts.fs : "");
	if (chown_root) {
		r = dvol_mount_chmod_root(mfd, p->opts.mode_set ? p->opts.mode : (mode_t)-1,
					  p->opts.uid_set ? p->opts.uid : (uid_t)-1,
					  p->opts.gid_set ? p->opts.gid : (gid_t)-1);
		if (r < 0)
			return log_error_errno(r, "cannot set mode and owner of the new %s on %s",
					       l->fstype, l->desc);
		if (p->opts.mflags & MS_RDONLY) {
			r = dvol_mount_set_sb_ro(mfd);
			if (r < 0)
				return log_error_errno(r, "cannot make the new %s on %s read-only",
						       l->fstype, l->desc);
		}
	}
	r = dvol_mount_attach(mfd, p->target_fd, p->opts.mflags);
	if (r < 0)
		return log_error_errno(r, "cannot attach the %s of %s on %s", l->fstype, l->desc,
				       p->target);
	return 0;
}

/* The end of the format step: what the mount step is to know is left on /run. */
int format_only_done(struct plan *p)
{
	const struct local *l = &p->local;
	int r;

	p->fail = DVOL_FAIL_RECORD;
	if (!l->fresh) {
		log_info("%s holds a %s already (%s); nothing to format", l->desc,
			 l->verdict.fstype ? l->verdict.fstype : "filesystem", l->verdict.what);
		return 0;
	}
	if (p->opts.mode_set || p->opts.uid_set || p->opts.gid_set) {
		r = dvol_fresh_mark(DVOL_FRESH_DIR, l->uuid);
		if (r < 0)
			return log_error_errno(r,
					       "formatted %s, but cannot leave the mark in %s for "
					       "the mount step: mode=, uid= and gid= will not be "
					       "applied",
					       l->desc, DVOL_FRESH_DIR);
	}
	return 0;
}
