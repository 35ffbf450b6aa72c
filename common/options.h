/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lease.h"
#include "spec.h"

/* fallback=: what 'optional' mounts in a volume's place */
enum dvol_fallback {
	DVOL_FALLBACK_TMPFS, /* an empty tmpfs, in memory */
	DVOL_FALLBACK_DISK,  /* a bind of /var/lib/dvol/fallback/<target escaped> */
};

/* "tmpfs", "disk" (static), as fallback= and utab's dvol.fallback= spell them. */
const char *dvol_fallback_to_string(enum dvol_fallback f);

/*
 * mount.dvol's -o string: dvol's own options are read and stripped with libmount's optstr
 * functions; what is left is split by libmount's own maps into VFS flags (ro, nosuid...),
 * userspace options (nofail, _netdev...; mount(8) already dropped x-*) and filesystem
 * options, which go to the kernel for the kinds that have a kernel filesystem.
 */
struct dvol_opts {
	bool create; /* make a missing source folder */
	mode_t mode; /* mode= for a folder made by create, or a fresh filesystem root */
	bool mode_set;
	uid_t uid;
	bool uid_set;
	gid_t gid;
	bool gid_set;
	char *mkfs; /* mkfs=xfs|ext4: format if (and only if) blank */
	/* mkfs-ignore-nonzero-data: skip only the zero check of the blank verdict; named so
	 * that nobody sets it by accident */
	bool mkfs_ignore_nonzero;
	uint64_t device_timeout_ms;
	uint64_t probe_timeout_ms;
	uint64_t retry_ms; /* 0: no retry */
	/* A folder's gate: source-mounted[=PATH], source-fs=TYPE[|TYPE...] */
	bool source_mounted;	 /* on a mount other than the root filesystem's */
	char *source_mounted_at; /* ... on the one mounted at this folder (NULL: any) */
	char *source_fs;	 /* on one of these filesystem types, '|'-separated */
	/* optional: a volume that cannot be made ready is an empty folder instead, said loudly,
	 * exit 0: a tmpfs of at most fallback_size bytes, or (fallback=disk) a folder of the
	 * root disk, which no size caps */
	bool optional;
	uint64_t fallback_size;
	bool fallback_size_set;
	enum dvol_fallback fallback;
	bool fallback_set;
	/* heal: an NFS mount found stale (ESTALE) is replaced by a fresh one in place */
	bool heal;
	/* nvme:instance-store: stripe=no keeps "exactly one"; count=N requires N members */
	bool stripe_no;
	bool stripe_set;
	unsigned count; /* 0: as many as there are */
	/* writer=exclusive: one writer at a time, under a lease the NFS server enforces
	 * (lease.h); writer=shared is the default, and undoes an earlier exclusive */
	bool writer_exclusive;
	bool writer_set;
	enum dvol_lease_on_conflict on_conflict; /* on-conflict=ro|fail|wait */
	bool on_conflict_set;
	uint64_t wait_timeout_ms; /* wait-timeout=: on-conflict=wait's bound */
	bool wait_timeout_set;
	uint64_t lease_time_ms; /* lease-time=: the server's lease, which the client cannot read */
	bool lease_time_set;
	/* cache=local: NFS is mounted with fsc, read through the host's FS-Cache (fscache.h);
	 * cache=none is the default. cache-dir= and cache-size= say where that cache lives
	 * and how much of its volume it may take: the boot's ordering (dvol-generator) and
	 * dvol-cachefilesd.service read them, not the mount itself. */
	bool cache_local;
	bool cache_set;
	char *cache_dir;     /* normalized, absolute */
	uint64_t cache_size; /* bytes, or per cent of the volume with cache_size_pct */
	bool cache_size_pct;
	bool cache_size_set;

	unsigned long mflags; /* MS_* of the VFS options */
	char *vfs;	      /* "ro,nosuid" ... */
	char *fs;	      /* filesystem options, for the kernel */
	char *user;	      /* userspace options, for utab */
};

#define DVOL_DEVICE_TIMEOUT_MS_DEFAULT 30000
#define DVOL_PROBE_TIMEOUT_MS_DEFAULT  3000
#define DVOL_STRIPE_MAX		       64 /* members of one stripe, at most */
#define DVOL_FALLBACK_SIZE_DEFAULT     (1ULL << 30)

/*
 * Parse OPTSTR (may be NULL). On -EINVAL, *ret_bad is the offending "name[=value]"
 * (caller frees) and *ret_why says what is wrong with it.
 */
int dvol_opts_parse(const char *optstr, struct dvol_opts *ret, char **ret_bad,
		    const char **ret_why);
void dvol_opts_done(struct dvol_opts *o);

/* The first option of OPTSTR as a new string, or NULL if there is none. */
char *dvol_optstr_first(const char *optstr);

