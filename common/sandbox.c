/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/blkpg.h>
#include <linux/cdrom.h>
#include <linux/fd.h>
#include <linux/hdreg.h>
#include <linux/loop.h>
#include <linux/major.h>
#include <linux/raid/md_u.h>
#include <linux/blkzoned.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <termios.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>

#include <seccomp.h>

#include "cleanup.h"
#include "sandbox.h"

#ifndef DVOL_SANDBOX_GENERATOR
#include "sandbox-filters.h" /* generated at build time by common/sandbox-gen.c */
#endif

#if defined(__SANITIZE_ADDRESS__)
#define DVOL_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define DVOL_SANITIZED 1
#endif
#endif

static const char *const set_stdio[] = {
    "read",
    "write",
    "readv",
    "writev",
    "pread64",
    "pwrite64",
    "preadv",
    "preadv2",
    "pwritev",
    "pwritev2",
    "close",
    "close_range",
    "lseek",
    "fstat",
    "newfstatat",
    "statx",
    "brk",
    "mmap",
    "munmap",
    "mremap",
    "mprotect",
    "madvise",
    "exit",
    "exit_group",
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "rt_sigtimedwait",
    "sigaltstack",
    "getpid",
    "getppid",
    "gettid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "getresuid",
    "getresgid",
    "getgroups",
    "getrandom",
    "clock_gettime",
    "clock_getres",
    "clock_nanosleep",
    "nanosleep",
    "gettimeofday",
    "time",
    "futex",
    "rseq",
    "set_robust_list",
    "get_robust_list",
    "set_tid_address",
    "prlimit64",
    "getrlimit",
    "fcntl",
    "dup",
    "dup2",
    "dup3",
    "pipe",
    "pipe2",
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "eventfd2",
    "timerfd_create",
    "timerfd_settime",
    "timerfd_gettime",
    "uname",
    "sched_yield",
    "sched_getaffinity",
    "sysinfo",
    "restart_syscall",
    "alarm",
    "getitimer",
    "setitimer",
    "getpgrp",
    "umask",
    "seccomp",
    /* Landlock, like seccomp, only ever narrows (dvol-gc confines its walk to the roots) */
    "landlock_create_ruleset",
    "landlock_add_rule",
    "landlock_restrict_self",
    NULL,
};

static const char *const set_rpath[] = {
    "readlink",
    "readlinkat",
    "getdents64",
    "getdents",
    "access",
    "faccessat",
    "faccessat2",
    "stat",
    "lstat",
    "statfs",
    "fstatfs",
    "chdir",
    "fchdir",
    "getcwd",
    "getxattr",
    "lgetxattr",
    "fgetxattr",
    "listxattr",
    "llistxattr",
    "flistxattr",
    "fadvise64",
    "readahead",
    "name_to_handle_at",
    /* an advisory lock on a file opened read-only: dvol-gc asks whether someone holds it */
    "flock",
    NULL,
};

static const char *const set_wpath[] = {
    "creat",	 "mkdir",	    "mkdirat",	 "unlink",    "unlinkat",  "rmdir",
    "rename",	 "renameat",	    "renameat2", "link",      "linkat",	   "symlink",
    "symlinkat", "chmod",	    "fchmod",	 "fchmodat",  "chown",	   "fchown",
    "fchownat",	 "lchown",	    "truncate",	 "ftruncate", "fsync",	   "fdatasync",
    "syncfs",	 "sync_file_range", "utimensat", "utimes",    "futimesat", "flock",
    "fallocate", "openat2",	    NULL,
};

static const char *const set_blkdev[] = {
    "flock",
    "fsync",
    "fdatasync",
    NULL,
};

static const char *const set_mount[] = {
    "mount",  "umount2",    "fsopen",	 "fsconfig",	  "fsmount",
    "fspick", "move_mount", "open_tree", "mount_setattr", NULL,
};

static const char *const set_inet[] = {
    "connect",	  "bind",     "getsockname", "getpeername", "getsockopt",
    "setsockopt", "sendto",   "recvfrom",    "sendmsg",	    "recvmsg",
    "sendmmsg",	  "recvmmsg", "shutdown",    "socketpair",  NULL,
};

static const char *const set_exec[] = {
    "execve",
    "execveat",
    "fork",
    "vfork",
    "wait4",
    "waitid",
    /* mkfs's timeout kills the child, whose pid no filter built before the fork can name */
    "kill",
    "tgkill",
    "setpgid",
    "setsid",
    "arch_prctl",
    "getpgid",
    "getsid",
    "set_mempolicy",
    "get_mempolicy",
    /* mkfs.xfs (liburcu) registers for private expedited memory barriers at start */
    "membarrier",
    NULL,
};

/* mdadm: the array's node, where udev does not make it (its link is wpath's symlink);
 * it pins its memory while it changes an array. */
