/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sandbox against the real kernel: each case forks a child that installs exactly one
 * stage and makes one call; the parent looks at how the child ended.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox.h"
#include "sandbox-filters.h"

static char tmpdir[] = "/tmp/dvol-sandbox-XXXXXX";

enum { EXIT_ALLOWED = 0, EXIT_DENIED_ERRNO = 3, EXIT_SETUP = 99 };

/* SETS for a child that installs no filter at all: what the bare kernel does. */
#define NO_SANDBOX (~0u)

/* Run FN in a child inside SETS; returns the raw wait status. */
static int in_child(unsigned sets, int (*fn)(void))
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		/* cmocka catches these to report a crash; in the child they must kill it, or
		 * the child would go on to run the rest of the suite. */
		static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGSYS};

		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			signal(sigs[i], SIG_DFL);
		if (sets != NO_SANDBOX && dvol_sandbox_enter(sets) < 0)
			_exit(EXIT_SETUP);
		_exit(fn());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void assert_killed(int status)
{
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
		fail_msg("expected death by SIGSYS, got %s %d",
			 WIFSIGNALED(status) ? "signal" : "exit",
			 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

static void assert_exit(int status, int code)
{
	if (!WIFEXITED(status) || WEXITSTATUS(status) != code)
		fail_msg("expected exit %d, got %s %d", code,
			 WIFSIGNALED(status) ? "signal" : "exit",
			 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

static int do_getpid_write(void)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0 || getpid() <= 0)
		return 1;
	return write(p[1], "x", 1) == 1 ? 0 : 1;
}

static int do_open_ro(void)
{
	int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);

	return fd >= 0 ? 0 : 1;
}

static int do_open_write(void)
{
	char p[64];
	int fd;

	snprintf(p, sizeof(p), "%s/w", tmpdir);
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return 1;
	return unlink(p) == 0 ? 0 : 1;
}

static int do_openat2(void)
{
	struct {
		uint64_t flags, mode, resolve;
	} how = {O_RDONLY, 0, 0};
	long r = syscall(SYS_openat2, AT_FDCWD, "/etc/passwd", &how, sizeof(how));

	return r < 0 && errno == ENOSYS ? EXIT_DENIED_ERRNO : r >= 0 ? 0 : 1;
}

static int do_mkdir(void)
{
	char p[64];

	snprintf(p, sizeof(p), "%s/d", tmpdir);
	return mkdir(p, 0700) == 0 && rmdir(p) == 0 ? 0 : 1;
}

static int do_inet(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	return fd >= 0 ? 0 : 1;
}

static int do_inet6(void)
{
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	return fd >= 0 ? 0 : 1;
}

static int do_packet(void)
{
	/* AF_PACKET is never an NFS client's business. */
	socket(AF_PACKET, SOCK_RAW, 0);
	return 0;
}

static int do_blk_size(void)
{
	uint64_t sz;
	int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);

	/* A regular file answers ENOTTY: the filter let the request through. */
	return ioctl(fd, BLKGETSIZE64, &sz) < 0 && errno == ENOTTY ? 0 : 1;
}

static int do_blk_discard(void)
{
	uint64_t range[2] = {0, 4096};
	int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);

	ioctl(fd, BLKDISCARD, range);
	return 0;
}

static int do_isatty(void)
{
	/* TCGETS, on any fd: allowed in stdio. */
	isatty(0);
	return 0;
}

static int do_mount(void)
{
	/* Unprivileged or not, the filter must let mount(2) reach the kernel. */
	int r = mount("none", tmpdir, "tmpfs", 0, NULL);

	if (r == 0)
		umount2(tmpdir, MNT_DETACH);
	return 0;
}

static int do_open_tree(void)
{
	int fd = (int)syscall(SYS_open_tree, AT_FDCWD, "/", 0);

	return fd >= 0 || errno != ENOSYS ? 0 : 1;
}

static int do_exec(void)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return 1;
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return 1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

static int do_execve_direct(void)
{
	execl("/bin/true", "true", (char *)NULL);
	return 1;
}

static int do_ptrace(void)
{
	ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	return 0;
}

static int do_bpf(void)
{
	syscall(SYS_bpf, 0, NULL, 0);
	return 0;
}

static int do_keyctl(void)
{
	syscall(SYS_keyctl, 0, 0, 0, 0, 0);
	return 0;
}

