/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mount.dvol, heal: the target's lock, whether its mount answers, and the fresh mount in the
 * stale one's place.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fdutil.h"
#include "heal.h"
#include "log.h"
#include "rootdir.h"
#include "stale.h"

#include "mount-dvol.h"

/*
 * heal, before any sandbox: the target's lock, so that one run at a time heals it, and
 * whether what is mounted there answers, asked in a child under the probe's deadline (a
 * look at a mount whose server does not answer would hang). p->stale when it is ESTALE.
 */
int heal_prepare(struct plan *p)
{
	_cleanup_free_ char *lock = NULL;
	int r;

	if (!p->opts.heal || arg_fake)
		return 0;
	r = dvol_rootdir_private(DVOL_HEAL_DIR, 0700, &p->heal_dir, NULL);
	if (r == -ELOOP || r == -EPERM) {
		log_error("heal: %s, or a folder above it, is %s: heal keeps no lock and makes no "
			  "mount there; nothing was done. Remove it",
			  DVOL_HEAL_DIR,
			  r == -ELOOP ? "a symbolic link" : "not this user's, or not a folder");
		p->fail = DVOL_FAIL_MOUNT;
		return r;
	}
	if (r < 0)
		return log_error_errno(r, "heal: cannot open %s", DVOL_HEAL_DIR);
	r = dvol_heal_file_name(p->target, ".lock", &lock);
	if (r < 0)
		return log_error_errno(r, "out of memory");
	p->heal_lock = openat(p->heal_dir, lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (p->heal_lock < 0)
		return log_error_errno(-errno, "heal: cannot open the lock %s/%s", DVOL_HEAL_DIR,
				       lock);
	if (flock(p->heal_lock, LOCK_EX | LOCK_NB) < 0) {
		r = -errno;
		if (r != -EWOULDBLOCK)
			return log_error_errno(r, "heal: cannot lock %s/%s", DVOL_HEAL_DIR, lock);
		log_error("another run of mount.dvol is mounting or healing %s (it holds %s/%s); "
			  "nothing was done. Try again once it is done",
			  p->target, DVOL_HEAL_DIR, lock);
		p->fail = DVOL_FAIL_MOUNT;
		return -EBUSY;
	}

	r = dvol_mount_check_live(p->target, p->opts.probe_timeout_ms);
	switch (dvol_heal_look_of(r)) {
	case DVOL_HEAL_LOOK_STALE:
		p->stale = true;
		return 0;
	case DVOL_HEAL_LOOK_HUNG:
		log_error("%s does not answer within %.1f s (probe-timeout=): its server is not "
			  "answering, which a fresh mount cannot mend; nothing was done",
			  p->target, p->opts.probe_timeout_ms / 1000.0);
		p->fail = DVOL_FAIL_MOUNT;
		return r;
	case DVOL_HEAL_LOOK_LIVE:
	case DVOL_HEAL_LOOK_ERROR:
		/* Live, or not there: what is mounted is resolved as always. */
		return 0;
	}
	return 0;
}

/*
 * act for heal: the fresh mount is made where nobody looks (nfs_mount_detached) and put in
 * the stale one's place.
 */
int act_heal(struct plan *p)
{
	_cleanup_close_ int tree = -EBADF;
	bool atomic;
	int r;

	r = nfs_mount_detached(p, &tree);
	if (r < 0)
		return log_error("heal: the stale mount on %s is left as it was", p->target), r;

	p->target_fd = safe_close(p->target_fd);
	r = dvol_mount_replace(tree, p->target, true, &atomic);
	if (r == -EREMCHG) {
		log_error("heal: the stale mount on %s is detached, but the fresh one could not "
			  "be put in its place: %s is the bare folder now. Mount it again",
			  p->target, p->target);
		return r;
	}
	if (r < 0)
		return log_error_errno(r,
				       "heal: cannot put the fresh mount of %s in the place of "
				       "the stale one on %s, which is left as it was",
				       p->nfs.source, p->target);
	log_notice("healed %s: the stale mount of %s is replaced by a fresh one%s. Files "
		   "opened before keep the stale one until they are closed",
		   p->target, p->nfs.source,
		   atomic ? "" : " (detached first: this kernel cannot mount beneath)");
	return 0;
}