/* Why options do not fit the volume they are given for. */
enum dvol_opts_why {
	DVOL_OPTS_OK,
	DVOL_OPTS_UNKNOWN,     /* a filesystem option, and a folder has no filesystem to take it */
	DVOL_OPTS_MKFS_FOLDER, /* mkfs= for a folder */
	DVOL_OPTS_CREATE_DEVICE,  /* create for a block device */
	DVOL_OPTS_IGNORE_NO_MKFS, /* mkfs-ignore-nonzero-data without mkfs= */
	DVOL_OPTS_LOCAL_ON_NFS,	  /* mkfs= or create for an NFS export */
	DVOL_OPTS_LOOP,		  /* loop, offset=, sizelimit=, encryption=: a loop device */
	DVOL_OPTS_VERITY,	  /* verity.*: a dm-verity device */
	DVOL_OPTS_FOREIGN,	  /* dvol's own option for another kind of volume */
	DVOL_OPTS_PROBE_ZERO,	  /* probe-timeout=0: no time to probe */
	DVOL_OPTS_FALLBACK_ALONE, /* fallback-size= or fallback= without optional */
	DVOL_OPTS_DISK_CAPPED,	  /* fallback-size= with fallback=disk: nothing caps it */
	DVOL_OPTS_WRITER_NOT_NFS, /* writer=, on-conflict=... on a block device: NFS only */
	DVOL_OPTS_WRITER_ALONE,	  /* on-conflict=, wait-timeout=, lease-time= without writer= */
	DVOL_OPTS_WAIT_ALONE,	  /* wait-timeout= without on-conflict=wait */
	DVOL_OPTS_WRITER_RO,	  /* writer=exclusive with ro: a reader needs no lease */
	DVOL_OPTS_WRITER_NOLOCK,  /* writer=exclusive with nolock or local_lock=: host-local */
	DVOL_OPTS_WRITER_V3,	  /* writer=exclusive with NFSv3: its locks have no lease */
	DVOL_OPTS_CACHE_ALONE,	  /* cache-dir= or cache-size= without cache=local */
	DVOL_OPTS_CACHE_NOFSC,	  /* cache=local with nofsc, or fsc=TAG of another cache */
	_DVOL_OPTS_WHY_MAX,
};

/*
 * Do the options O fit a volume of kind VOL? The first reason they do not, or
 * DVOL_OPTS_OK. SLOPPY (-s) lets unknown options pass. *ret_name (may be NULL): dvol's
 * own option at fault (static), or NULL for DVOL_OPTS_UNKNOWN (the first of O->fs). Pure.
 */
enum dvol_opts_why dvol_opts_check(const struct dvol_opts *o, enum dvol_vol vol, bool sloppy,
				   const char **ret_name);

/*
 * Options in OPTSTR for which libmount would set up a loop or dm-verity device when the
 * mount is recorded; mount.dvol sets up neither. DVOL_OPTS_LOOP or DVOL_OPTS_VERITY with
 * *ret_name the option's name (caller frees), or DVOL_OPTS_OK. Pure.
 */
enum dvol_opts_why dvol_optstr_check_setup(const char *optstr, char **ret_name);

/*
 * dvol's own options in OPTSTR that do nothing for a volume of kind VOL (mode= on an NFS
 * export, retry= on a folder, ...): given there they would be ignored silently.
 * DVOL_OPTS_FOREIGN with *ret_name the option (static), DVOL_OPTS_PROBE_ZERO for
 * probe-timeout=0 on NFS, or DVOL_OPTS_OK. (create and mkfs= are dvol_opts_check()'s.)
 * Pure.
 */
enum dvol_opts_why dvol_optstr_check_kind(const char *optstr, enum dvol_vol vol,
					  const char **ret_name);

/* What the words of a reason are made of. */
struct dvol_opts_words {
	const char *name; /* the option at fault, as the check named it */
	const char *spec; /* the SOURCE, as a message shows it */
	const char *fs;	  /* the filesystem options: DVOL_OPTS_UNKNOWN names the first */
	const char *mkfs; /* mkfs= asked */
	enum dvol_vol vol;
};

/*
 * The reason WHY in words, one sentence for a log line that says what does not fit and
 * what to do instead: -EINVAL with *ret_text (caller frees), 0 with NULL for DVOL_OPTS_OK,
 * or -ENOMEM. Every reason has its own words (test-options).
 */
int dvol_opts_explain(enum dvol_opts_why why, const struct dvol_opts_words *w, char **ret_text);

/*
 * Why a volume of kind VOL was not made ready (R, the -errno its stage ended with), as the
 * one word recorded in utab (dvol.degraded=) when 'optional' mounted the fallback in its
 * place: "not-mounted" (a folder's gate: its volume is not mounted), "unreachable" (an NFS
 * server), "not-blank" (a device refused), "missing" (a device or folder not there), or
 * "failed". Static. Pure.
 */
const char *dvol_degraded_reason(enum dvol_vol vol, int r);