static void *thread_fn(void *arg)
{
	return arg;
}

static int do_thread(void)
{
	pthread_t t;
	void *ret;

	/* clone3 answers ENOSYS; glibc must fall back to clone and succeed. */
	if (syscall(SYS_clone3, NULL, 0) >= 0 || errno != ENOSYS)
		return 2;
	if (pthread_create(&t, NULL, thread_fn, (void *)7) != 0)
		return 1;
	if (pthread_join(t, &ret) != 0 || ret != (void *)7)
		return 1;
	return 0;
}

static int do_int80(void)
{
	long ret = 20; /* getpid on i386 */

	__asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
	return 0;
}

static int do_x32(void)
{
	/* __X32_SYSCALL_BIT | getpid */
	syscall(0x40000000 | SYS_getpid);
	return 0;
}

/* Made by the parent before the child narrows: a daemon's socket a helper could reach (a
 * container runtime's), a fresh socket to reach it with, and a connected pair, like the
 * log's. */
static struct sockaddr_un daemon_addr = {.sun_family = AF_UNIX};
static int daemon_fd = -EBADF, loose_fd = -EBADF, pair_fd[2] = {-EBADF, -EBADF};

static int do_unix_socket(void)
{
	socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	return 0;
}

static int do_unix_connect(void)
{
	connect(loose_fd, (struct sockaddr *)&daemon_addr, sizeof(daemon_addr));
	return 0;
}

static int do_unix_sendto_addr(void)
{
	sendto(loose_fd, "x", 1, MSG_NOSIGNAL, (struct sockaddr *)&daemon_addr,
	       sizeof(daemon_addr));
	return 0;
}

static int do_send_connected(void)
{
	/* What the log does on the socket it connected before the sandbox. */
	return send(pair_fd[0], "x", 1, MSG_NOSIGNAL) == 1 ? 0 : 1;
}

static int do_kill_self(void)
{
	return kill(getpid(), 0) == 0 ? 0 : 1;
}

static int do_raise(void)
{
	/* raise(3) is tgkill on itself; SIGURG's default action is to ignore it. */
	return raise(SIGURG) == 0 ? 0 : 1;
}

static int do_kill_parent(void)
{
	kill(getppid(), 0);
	return 0;
}

static int do_tgkill_parent(void)
{
	syscall(SYS_tgkill, getppid(), getppid(), 0);
	return 0;
}

static int do_kill_all(void)
{
	/* Signal 0 to every process we may signal: a probe, harmless if it passed. */
	kill(-1, 0);
	return 0;
}

static int status_filters(int *ret_seccomp, int *ret_nnp)
{
	char buf[4096];
	FILE *f = fopen("/proc/self/status", "re");
	int filters = -1;

	if (!f)
		return -1;
	while (fgets(buf, sizeof(buf), f)) {
		sscanf(buf, "Seccomp: %d", ret_seccomp);
		sscanf(buf, "NoNewPrivs: %d", ret_nnp);
		sscanf(buf, "Seccomp_filters: %d", &filters);
	}
	fclose(f);
	return filters;
}

static int do_status(void)
{
	char buf[4096];
	FILE *f = fopen("/proc/self/status", "re");
	int seccomp = -1, nnp = -1, filters = -1;

	if (!f)
		return 1;
	while (fgets(buf, sizeof(buf), f)) {
		sscanf(buf, "Seccomp: %d", &seccomp);
		sscanf(buf, "NoNewPrivs: %d", &nnp);
		sscanf(buf, "Seccomp_filters: %d", &filters);
	}
	fclose(f);
	return seccomp == 2 && nnp == 1 && filters >= 2 ? 0 : 1;
}

/* ---- one test per capability set: the allowed call works, the forbidden one kills ---- */

static void test_stdio(void **state)
{
	assert_exit(in_child(DVOL_SB_STDIO, do_getpid_write), EXIT_ALLOWED);
	assert_exit(in_child(DVOL_SB_STDIO, do_isatty), EXIT_ALLOWED);
	assert_exit(in_child(DVOL_SB_STDIO, do_thread), EXIT_ALLOWED);
	assert_killed(in_child(DVOL_SB_STDIO, do_open_ro));
	assert_killed(in_child(DVOL_SB_STDIO, do_inet));
	assert_killed(in_child(DVOL_SB_STDIO, do_blk_size));
}

