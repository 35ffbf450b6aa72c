/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <seccomp.h>

#include "cleanup.h"

DEFINE_CLEANUP_FUNC(scmp_filter_ctx, seccomp_release)

/*
 * A pledge(2)-like layer over libseccomp. A helper names the capability sets it still
 * needs; each call stacks one more filter, so a process can only ever narrow. Anything
 * outside the sets kills the process (SIGSYS), except:
 *   - clone3 answers ENOSYS, so that glibc falls back to clone;
 *   - openat2 answers ENOSYS without DVOL_SB_WPATH, so that callers fall back to openat,
 *     whose flags the filter can see;
 *   - ptrace, kexec_*, *_module, bpf, perf_event_open, userfaultfd, keyctl and friends
 *     are killed even in log mode.
 * Filters check the architecture: on x86-64, i386 (int 0x80) and x32 calls are killed.
 *
 * In test builds only (-DDVOL_TEST_HOOKS), DVOL_SANDBOX=log logs violations (to the audit
 * log) instead of killing; release builds have no switch at all. Builds with sanitizers
 * step aside, and say so on stderr: ASan and LSan need ptrace at exit. There is no other
 * way to turn the sandbox off.
 */
enum {
	DVOL_SB_STDIO = 1u << 0,  /* memory, time, signals to itself, I/O on fds already held
				     (the log's socket, connected before), no new socket */
	DVOL_SB_RPATH = 1u << 1,  /* open read-only, stat, readdir, readlink */
	DVOL_SB_WPATH = 1u << 2,  /* open for writing, create, remove, rename, chmod, chown */
	DVOL_SB_BLKDEV = 1u << 3, /* block-device ioctls (sizes, geometry, rescan), flock */
	DVOL_SB_MOUNT = 1u << 4,  /* mount, umount2, fsopen, fsconfig, fsmount, move_mount,
				     open_tree, mount_setattr, fspick */
	DVOL_SB_INET = 1u << 5,	  /* IPv4/IPv6 sockets, and name resolution's netlink/unix */
	DVOL_SB_EXEC = 1u << 6,	  /* fork, execve, wait and kill: for mkfs */
	DVOL_SB_MD = 1u << 7,	  /* md's ioctls and the device nodes mdadm makes: for mdadm */
	DVOL_SB_NS = 1u << 8,	  /* setns(CLONE_NEWNS) in a child, and waiting for it: for
				     dvol-writer's fence of a volume's binds in other mount
				     namespaces */
};

enum dvol_sandbox_mode {
	DVOL_SANDBOX_KILL,
	DVOL_SANDBOX_LOG,
	DVOL_SANDBOX_ASIDE, /* sanitizer build */
};

enum dvol_sandbox_mode dvol_sandbox_mode(void);

/* Sets NO_NEW_PRIVS and stacks one filter allowing exactly SETS. 0 or -errno. */
int dvol_sandbox_enter(unsigned sets);

/* The stages compiled at build time (common/sandbox-gen.c); others are built when entered. */
#define DVOL_SANDBOX_STAGES                                                                        \
	DVOL_SB_STDIO, DVOL_SB_STDIO | DVOL_SB_RPATH,                                              \
	    DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_WPATH,                                         \
	    DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_WPATH | DVOL_SB_MOUNT,                         \
	    DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_WPATH | DVOL_SB_MOUNT | DVOL_SB_BLKDEV,        \
	    DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_WPATH | DVOL_SB_MOUNT | DVOL_SB_BLKDEV |       \
		DVOL_SB_EXEC,                                                                      \
	    DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_WPATH | DVOL_SB_MOUNT | DVOL_SB_INET,          \
	    DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_INET, DVOL_SB_STDIO | DVOL_SB_INET,            \
	    DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_BLKDEV,                                        \
	    DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_MOUNT | DVOL_SB_EXEC,                          \
	    DVOL_SB_STDIO | DVOL_SB_EXEC

/*
 * Build the filter for SETS without loading it: for the build-time generator and tests.
 * SELF is the only pid that kill and tgkill may name (without DVOL_SB_EXEC); the generator
 * builds with DVOL_SANDBOX_SELF_PLACEHOLDER, which dvol_sandbox_patch_self() replaces in a
 * copy when the stage is entered. It is above PID_MAX_LIMIT: no process ever has it.
 */
#include <seccomp.h>
#include <linux/filter.h>
#define DVOL_SANDBOX_SELF_PLACEHOLDER ((pid_t)0x3dfe5e1f)
int dvol_sandbox_compile(unsigned sets, enum dvol_sandbox_mode mode, pid_t self,
			 scmp_filter_ctx *ret);
/* Replace the placeholder pid in INSNS by SELF; returns how many were replaced. */
size_t dvol_sandbox_patch_self(struct sock_filter *insns, size_t len, pid_t self);

/* "stdio rpath mount" etc., for -v output and the man pages. Static buffer. */
const char *dvol_sandbox_sets_to_string(unsigned sets);

/*
 * Refuse to run setuid, setgid or with file capabilities: 0, or -EPERM with *ret_why
 * saying what was found. dvol's helpers are started by root (mount(8), systemd, udev)
 * or by a user for themselves, never elevated.
 */
int dvol_refuse_elevation(const char **ret_why);