static const char *const set_md[] = {
    "mknodat", "mknod", "mlockall", "munlockall", NULL,
};

/* dvol-writer's fence of binds in other mount namespaces: a child joins each (setns, in the
 * rules), and is waited for. */
static const char *const set_ns[] = {
    "wait4",
    "waitid",
    NULL,
};

/* md's own ioctls (linux/raid/md_u.h), as mdadm asks them of /dev/mdN; and BLKPG, with
 * which it drops a member's partitions before it takes the member. */
static const unsigned long ioctl_md[] = {
    BLKPG,
    RAID_VERSION,
    GET_ARRAY_INFO,
    GET_DISK_INFO,
    GET_BITMAP_FILE,
    CLEAR_ARRAY,
    ADD_NEW_DISK,
    HOT_REMOVE_DISK,
    SET_ARRAY_INFO,
    SET_DISK_INFO,
    WRITE_RAID_INFO,
    UNPROTECT_ARRAY,
    PROTECT_ARRAY,
    HOT_ADD_DISK,
    SET_DISK_FAULTY,
    HOT_GENERATE_ERROR,
    SET_BITMAP_FILE,
    RUN_ARRAY,
    STOP_ARRAY,
    STOP_ARRAY_RO,
    RESTART_ARRAY_RW,
    CLUSTERED_DISK_NACK,
};

/* Never allowed, in any mode: no helper has a reason for them. */
static const char *const never[] = {
    "ptrace",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "keyctl",
    "add_key",
    "request_key",
    "process_vm_readv",
    "process_vm_writev",
    "iopl",
    "ioperm",
    "swapon",
    "swapoff",
    "reboot",
    "acct",
    "open_by_handle_at",
    "pidfd_getfd",
    "kcmp",
    NULL,
};

/* Terminal and fd ioctls anybody may make: isatty(3), FIONBIO, FIOCLEX. */
static const unsigned long ioctl_stdio[] = {TCGETS,  TIOCGWINSZ, FIONREAD,
					    FIONBIO, FIOCLEX,	 FIONCLEX};

/* What libblkid, libmount and mkfs ask of a block device: sizes, geometry, identity. */
static const unsigned long ioctl_blkdev[] = {
    BLKGETSIZE64,
    BLKGETSIZE,
    BLKSSZGET,
    BLKPBSZGET,
    BLKBSZGET,
    BLKIOMIN,
    BLKIOOPT,
    BLKALIGNOFF,
    BLKDISCARDZEROES,
    BLKROGET,
    BLKRAGET,
    BLKRRPART,
    BLKFLSBUF,
    BLKGETZONESZ,
    BLKGETNRZONES,
    BLKREPORTZONE,
    CDROM_GET_CAPABILITY,
    CDROMMULTISESSION,
    CDROM_LAST_WRITTEN,
    CDROM_DRIVE_STATUS,
    FDGETPRM,
    /* libblkid's "tiny device" check (floppies), made on every probe */
    FDGETFDCSTAT,
    HDIO_GETGEO,
    LOOP_GET_STATUS64,
    /* mkfs.xfs sets the device's page-cache block size to its sector size */
    BLKBSZSET,
    FS_IOC_GETFLAGS,
#ifdef BLKGETDISKSEQ
    BLKGETDISKSEQ,
#endif
};

static const int prctl_ok[] = {PR_SET_NO_NEW_PRIVS, PR_GET_NO_NEW_PRIVS, PR_GET_DUMPABLE,
			       PR_SET_NAME,	    PR_GET_NAME,	 PR_GET_SECCOMP};

enum dvol_sandbox_mode dvol_sandbox_mode(void)
{
#ifdef DVOL_SANITIZED
	return DVOL_SANDBOX_ASIDE;
#elif defined(DVOL_TEST_HOOKS)
	const char *e = getenv("DVOL_SANDBOX");

	return e && strcmp(e, "log") == 0 ? DVOL_SANDBOX_LOG : DVOL_SANDBOX_KILL;
#else
	/* A release build has no switch: a variable in mount(8)'s environment must not be
	 * able to turn the kill into a silent log. */
	return DVOL_SANDBOX_KILL;
#endif
}

const char *dvol_sandbox_sets_to_string(unsigned sets)
{
	static const char *const names[] = {"stdio", "rpath", "wpath", "blkdev", "mount",
					    "inet",  "exec",  "md",    "ns"};
	static char buf[64];
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (sets & (1u << i))
			n += snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? " " : "", names[i]);
	return buf;
}

static int add_names(scmp_filter_ctx ctx, const char *const *names, uint32_t action)
{
	for (; *names; names++) {
		int nr = seccomp_syscall_resolve_name(*names);
		int r;

		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		r = seccomp_rule_add(ctx, action, nr, 0);
		/* -EEXIST: the same call listed by two sets. */
		if (r < 0 && r != -EEXIST)
			return r;
	}
	return 0;
}