/* The narrow stages hold no way to a daemon's socket, and signal nobody but themselves. Both
 * the stages compiled at build time (the first three) and one compiled when entered. */
static void test_unix_and_signals(void **state)
{
	static const unsigned stages[] = {
	    DVOL_SB_STDIO,
	    DVOL_SB_STDIO | DVOL_SB_RPATH,
	    DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_WPATH | DVOL_SB_MOUNT,
	    DVOL_SB_STDIO | DVOL_SB_MOUNT,
	};

	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
		unsigned sets = stages[i];

		print_message("# stage: %s\n", dvol_sandbox_sets_to_string(sets));
		assert_exit(in_child(NO_SANDBOX, do_unix_connect), EXIT_ALLOWED);
		assert_killed(in_child(sets, do_unix_socket));
		assert_killed(in_child(sets, do_unix_connect));
		assert_killed(in_child(sets, do_unix_sendto_addr));
		assert_exit(in_child(sets, do_send_connected), EXIT_ALLOWED);
		assert_exit(in_child(sets, do_kill_self), EXIT_ALLOWED);
		assert_exit(in_child(sets, do_raise), EXIT_ALLOWED);
		assert_killed(in_child(sets, do_kill_parent));
		assert_killed(in_child(sets, do_tgkill_parent));
		assert_killed(in_child(sets, do_kill_all));
	}
}

/* mkfs's timeout must still be able to kill the child it started. */
static void test_exec_signals(void **state)
{
	assert_exit(in_child(DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_EXEC, do_kill_parent),
		    EXIT_ALLOWED);
}

static void test_rpath(void **state)
{
	assert_exit(in_child(DVOL_SB_STDIO | DVOL_SB_RPATH, do_open_ro), EXIT_ALLOWED);
	assert_exit(in_child(DVOL_SB_STDIO | DVOL_SB_RPATH, do_openat2), EXIT_DENIED_ERRNO);
	assert_killed(in_child(DVOL_SB_STDIO | DVOL_SB_RPATH, do_open_write));
	assert_killed(in_child(DVOL_SB_STDIO | DVOL_SB_RPATH, do_mkdir));
}

static void test_wpath(void **state)
{
	unsigned sets = DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_WPATH;

	assert_exit(in_child(sets, do_open_write), EXIT_ALLOWED);
	assert_exit(in_child(sets, do_mkdir), EXIT_ALLOWED);
	assert_exit(in_child(sets, do_openat2), EXIT_ALLOWED);
	assert_killed(in_child(sets, do_inet));
	assert_killed(in_child(sets, do_mount));
}

static void test_blkdev(void **state)
{
	unsigned sets = DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_BLKDEV;

	assert_exit(in_child(sets, do_blk_size), EXIT_ALLOWED);
	/* Discarding is not a thing dvol ever does to a device. */
	assert_killed(in_child(sets, do_blk_discard));
}

static void test_mount(void **state)
{
	unsigned sets = DVOL_SB_STDIO | DVOL_SB_MOUNT;

	assert_exit(in_child(sets, do_mount), EXIT_ALLOWED);
	assert_exit(in_child(sets, do_open_tree), EXIT_ALLOWED);
	assert_killed(in_child(DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_WPATH, do_open_tree));
}

static void test_inet(void **state)
{
	unsigned sets = DVOL_SB_STDIO | DVOL_SB_INET;

	assert_exit(in_child(sets, do_inet), EXIT_ALLOWED);
	assert_exit(in_child(sets, do_inet6), EXIT_ALLOWED);
	assert_killed(in_child(sets, do_packet));
	assert_killed(in_child(sets, do_open_ro));
}

static void test_exec(void **state)
{
	unsigned sets = DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_EXEC;

	assert_exit(in_child(sets, do_exec), EXIT_ALLOWED);
	assert_killed(in_child(DVOL_SB_STDIO | DVOL_SB_RPATH, do_execve_direct));
}

static void test_never(void **state)
{
	unsigned all = DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_WPATH | DVOL_SB_BLKDEV |
		       DVOL_SB_MOUNT | DVOL_SB_INET | DVOL_SB_EXEC;

	assert_killed(in_child(all, do_ptrace));
	assert_killed(in_child(all, do_bpf));
	assert_killed(in_child(all, do_keyctl));
}

