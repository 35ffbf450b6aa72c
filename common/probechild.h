/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfsprobe.h"
#include "timeutil.h"

/*
 * The probe process: the part of a helper that parses what the network sends, so it holds
 * nothing worth having. Forked before the parent's first sandbox stage, it sheds root
 * (nobody, no groups, no capabilities), keeps stdio, rpath (the resolver's files) and inet,
 * probes, and hands one frame per verdict (the verdict and a bounded export list, sized by
 * what the list holds) to the parent over a pipe. The parent never holds inet, and believes the
 * frame only after checking every byte of it.
 */

/* Where the probe process stopped short of a result. */
enum dvol_probe_step {
	DVOL_PROBE_STEP_PRIVILEGES, /* dvol_nfs_drop_privileges() */
	DVOL_PROBE_STEP_SANDBOX,    /* the stdio, rpath, inet stage */
	DVOL_PROBE_STEP_PROBE,	    /* dvol_nfs_probe() itself (memory, poll) */
};

struct dvol_probe_job {
	struct dvol_nfs_target *target; /* the probe process's copy is the one probed */
	/*
	 * More than 1: TARGET is an array of that many, probed at once in one poll loop, and
	 * each verdict is handed over as it comes (dvol_probe_wait_all()); with retry_ms,
	 * all are probed again until all are ok, and a later verdict replaces an earlier one.
	 */
	size_t n_targets;
	struct dvol_nfs_probe_params params;
	uint64_t retry_ms; /* probe again after a transient failure, for this long; 0: once */
	bool retry_any;	   /* after any failure, not only a transient one (until ok) */
	struct dvol_backoff backoff; /* pauses between probes; zero: DVOL_NFS_BACKOFF */
	/*
	 * Called in the probe process, whose only voice is stderr: the helper's words for a
	 * step that failed (then the process exits with DVOL_EX_SYSERR and no result), and for
	 * a transient failure that is probed again after PAUSE_MS. Either may be NULL.
	 */
	void (*failed)(enum dvol_probe_step step, int r, void *userdata);
	void (*retrying)(const struct dvol_nfs_target *t, uint64_t pause_ms, void *userdata);
	void *userdata;
};

/*
 * Fork the probe process for JOB; *ret_fd is the read end of its result. SIGCHLD is
 * ignored from here on: the process is never waited for (the parent's sandbox has no
 * wait4), the kernel reaps it. It dies with the parent. 0 or -errno.
 */
int dvol_probe_start(const struct dvol_probe_job *job, int *ret_fd);

/*
 * The result from FD, read by UNTIL_MS (dvol_now_ms()'s clock) and up to the end of the
 * pipe, decoded into T. 0; -ETIMEDOUT; -EPIPE when the process ended without sending a
 * byte (it said why itself, or it died); -EBADMSG for anything but one whole, valid frame;
 * -ENOMEM; or another -errno of the read.
 */
int dvol_probe_wait(int fd, uint64_t until_ms, struct dvol_nfs_target *t, unsigned *ret_attempts);

/*
 * What goes over the pipe: a versioned frame around dvol_nfs_result and the export list.
 * Only the header and the EXPORT_BYTES used of exports[] are sent: most verdicts list no
 * exports, and 256 targets would otherwise push 4 MiB of zeros through the pipe.
 */
#define DVOL_PROBE_FRAME_MAGIC	 0x64767066u /* "dvpf" */
#define DVOL_PROBE_FRAME_VERSION 3u
/* The export list a frame holds: names escaped (printable ASCII), each ended by a NUL. A
 * longer list is cut, and says so (DVOL_PROBE_EXPORTS_CUT). */
#define DVOL_PROBE_EXPORTS_MAX	   256
#define DVOL_PROBE_EXPORT_NAME_MAX 4096 /* MNTPATHLEN 1024, each byte escaped as \ooo */
#define DVOL_PROBE_EXPORTS_BYTES   16384
#define DVOL_PROBE_EXPORTS_LISTED  (1u << 0) /* MOUNT EXPORT answered (maybe with none) */
#define DVOL_PROBE_EXPORTS_CUT	   (1u << 1) /* the server listed more than the frame holds */
struct dvol_probe_frame {
	uint32_t magic;
	uint32_t version;
	uint32_t size; /* of this frame as sent: DVOL_PROBE_FRAME_HEADER + export_bytes */
	uint32_t reserved;
	struct dvol_nfs_result result;
	uint32_t export_flags;
	uint32_t export_count;
	uint32_t export_bytes; /* used of exports[]; the frame ends after them */
	uint32_t index;	       /* the target's place in the job's array (0 for one) */
	char exports[DVOL_PROBE_EXPORTS_BYTES];
};
#define DVOL_PROBE_FRAME_HEADER offsetof(struct dvol_probe_frame, exports)
#define DVOL_PROBE_FRAME_MAX	(DVOL_PROBE_FRAME_HEADER + DVOL_PROBE_EXPORTS_BYTES)

/* The frame of T's verdict in *RET; what is sent of it is its first RET->size bytes (what
 * follows in exports[] is not set). */
void dvol_probe_frame_pack(const struct dvol_nfs_target *t, unsigned attempts,
			   struct dvol_probe_frame *ret);

/*
 * The verdicts of a job of N targets from FD, frame by frame as they come, until the end
 * of the pipe or UNTIL_MS: each into T[its index], with its ATTEMPTS[index], and
 * GOT[index] set. 0 at the end of the pipe (the targets without GOT have no verdict: the
 * process died first); -ETIMEDOUT; -EBADMSG at the first frame that is not whole and
 * valid, or whose index is not below N (nothing after it is read; a header that says the
 * frame is longer than DVOL_PROBE_FRAME_MAX is refused before its list is read); -ENOMEM;
 * or another -errno of the read. Verdicts that came before any of these stay.
 */
int dvol_probe_wait_all(int fd, uint64_t until_ms, struct dvol_nfs_target *t, size_t n,
			unsigned *attempts, bool *got);
/*
 * LEN bytes read from a probe process into T: 0, or -EBADMSG when they are not exactly one
 * frame of this version (as long as its header says, and no longer than
 * DVOL_PROBE_FRAME_MAX), for index 0, whose every field checks, export list included: no
 * more names than counted nor fewer, none longer than the limit, nothing but printable
 * ASCII, nothing after the last (T is then left as it was); or -ENOMEM.
 */
int dvol_probe_frame_unpack(const void *buf, size_t len, struct dvol_nfs_target *t,
			    unsigned *ret_attempts);
