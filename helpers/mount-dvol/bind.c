/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mount.dvol, a host folder: its checks (a folder of its own, its gate), its plan, its bind.
 */
#include <errno.h>
#include <sys/mount.h>
#include <stdbool.h>
#include <sys/types.h>

#include "cleanup.h"
#include "fdutil.h"
#include "log.h"
#include "mountop.h"
#include "srcgate.h"

#include "mount-dvol.h"

/* A bind of a host folder, not of the host itself: refused as a usage error (exit 1). */
static int check_bind_source(struct plan *p)
{
	struct dvol_bind_src_facts f;
	const char *what = NULL;
	int r;

	r = dvol_bind_src_facts(p->src_fd, &f);
	if (r < 0)
		return log_error_errno(r, "cannot look at source folder %s", p->spec.path);
	switch (dvol_bind_src_decide(&f, &what)) {
	case DVOL_BIND_SRC_OK:
		return 0;
	case DVOL_BIND_SRC_ROOT:
		log_error("source %s is the root folder /: binding it would hand the whole root "
			  "filesystem to the mount point; give a folder of its own",
			  p->spec.path);
		break;
	case DVOL_BIND_SRC_KERNEL_FS:
		log_error("source %s is on %s, a kernel filesystem, not a folder of data: it would "
			  "hand over the host's kernel state; give a folder of its own",
			  p->spec.path, what);
		break;
	case DVOL_BIND_SRC_SYSTEM:
		log_error("source %s is %s or on the filesystem mounted there (the host's devices "
			  "and kernel state), not a folder of data; give a folder of its own",
			  p->spec.path, what);
		break;
	}
	p->fail = DVOL_FAIL_USAGE;
	return -EPERM;
}

/*
 * source-mounted, source-fs=: the folder FD (the source, or where 'create' would make it)
 * must lie on the volume it belongs on, not on the root disk beneath a volume that is not
 * mounted yet. Refused with exit 32, as a volume that is not there yet.
 */
static int check_gate(struct plan *p, int fd)
{
	_cleanup_(dvol_src_gate_facts_done) struct dvol_src_gate_facts f = {0};
	const struct dvol_src_gate_want w = {
	    .mounted = p->opts.source_mounted,
	    .at = p->opts.source_mounted_at,
	    .fs = p->opts.source_fs,
	};
	const char *path = p->spec.path;
	_cleanup_free_ char *text = NULL;
	enum dvol_src_gate_why why;
	int r;

	if (!dvol_src_gate_wanted(&w))
		return 0;
	r = dvol_src_gate_facts(fd, w.at, &f);
	if (r < 0)
		return log_error_errno(r, "cannot find the mount that source folder %s lies on",
				       path);
	why = dvol_src_gate_decide(&w, &f);
	if (why == DVOL_SRC_GATE_OK) {
		log_debug("source %s lies on %s mounted at %s", path, f.fstype ? f.fstype : "?",
			  f.mnt_target ? f.mnt_target : "?");
		return 0;
	}
	if (dvol_src_gate_explain(why, path, &w, &f, &text) == -ENOMEM)
		return -ENOMEM;
	log_error("%s", text);
	p->fail = DVOL_FAIL_MOUNT;
	return -EREMOTEIO;
}

/* The opened source folder: a folder of its own (exit 1), and where its gate asks (32). */
static int check_source(struct plan *p)
{
	int r = check_bind_source(p);

	if (r >= 0)
		r = check_gate(p, p->src_fd);
	return r < 0 ? r : writer_check_source(p, p->src_fd);
}

/* resolve + plan for a folder bind. Nothing is created here: -f must not change a thing. */
int plan_bind(struct plan *p)
{
	int r;

	r = dvol_open_dir(p->spec.path, &p->src_fd);
	if (r == -ENOENT && p->opts.create) {
		_cleanup_close_ int afd = -EBADF;

		/* Gated where it would be made: never make it on the bare folder beneath. */
		r = dvol_open_existing_ancestor(p->spec.path, &afd);
		if (r < 0)
			return log_error_errno(r, "cannot open a folder above %s", p->spec.path);
		r = check_gate(p, afd);
		if (r >= 0)
			r = writer_check_source(p, afd);
		if (r < 0)
			return r;
		p->create_source = true;
	} else if (r == -ENOENT) {
		log_error("source folder %s does not exist; create it, or add the 'create' "
			  "option to have mount.dvol make it",
			  p->spec.path);
		return r;
	} else if (r == -ELOOP) {
		log_error("source %s is a symbolic link; dvol binds only a real folder, to "
			  "stop a link being swapped in: give the folder it points to",
			  p->spec.path);
		return r;
	} else if (r == -ENOTDIR) {
		log_error("source %s is not a folder (for a block device give its /dev path)",
			  p->spec.path);
		return r;
	} else if (r < 0) {
		return log_error_errno(r, "cannot open source folder %s", p->spec.path);
	} else {
		r = check_source(p);
		if (r < 0)
			return r;
	}

	return check_existing(p);
}

int act_bind(struct plan *p)
{
	int r;

	if (p->create_source) {
		bool created;

		r = dvol_mkdir_p(p->spec.path, p->opts.mode_set ? p->opts.mode : 0755,
				 p->opts.uid_set ? p->opts.uid : (uid_t)-1,
				 p->opts.gid_set ? p->opts.gid : (gid_t)-1, &created);
		if (r < 0)
			return log_error_errno(r, "cannot create source folder %s", p->spec.path);
		if (created)
			log_info("created %s", p->spec.path);
		r = dvol_open_dir(p->spec.path, &p->src_fd);
		if (r < 0)
			return log_error_errno(r, "cannot open source folder %s after creating it",
					       p->spec.path);
		r = check_source(p);
		if (r < 0)
			return r;
	}

	/* writer=exclusive: read-only until the lease is held (writer.c). */
	r = dvol_bind_fd(p->src_fd, p->target_fd,
			 p->opts.mflags | (p->opts.writer_exclusive ? MS_RDONLY : 0));
	if (r < 0)
		return log_error_errno(r, "cannot bind %s on %s", p->spec.path, p->target);
	return 0;
}