/* The i386 ABI through int 0x80 must die by SIGSYS, where the kernel offers it at all: with
 * IA32 emulation built out or switched off (ia32_emulation=0), the kernel itself answers int
 * 0x80 with SIGSEGV before seccomp sees a call, and there is nothing left to filter. */
static void test_arch_i386(void **state)
{
	int status = in_child(NO_SANDBOX, do_int80);

	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) {
		printf("# int 0x80 gives SIGSEGV without any filter: this kernel offers no i386 "
		       "ABI to filter\n");
		skip();
	}
	assert_exit(status, EXIT_ALLOWED);
	assert_killed(in_child(DVOL_SB_STDIO, do_int80));
}

/* x32 calls (__X32_SYSCALL_BIT) reach seccomp whether or not the kernel has the x32 ABI. */
static void test_arch_x32(void **state)
{
	assert_killed(in_child(DVOL_SB_STDIO, do_x32));
}

static int narrow_then_open(void)
{
	if (dvol_sandbox_enter(DVOL_SB_STDIO) < 0)
		return EXIT_SETUP;
	return do_open_ro();
}

static int widen_then_open(void)
{
	/* Asking for more later gives nothing: the first filter still says no. */
	if (dvol_sandbox_enter(DVOL_SB_STDIO | DVOL_SB_RPATH) < 0)
		return EXIT_SETUP;
	return do_open_ro();
}

static void test_stacking(void **state)
{
	assert_killed(in_child(DVOL_SB_STDIO | DVOL_SB_RPATH, narrow_then_open));
	assert_killed(in_child(DVOL_SB_STDIO, widen_then_open));
	assert_exit(in_child(DVOL_SB_STDIO | DVOL_SB_RPATH, widen_then_open), EXIT_ALLOWED);
}

static int stacked_status(void)
{
	if (dvol_sandbox_enter(DVOL_SB_STDIO | DVOL_SB_RPATH) < 0)
		return EXIT_SETUP;
	return do_status();
}

static int same_sets_stack_nothing(void)
{
	int seccomp = -1, nnp = -1, before, after;

	before = status_filters(&seccomp, &nnp);
	if (dvol_sandbox_enter(DVOL_SB_STDIO | DVOL_SB_RPATH) < 0)
		return EXIT_SETUP;
	after = status_filters(&seccomp, &nnp);
	return before == 1 && after == 1 ? 0 : 1;
}

static void test_status(void **state)
{
	unsigned wide = DVOL_SB_STDIO | DVOL_SB_RPATH | DVOL_SB_WPATH;

	assert_exit(in_child(wide, stacked_status), EXIT_ALLOWED);
	assert_exit(in_child(DVOL_SB_STDIO | DVOL_SB_RPATH, same_sets_stack_nothing), EXIT_ALLOWED);
}

static void test_log_mode(void **state)
{
	int status;

	setenv("DVOL_SANDBOX", "log", 1);
	assert_int_equal(dvol_sandbox_mode(), DVOL_SANDBOX_LOG);
	/* Logged, not killed... */
	status = in_child(DVOL_SB_STDIO, do_open_ro);
	/* ...but the never-list kills even here. */
	assert_killed(in_child(DVOL_SB_STDIO, do_ptrace));
	unsetenv("DVOL_SANDBOX");
	assert_exit(status, EXIT_ALLOWED);

	setenv("DVOL_SANDBOX", "off", 1);
	assert_int_equal(dvol_sandbox_mode(), DVOL_SANDBOX_KILL);
	unsetenv("DVOL_SANDBOX");
}

