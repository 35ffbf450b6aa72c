/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * mount.dvol's own pieces, one file a kind or a stage, around the flow in
 * helpers/mount.dvol.c:
 *
 *   resolve.c   the mount point, and whether what is mounted there is what was asked
 *   bind.c      a host folder: its checks, its plan, its bind
 *   nfs.c       an NFS export: the probe process, the try list, the kernel mounts
 *   heal.c      heal: the target's lock, the liveness look, the fresh mount's swap
 *   local.c     a block device: find, lock, judge, format, mount
 *   fallback.c  optional: what goes on the target when the volume is not ready
 *   writer.c    writer=exclusive: the lease's holder, started, and its answer
 *   dryrun.c    -f: the plan, as rows
 *
 * The decisions themselves are in common/, as pure functions with table tests (the
 * verdict in blkdecide.c, the try list in nfsmount.c, the option fit in options.c, the
 * gate in srcgate.c, the match in mountop.c); these files gather their facts, act on
 * their answers, and say what happened.
 */
#include <stdbool.h>
#include <stdint.h>

#include <libmount/libmount.h>

#include "blkdecide.h"
#include "blockdev.h"
#include "exitcode.h"
#include "mountop.h"
#include "nfsmount.h"
#include "nfsprobe.h"
#include "options.h"
#include "spec.h"
#include "stripe.h"

/* The command line, as mount(8) gave it (mount.dvol.c). */
extern const char *arg_spec;
extern const char *arg_target;
extern bool arg_fake;
extern bool arg_nomtab;
extern bool arg_format_only;

/* NFS: the probe's answer and the kernel mounts to try, best first. */
struct plan_nfs {
	struct dvol_nfs_target probe;
	struct dvol_nfs_mopts mopts; /* the user's NFS options, read */
	char *source;		     /* "host:/path" as the kernel and findmnt show it */
	struct dvol_nfs_try tries[DVOL_NFS_TRIES_MAX];
	unsigned n_tries;
	unsigned attempts;		/* probe runs */
	unsigned long long deadline_ms; /* retry=: monotonic end of retries, or 0 */
	uint64_t mount_timeout_ms;	/* the kernel mount's deadline */
	int probe_fd;			/* the probe process's result, read end */
	char *tried;			/* the kernel mounts that failed, in words */
	bool cache_active;		/* cache=local: a FS-Cache cache was active */
	char *cache_name;		/* ...its name (fscache.h) */
};

/* nvme:instance-store with several members: each one found, locked, judged. */
struct stripe_member {
	struct dvol_blk_dev dev;
	char *desc; /* "serial S (/dev/nvme1n1)" */
	int fd;	    /* read-only, flock'ed until the end, in the members' order */
	struct dvol_blk_verdict verdict;
	char *md; /* the md array holding it ("md127"), or NULL */
};

struct stripe {
	struct stripe_member *m;
	struct dvol_stripe_member *facts; /* one a member: what stripe.h decides over */
	size_t n;
	char name[DVOL_STRIPE_NAME_MAX];
	struct dvol_stripe_decision decision;
	char **mdadm_argv; /* create or assemble */
	char *md;	   /* the array, once it runs ("md127") */
};

/* A local volume: the device found, held locked, judged, and what will be done to it. */
struct local {
	struct dvol_blk_dev dev;
	char *desc; /* "serial S (/dev/nvme1n1)": for messages */
	int fd;	    /* the device node, flock'ed from the second probe until the end */
	struct dvol_blk_verdict verdict;
	enum dvol_claim_state claim; /* dvol's format claim on the medium */
	struct dvol_claim claimed;   /* ...what it claims, if OURS */
	struct dvol_blk_decision decision;
	bool format;
	bool redo; /* an interrupted format of dvol's own is done again */
	char **mkfs_argv;
	char uuid[37];
	char label[13];
	const char *fstype; /* what will be mounted */
	bool fresh;	    /* made here: mode=, uid=, gid= apply to its root */
	bool striped;	    /* the device is the stripe of the members in .stripe */
	struct stripe stripe;
};

/* writer=exclusive: the holder's process, forked before the sandbox (writer.c). */
struct plan_writer {
	int go;	   /* write 'g' once the mount is made; closed: it ends */
	int ready; /* its one-line answers (dvol-writer --ready-fd) */
	bool held; /* it holds the lease, and made the mount read-write */
	bool ro;   /* another holds it: left read-only (on-conflict=ro) */
};

struct plan {
	enum dvol_vol kind;
	enum dvol_fail fail; /* the stage under way, for the exit code */
	struct dvol_spec spec;
	struct dvol_opts opts;
	char *target;	      /* normalized mount point */
	int target_fd;	      /* O_PATH */
	int src_fd;	      /* BIND: O_PATH of the folder, once it exists */
	bool create_source;   /* BIND: make the folder first */
	bool already;	      /* the same source is mounted there: nothing to do */
	bool on_fallback;     /* optional: the empty folder of an earlier run is mounted there */
	bool stale;	      /* heal: what is mounted there answered ESTALE (prepare()) */
	bool heal;	      /* ...and it is this volume: a fresh mount replaces it */
	int heal_dir;	      /* heal, writer=exclusive on NFS: DVOL_HEAL_DIR, where new mounts
				 are made (opened without following a link) */
	int heal_lock;	      /* heal: flock'ed, so that one run at a time heals the target */
	const char *degraded; /* optional: why the fallback went there instead (utab) */
	/* optional: which kind is mounted there (on_fallback); fallback=disk's folder */
	enum dvol_fallback on_fallback_kind;
	char *fallback_dir;
	struct plan_nfs nfs;
	struct local local; /* LOCAL */
	struct plan_writer writer;
};

/* mount.dvol.c */
char *shown(const char *s);
int record(struct libmnt_context *cxt, const struct plan *p);

/* resolve.c */
int open_target(struct plan *p, struct dvol_mount_info *ret_mi);
int check_existing(struct plan *p);

/* bind.c */
int plan_bind(struct plan *p);
int act_bind(struct plan *p);

/* nfs.c */
int nfs_prepare(struct plan *p);
int nfs_probe_start(struct plan *p);
int plan_nfs(struct plan *p);
int act_nfs(struct plan *p);
int nfs_mount_detached(struct plan *p, int *ret_tree);
int act_nfs_writer(struct plan *p);

/* heal.c */
int heal_prepare(struct plan *p);
int act_heal(struct plan *p);

/* local.c */
void local_done(struct local *l);
int plan_local(struct plan *p);
int act_local_format(struct plan *p);
int act_local_mount(struct plan *p);
int format_only_done(struct plan *p);

/* stripe.c */
void stripe_done(struct stripe *s);
int plan_stripe(struct plan *p);

/* fallback.c */
bool is_fallback(struct plan *p, const struct dvol_mount_info *mi, enum dvol_fallback *ret_kind);
int fallback_remove(struct plan *p);
int fallback(struct libmnt_context *cxt, struct plan *p, int r);

/* writer.c */
void writer_done(struct plan_writer *w);
int writer_prepare(struct plan *p);
int writer_check_source(struct plan *p, int fd);
int writer_take(struct plan *p);

/* dryrun.c */
void print_plan(const struct plan *p);