static int add_ioctls(scmp_filter_ctx ctx, const unsigned long *reqs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		/* The kernel reads the request as an unsigned int: compare the low 32 bits. */
		int r =
		    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, (uint32_t)reqs[i]));
		if (r < 0 && r != -EEXIST)
			return r;
	}
	return 0;
}

static int add_rules(scmp_filter_ctx ctx, unsigned sets, enum dvol_sandbox_mode mode, pid_t self)
{
	const int read_only_mask = O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND;
	int r;

	/* In kill mode the default action already kills them (and libseccomp refuses a
	 * rule that repeats the default). */
	if (mode == DVOL_SANDBOX_LOG) {
		r = add_names(ctx, never, SCMP_ACT_KILL_PROCESS);
		if (r < 0)
			return r;
	}
	r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (r < 0)
		return r;

	/* Threads, if a library wants one; never a new namespace. */
	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
			     SCMP_A0(SCMP_CMP_MASKED_EQ,
				     CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |
					 CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP,
				     0));
	if (r < 0)
		return r;
	/* NO_NEW_PRIVS for the next stage; DUMPABLE is how libmount and libblkid decide
	 * whether to trust the environment. */
	for (size_t i = 0; i < ELEMENTSOF(prctl_ok); i++) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				     SCMP_A0(SCMP_CMP_EQ, prctl_ok[i]));
		if (r < 0)
			return r;
	}

	if (sets & DVOL_SB_STDIO) {
		r = add_names(ctx, set_stdio, SCMP_ACT_ALLOW);
		if (r >= 0)
			r = add_ioctls(ctx, ioctl_stdio, ELEMENTSOF(ioctl_stdio));
		/* The log's socket was connected before the sandbox (common/log.c): sending on
		 * a connected socket names no address. No new socket, no connect: nothing to
		 * reach a container runtime's or another daemon's socket with. */
		if (r >= 0 && !(sets & DVOL_SB_INET))
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendto), 1,
					     SCMP_A4(SCMP_CMP_EQ, 0));
		/* raise(3), abort(3) and a debugging stop signal the process itself, and
		 * nothing else may be signalled; exec's mkfs child is the one exception. */
		if (r >= 0 && !(sets & DVOL_SB_EXEC))
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
					     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self));
		if (r >= 0 && !(sets & DVOL_SB_EXEC))
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1,
					     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self));
		if (r < 0)
			return r;
	}
	if (sets & DVOL_SB_WPATH) {
		r = add_names(ctx, set_wpath, SCMP_ACT_ALLOW);
		if (r >= 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 0);
		if (r >= 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 0);
		if (r < 0)
			return r;
	}
	if (sets & DVOL_SB_RPATH) {
		r = add_names(ctx, set_rpath, SCMP_ACT_ALLOW);
		if (r < 0)
			return r;
		if (!(sets & DVOL_SB_WPATH)) {
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
					     SCMP_A2(SCMP_CMP_MASKED_EQ, read_only_mask, O_RDONLY));
			if (r >= 0)
				r = seccomp_rule_add(
				    ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 1,
				    SCMP_A1(SCMP_CMP_MASKED_EQ, read_only_mask, O_RDONLY));
			/* openat2 hides its flags from the filter: make callers use openat. */
			if (r >= 0)
				r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(openat2),
						     0);
			if (r < 0)
				return r;
		}
	}
	if (sets & DVOL_SB_BLKDEV) {
		r = add_names(ctx, set_blkdev, SCMP_ACT_ALLOW);
		if (r >= 0)
			r = add_ioctls(ctx, ioctl_blkdev, ELEMENTSOF(ioctl_blkdev));
		if (r < 0)
			return r;
	}
	if (sets & DVOL_SB_MOUNT) {
		r = add_names(ctx, set_mount, SCMP_ACT_ALLOW);
		if (r < 0)
			return r;
	}
	if (sets & DVOL_SB_INET) {
		static const int families[] = {AF_INET, AF_INET6, AF_UNIX, AF_NETLINK};

		r = add_names(ctx, set_inet, SCMP_ACT_ALLOW);
		for (size_t i = 0; r >= 0 && i < ELEMENTSOF(families); i++) {
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
					     SCMP_A0(SCMP_CMP_EQ, families[i]));
			if (r == -EEXIST)
				r = 0;
		}
		if (r < 0)
			return r;
	}
	if (sets & DVOL_SB_EXEC) {
		r = add_names(ctx, set_exec, SCMP_ACT_ALLOW);
		if (r < 0)
			return r;
	}
	if (sets & DVOL_SB_MD) {
		r = add_names(ctx, set_md, SCMP_ACT_ALLOW);
		if (r >= 0)
			r = add_ioctls(ctx, ioctl_md, ELEMENTSOF(ioctl_md));
		if (r < 0)
			return r;
	}
	if (sets & DVOL_SB_NS) {
		/* Into another mount namespace only: never a user, network or pid one. */
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setns), 1,
				     SCMP_A1(SCMP_CMP_EQ, CLONE_NEWNS));
		if (r >= 0)
			r = add_names(ctx, set_ns, SCMP_ACT_ALLOW);
		if (r < 0)
			return r;
	}
	return 0;
}

