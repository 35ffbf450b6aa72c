/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mountop.h"
#include "timeutil.h"

/*
 * The NFS kernel mount, decided before it is made: the user's NFS options read into what
 * the probe depends on (version, ports, addresses, transport) and the rest, and from the
 * probe's answer, the mounts to try, best first, each with its exact option string.
 * Pure functions: no I/O.
 */

/* The user's NFS options. Everything the probe depends on is probed and used as given. */
struct dvol_nfs_mopts {
	unsigned
	    vers; /* DVOL_NFS_V* asked for (vers=, nfsvers=, vN, minorversion=, ?vers=), 0: any */
	uint16_t port;		   /* port= (or the URL's), 0: 2049 */
	uint16_t mountport;	   /* mountport= (v3), 0: the portmapper's answer */
	char *addr;		   /* addr=: the server's address, probed instead of the name */
	char *clientaddr;	   /* clientaddr=: passed as given */
	char *proto;		   /* proto=tcp|tcp6, as given */
	uint64_t mount_timeout_ms; /* mount-timeout=: the kernel mount's deadline, 0 if unset */
	char *rest;		   /* the other options, in their order, for the kernel */
};

/*
 * FS: the filesystem options left by dvol_opts_parse() (may be NULL); URL_VERS and
 * URL_PORT: the SOURCE's ?vers= and :port (NULL, 0 if none). -o wins over the URL for the
 * version; two options that disagree, a transport dvol cannot probe (udp, rdma), a port
 * or an address that is not one, are -EINVAL with *ret_bad (the option, caller frees)
 * and *ret_why (static). 0 or -ENOMEM otherwise.
 */
int dvol_nfs_mopts_parse(const char *fs, const char *url_vers, uint16_t url_port,
			 struct dvol_nfs_mopts *ret, char **ret_bad, const char **ret_why);
void dvol_nfs_mopts_done(struct dvol_nfs_mopts *o);

/*
 * The default kernel mount deadline: this many probe timeouts. The first NFS mount on a
 * machine that is still booting waits for the kernel to load nfsv4 and to set up its
 * client (measured at more than 15 s in an emulated guest), well apart from the server.
 */
#define DVOL_NFS_MOUNT_TIMEOUT_FACTOR 10

/* retry=: the pauses between probes, and between kernel mounts that met a network error. */
#define DVOL_NFS_BACKOFF DVOL_BACKOFF_INIT(500, 8000)

#define DVOL_NFS_TRIES_MAX 4
struct dvol_nfs_try {
	unsigned vers;	    /* one DVOL_NFS_V* bit */
	const char *fstype; /* "nfs4" or "nfs" */
	char *data;	    /* the kernel's option string */
};

/*
 * The kernel mounts to try, best first: the version asked for (for "4", every minor
 * version the server proved, highest first), else every version the server proved, 4.2
 * down to 3. OFFERED: the probe's versions; only proven ones (DVOL_NFS_OFFERED) count.
 * ADDR and LOCAL_ADDR: the address probed and our end of that connection; MOUNT_PORT:
 * the MOUNT port the probe found (v3). Fills RET (DVOL_NFS_TRIES_MAX) and returns how
 * many, 0 if none fits, or -ENOMEM.
 */
int dvol_nfs_tries(const struct dvol_nfs_mopts *o, unsigned offered, const char *addr,
		   const char *local_addr, uint16_t mount_port, struct dvol_nfs_try *ret);
void dvol_nfs_tries_done(struct dvol_nfs_try *t, size_t n);

/* Is MI (what is mounted somewhere) an NFS mount of SOURCE ("host:/path")? Pure. */
bool dvol_nfs_mount_is(const struct dvol_mount_info *mi, const char *source);

/*
 * mount(2) of SOURCE on TARGET in a child that dies at DEADLINE_MS (dvol_now_ms()'s
 * clock): NFS's mount RPCs sleep killably, and a signal whose default is to terminate
 * counts as SIGKILL there. The child's own timer needs no right to signal another
 * process, and nobody waits for it (the caller ignores SIGCHLD). 0, -ETIMEDOUT when it
 * did not finish in time, or mount(2)'s -errno.
 */
int dvol_nfs_mount_within(const char *source, const char *target, const char *fstype,
			  unsigned long flags, const char *data, uint64_t deadline_ms);

/* What a failed kernel mount means for the ones after it. */
enum dvol_nfs_next {
	DVOL_NFS_NEXT_MOUNTED, /* not failed */
	DVOL_NFS_NEXT_TIMEOUT, /* no answer by its deadline: stop, the deadline is spent */
	DVOL_NFS_NEXT_NETWORK, /* a network error on a server that answered the probe: the
				* same mount again after a pause, while retry= lasts */
	DVOL_NFS_NEXT_VERSION, /* the kernel refuses this version: the next one down */
	DVOL_NFS_NEXT_STOP,    /* the server or the kernel said no: stop */
};

/* The meaning of R, a kernel mount's 0, -ETIMEDOUT or mount(2) -errno. Pure. */
enum dvol_nfs_next dvol_nfs_try_next(int r);

/* One kernel mount made, for the caller's words. */
struct dvol_nfs_attempt {
	const struct dvol_nfs_try *try;
	int r;			 /* 0, -ETIMEDOUT or mount(2)'s -errno */
	enum dvol_nfs_next next; /* dvol_nfs_try_next(r) */
	bool landed;		 /* TIMEOUT, but the mount is there: it finished at its deadline */
	uint64_t pause_ms;	 /* NETWORK: the pause before it is made again, 0: none left */
};

/* The kernel mounts of a plan, best first, each within its own deadline. */
struct dvol_nfs_mount_job {
	const char *source;	 /* "host:/path" */
	const char *target;	 /* the mount point, as mount(2) takes it */
	const char *target_path; /* ...and as a path: where a mount that timed out may be */
	unsigned long flags;	 /* MS_* */
	const struct dvol_nfs_try *tries;
	size_t n_tries;
	uint64_t timeout_ms;  /* each mount's deadline (mount-timeout=) */
	uint64_t retry_until; /* retry=: monotonic end of retries, or 0 */
	/* Called before each mount, and after each that failed; may be NULL. */
	void (*trying)(const struct dvol_nfs_try *t, void *userdata);
	void (*failed)(const struct dvol_nfs_attempt *a, void *userdata);
	void *userdata;
};

/*
 * Make the mounts of J in turn until one holds: a network error makes the same one again
 * after a pause (DVOL_NFS_BACKOFF, while retry= lasts), a version the kernel refuses the
 * next one; anything else stops. All of them end by the later of TIMEOUT_MS from now and
 * RETRY_UNTIL. *ret_last: the last mount made. 0 when mounted, else its -errno.
 */
int dvol_nfs_mount_run(const struct dvol_nfs_mount_job *j, struct dvol_nfs_attempt *ret_last);