/* The table built at build time is what the same rules compile to now, stage by stage. */
static void test_precompiled_current(void **state)
{
	static const unsigned stages[] = {DVOL_SANDBOX_STAGES};

	assert_int_equal(sizeof(stages) / sizeof(stages[0]),
			 sizeof(dvol_precompiled) / sizeof(dvol_precompiled[0]));
	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
		scmp_filter_ctx ctx = NULL;
		char path[] = "/tmp/dvol-sandbox-test.XXXXXX";
		int fd = mkstemp(path);
		off_t len;
		void *buf;

		assert_true(fd >= 0);
		unlink(path);
		assert_int_equal(dvol_precompiled[i].sets, stages[i]);
		assert_int_equal(dvol_sandbox_compile(stages[i], DVOL_SANDBOX_KILL,
						      DVOL_SANDBOX_SELF_PLACEHOLDER, &ctx),
				 0);
		assert_int_equal(seccomp_export_bpf(ctx, fd), 0);
		seccomp_release(ctx);
		len = lseek(fd, 0, SEEK_END);
		assert_int_equal(len, (off_t)dvol_precompiled[i].len * 8);
		buf = malloc(len);
		assert_int_equal(pread(fd, buf, len, 0), len);
		assert_memory_equal(buf, dvol_precompiled[i].insns, len);
		free(buf);
		close(fd);
	}
}

/* What is loaded: the table's stage with the placeholder replaced is the stage compiled for
 * this pid, and every stage that signals only itself has the placeholder to replace. */
static void test_precompiled_patched(void **state)
{
	static const unsigned stages[] = {DVOL_SANDBOX_STAGES};
	pid_t self = getpid();

	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
		scmp_filter_ctx ctx = NULL;
		char path[] = "/tmp/dvol-sandbox-test.XXXXXX";
		int fd = mkstemp(path);
		size_t len = dvol_precompiled[i].len * sizeof(struct sock_filter);
		struct sock_filter *patched = malloc(len), *compiled = malloc(len);
		size_t n;

		assert_true(fd >= 0 && patched && compiled);
		unlink(path);
		memcpy(patched, dvol_precompiled[i].insns, len);
		n = dvol_sandbox_patch_self(patched, dvol_precompiled[i].len, self);
		if (stages[i] & DVOL_SB_EXEC)
			assert_int_equal(n, 0);
		else
			assert_true(n >= 1); /* kill and tgkill (libseccomp may share one) */
		assert_int_equal(dvol_sandbox_compile(stages[i], DVOL_SANDBOX_KILL, self, &ctx), 0);
		assert_int_equal(seccomp_export_bpf(ctx, fd), 0);
		seccomp_release(ctx);
		assert_int_equal(lseek(fd, 0, SEEK_END), (off_t)len);
		assert_int_equal(pread(fd, compiled, len, 0), (ssize_t)len);
		assert_memory_equal(patched, compiled, len);
		free(patched);
		free(compiled);
		close(fd);
	}
}

static void test_sets_to_string(void **state)
{
	assert_string_equal(dvol_sandbox_sets_to_string(DVOL_SB_STDIO | DVOL_SB_MOUNT),
			    "stdio mount");
	assert_string_equal(dvol_sandbox_sets_to_string(0), "");
}

static int setup(void **state)
{
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(daemon_addr.sun_path, sizeof(daemon_addr.sun_path), "%s/daemon.sock", tmpdir);
	daemon_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (daemon_fd < 0 ||
	    bind(daemon_fd, (struct sockaddr *)&daemon_addr, sizeof(daemon_addr)) < 0)
		return -1;
	loose_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (loose_fd < 0 || socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pair_fd) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	close(daemon_fd);
	close(loose_fd);
	close(pair_fd[0]);
	close(pair_fd[1]);
	unlink(daemon_addr.sun_path);
	rmdir(tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stdio),
	    cmocka_unit_test(test_unix_and_signals),
	    cmocka_unit_test(test_exec_signals),
	    cmocka_unit_test(test_rpath),
	    cmocka_unit_test(test_wpath),
	    cmocka_unit_test(test_blkdev),
	    cmocka_unit_test(test_mount),
	    cmocka_unit_test(test_inet),
	    cmocka_unit_test(test_exec),
	    cmocka_unit_test(test_never),
	    cmocka_unit_test(test_arch_i386),
	    cmocka_unit_test(test_arch_x32),
	    cmocka_unit_test(test_stacking),
	    cmocka_unit_test(test_status),
	    cmocka_unit_test(test_log_mode),
	    cmocka_unit_test(test_sets_to_string),
	    cmocka_unit_test(test_precompiled_current),
	    cmocka_unit_test(test_precompiled_patched),
	};

	if (dvol_sandbox_mode() == DVOL_SANDBOX_ASIDE) {
		/* One skip, not a skipped tier: the normal build proves the sandbox. */
		printf("1..1\nok 1 # SKIP sanitizer build: the sandbox steps aside\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