int dvol_sandbox_compile(unsigned sets, enum dvol_sandbox_mode mode, pid_t self,
			 scmp_filter_ctx *ret)
{
	_cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
	int r;

	ctx = seccomp_init(mode == DVOL_SANDBOX_LOG ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r < 0)
		return r;
	/* A binary tree of syscall numbers, not a list: attaching a stage, the kernel runs it
	 * once for every syscall number (to cache the calls it always allows), and again on
	 * every call outside that cache. Through the tree each run is a few comparisons, not
	 * up to 200 instructions. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (r < 0)
		return r;
	r = add_rules(ctx, sets, mode, self);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(ctx);
	return 0;
}

size_t dvol_sandbox_patch_self(struct sock_filter *insns, size_t len, pid_t self)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (insns[i].code == (BPF_JMP | BPF_JEQ | BPF_K) &&
		    insns[i].k == (uint32_t)DVOL_SANDBOX_SELF_PLACEHOLDER) {
			insns[i].k = (uint32_t)self;
			n++;
		}
	return n;
}

/* 1 if SETS was compiled at build time and is now loaded, 0 if it was not compiled. */
static int load_precompiled(unsigned sets)
{
#ifndef DVOL_SANDBOX_GENERATOR
	for (size_t i = 0; i < ELEMENTSOF(dvol_precompiled); i++) {
		_cleanup_free_ struct sock_filter *insns = NULL;
		struct sock_fprog prog;

		if (dvol_precompiled[i].sets != sets)
			continue;
		/* Built before this process had a pid: the signal rules name a placeholder. */
		insns = malloc(sizeof(struct sock_filter) * dvol_precompiled[i].len);
		if (!insns)
			return -ENOMEM;
		memcpy(insns, dvol_precompiled[i].insns,
		       sizeof(struct sock_filter) * dvol_precompiled[i].len);
		if ((sets & DVOL_SB_STDIO) && !(sets & DVOL_SB_EXEC) &&
		    dvol_sandbox_patch_self(insns, dvol_precompiled[i].len, getpid()) == 0)
			return -EBADMSG;
		prog.len = dvol_precompiled[i].len;
		prog.filter = insns;
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
			return -errno;
		return 1;
	}
#endif
	return 0;
}

int dvol_sandbox_enter(unsigned sets)
{
	_cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
	enum dvol_sandbox_mode mode = dvol_sandbox_mode();
	static unsigned current = ~0u;
	int r;

	/* No word here: a common module does not log, and a line on stderr would make every
	 * helper's output differ from the release build's. --version says it instead. */
	if (mode == DVOL_SANDBOX_ASIDE)
		return 0;

	/* The same sets again would stack an identical filter: it narrows nothing and costs
	 * a filter build and a filter run on every call after. */
	if (sets == current)
		return 0;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;

	/* Kill mode: the stages the helpers use were compiled by libseccomp at build time,
	 * from these same rules (common/sandbox-gen.c); building one here costs more than
	 * everything else a bind does. */
	r = mode == DVOL_SANDBOX_KILL ? load_precompiled(sets) : 0;
	if (r < 0)
		return r;
	if (r == 0) {
		r = dvol_sandbox_compile(sets, mode, getpid(), &ctx);
		if (r < 0)
			return r;
		r = seccomp_load(ctx);
		if (r < 0)
			return r;
	}
	current = sets;
	return 0;
}

int dvol_refuse_elevation(const char **ret_why)
{
	struct stat st;
	char buf[64];

	if (getuid() != geteuid() || getgid() != getegid())
		return *ret_why =
			   "its real and effective user or group ids differ; dvol helpers are "
			   "never run setuid or setgid",
		       -EPERM;
	/* A setuid binary run by root keeps equal ids: look at the file itself. */
	if (stat("/proc/self/exe", &st) < 0)
		return *ret_why = "cannot inspect its own binary (/proc/self/exe)", -EPERM;
	if (st.st_mode & (S_ISUID | S_ISGID))
		return *ret_why =
			   "its binary is installed setuid or setgid; dvol helpers never are: "
			   "chmod u-s,g-s it",
		       -EPERM;
	if (getxattr("/proc/self/exe", "security.capability", buf, sizeof(buf)) >= 0)
		return *ret_why = "its binary carries file capabilities; dvol helpers never do: "
				  "setcap -r it",
		       -EPERM;
	return 0;
}
