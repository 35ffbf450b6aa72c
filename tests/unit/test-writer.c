/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "writer.h"
#include "tmpdir.h"

/* A fresh folder in the scratch folder, standing in for a volume's root (the private copy
 * of a mount is a folder fd like any other). */
static int volume(const char *name)
{
	char p[256];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_int_equal(mkdir(p, 0755), 0);
	fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static struct dvol_lease_record me(void)
{
	struct dvol_lease_record r;

	assert_int_equal(dvol_writer_identity(&r), 0);
	snprintf(r.mount_point, sizeof(r.mount_point), "/mnt/v");
	r.pid = getpid();
	r.since = r.heartbeat = 1764750000;
	r.generation = 1;
	return r;
}

static void test_identity(void **state)
{
	struct dvol_lease_record r;
	char host[256];

	assert_int_equal(dvol_writer_identity(&r), 0);
	assert_true(dvol_lease_machine_id_valid(r.machine_id));
	assert_true(dvol_lease_boot_id_valid(r.boot_id));
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	assert_string_equal(r.hostname, host);
	assert_int_equal(r.generation, 0);
	assert_int_equal(r.pid, 0);
}

/* Made where missing, 0755 and 0644; read-only opens make nothing. */
static void test_open_create(void **state)
{
	_cleanup_close_ int v = volume("create"), fd = -EBADF;
	struct stat st;

	assert_int_equal(dvol_writer_open_lock(v, false, &fd), -ENOENT);
	assert_int_equal(fstatat(v, DVOL_LEASE_DIR, &st, AT_SYMLINK_NOFOLLOW), -1);
	umask(022);
	assert_int_equal(dvol_writer_open_lock(v, true, &fd), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(fstatat(v, DVOL_LEASE_DIR, &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	fd = safe_close(fd);
	/* There now: the read-only open finds it. */
	assert_int_equal(dvol_writer_open_lock(v, false, &fd), 0);
	assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
}

/* What a hostile volume may put there: refused, and nothing written through it. */
static void test_open_refuses(void **state)
{
	static const struct {
		const char *name;
		int r;
	} t[] = {
	    {"dir-link", -ELOOP},   {"file-link", -ELOOP}, {"dangling", -ELOOP},
	    {"dir-file", -ENOTDIR}, {"fifo", -EBADFD},	   {"folder", -EBADFD},
	    {"hardlink", -EMLINK},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		char name[64], other[256];
		_cleanup_close_ int v = -EBADF, fd = -EBADF;
		struct stat st;

		print_message("case %s\n", t[i].name);
		snprintf(name, sizeof(name), "refuse-%s", t[i].name);
		v = volume(name);
		snprintf(other, sizeof(other), "%s/%s-other", dir, name);
		assert_int_equal(mkdir(other, 0755), 0);
		if (strcmp(t[i].name, "dir-link") == 0)
			assert_int_equal(symlinkat(other, v, DVOL_LEASE_DIR), 0);
		else if (strcmp(t[i].name, "dir-file") == 0)
			close(openat(v, DVOL_LEASE_DIR, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
		else {
			_cleanup_close_ int d = -EBADF;
			char target[300];

			assert_int_equal(mkdirat(v, DVOL_LEASE_DIR, 0755), 0);
			d = openat(v, DVOL_LEASE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			assert_true(d >= 0);
			snprintf(target, sizeof(target), "%s/x", other);
			if (strcmp(t[i].name, "file-link") == 0) {
				close(open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
				assert_int_equal(symlinkat(target, d, DVOL_LEASE_FILE), 0);
			} else if (strcmp(t[i].name, "dangling") == 0)
				assert_int_equal(symlinkat(target, d, DVOL_LEASE_FILE), 0);
			else if (strcmp(t[i].name, "fifo") == 0)
				assert_int_equal(mkfifoat(d, DVOL_LEASE_FILE, 0644), 0);
			else if (strcmp(t[i].name, "folder") == 0)
				assert_int_equal(mkdirat(d, DVOL_LEASE_FILE, 0755), 0);
			else {
				close(open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
				assert_int_equal(linkat(AT_FDCWD, target, d, DVOL_LEASE_FILE, 0),
						 0);
			}
		}
		/* O_RDWR on a folder is EISDIR before the type check can say it. */
		if (strcmp(t[i].name, "folder") == 0)
			assert_true(dvol_writer_open_lock(v, true, &fd) < 0);
		else
			assert_int_equal(dvol_writer_open_lock(v, true, &fd), t[i].r);
		assert_int_equal(fd, -EBADF);
		/* Nothing made or written where a link points. */
		if (strcmp(t[i].name, "dangling") == 0 || strcmp(t[i].name, "dir-link") == 0) {
			char x[300];

			snprintf(x, sizeof(x), "%s/x", other);
			assert_int_equal(stat(x, &st), -1);
			snprintf(x, sizeof(x), "%s/%s", other, DVOL_LEASE_FILE);
			assert_int_equal(stat(x, &st), -1);
		}
	}
}

/* Written whole at offset 0, read back; an empty file is no record; garbage and an
 * oversized file are -EBADMSG; trim cuts to one record. */
static void test_record_io(void **state)
{
	_cleanup_close_ int v = volume("record"), fd = -EBADF;
	struct dvol_lease_record r = me(), out;
	struct stat st;
	char big[DVOL_LEASE_RECORD_SIZE + 100];

	assert_int_equal(dvol_writer_open_lock(v, true, &fd), 0);
	assert_int_equal(dvol_writer_read_record(fd, &out), -ENODATA);
	assert_int_equal(dvol_writer_write_record(fd, &r), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, DVOL_LEASE_RECORD_SIZE);
	assert_int_equal(dvol_writer_read_record(fd, &out), 0);
	assert_int_equal(out.generation, 1);
	assert_string_equal(out.mount_point, "/mnt/v");

	/* A longer file: the same record with a tail is not a record. */
	memset(big, ' ', sizeof(big));
	assert_int_equal(pwrite(fd, big, sizeof(big), DVOL_LEASE_RECORD_SIZE),
			 (ssize_t)sizeof(big));
	assert_int_equal(dvol_writer_read_record(fd, &out), -EBADMSG);
	assert_int_equal(dvol_writer_trim(fd), 0);
	assert_int_equal(dvol_writer_read_record(fd, &out), 0);

	/* Garbage. */
	assert_int_equal(pwrite(fd, "garbage", 7, 0), 7);
	assert_int_equal(dvol_writer_read_record(fd, &out), -EBADMSG);
	/* A rewrite in place leaves no trace of it. */
	r.generation = 5;
	assert_int_equal(dvol_writer_write_record(fd, &r), 0);
	assert_int_equal(dvol_writer_read_record(fd, &out), 0);
	assert_int_equal(out.generation, 5);
}

/* One holder at a time, between open file descriptions; F_OFD_GETLK sees it without taking
 * it; closing releases it. A child process asks, as another holder would. */
static void test_lock(void **state)
{
	_cleanup_close_ int v = volume("lock"), a = -EBADF, b = -EBADF;
	pid_t pid;
	int status;

	assert_int_equal(dvol_writer_open_lock(v, true, &a), 0);
	assert_int_equal(dvol_writer_open_lock(v, true, &b), 0);
	assert_int_equal(dvol_writer_lock_held(b), 0);
	assert_int_equal(dvol_writer_lock(a), 0);
	/* Again on the same description: still held, not a conflict. */
	assert_int_equal(dvol_writer_lock(a), 0);
	assert_int_equal(dvol_writer_lock(b), -EBUSY);
	assert_int_equal(dvol_writer_lock_held(b), 1);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int c = -EBADF;

		if (dvol_writer_open_lock(v, false, &c) < 0 || dvol_writer_lock_held(c) != 1)
			_exit(1);
		_exit(dvol_writer_lock(c) == -EBADF ? 0 : 2); /* read-only: cannot take it */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	/* The record is outside the locked byte: readable while held. */
	{
		struct dvol_lease_record r = me(), out;

		assert_int_equal(dvol_writer_write_record(a, &r), 0);
		assert_int_equal(dvol_writer_read_record(b, &out), 0);
	}
	a = safe_close(a);
	assert_int_equal(dvol_writer_lock_held(b), 0);
	assert_int_equal(dvol_writer_lock(b), 0);
}

/* fdinfo as the kernel writes it: flags in octal, the mount's id in decimal. */
static void test_fdinfo_writes(void **state)
{
	static const struct {
		const char *text;
		uint64_t id;
		bool writes;
	} t[] = {
	    {"pos:\t0\nflags:\t0100001\nmnt_id:\t42\nino:\t7\n", 42, true}, /* O_WRONLY */
	    {"pos:\t0\nflags:\t02100002\nmnt_id:\t42\n", 42, true},	    /* O_RDWR */
	    {"pos:\t0\nflags:\t0100000\nmnt_id:\t42\n", 42, false},	    /* O_RDONLY */
	    {"pos:\t0\nflags:\t0100001\nmnt_id:\t43\n", 42, false},	    /* another mount */
	    {"pos:\t0\nflags:\t0100001\nmnt_id:\t420\n", 42, false},	    /* not a prefix */
	    {"pos:\t0\nmnt_id:\t42\n", 42, false},			    /* no flags */
	    {"pos:\t0\nflags:\t0100001\n", 42, false},			    /* no mount */
	    {"flags:\t0100001\nmnt_id:\t42", 42, true},			    /* no last newline */
	    {"", 42, false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(dvol_writer_fdinfo_writes(t[i].text, t[i].id), t[i].writes);
}

/* This process's own file open for writing counts, on its mount and no other. */
static void test_mount_writers(void **state)
{
	char path[] = "/tmp/dvol-writers-XXXXXX";
	struct statx stx;
	pid_t pid = 0;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx), 0);
	uint64_t ids[] = {UINT64_MAX, stx.stx_mnt_id};

	assert_true(dvol_writer_mount_writers(ids, 2, &pid) >= 1);
	assert_true(pid > 0);
	assert_int_equal(dvol_writer_mount_writers(ids, 1, &pid), 0);
	assert_int_equal(pid, 0);
	close(fd);
	unlink(path);
}

/* A mount that took the held one's id, at the same place: another root folder, or another
 * unique id, is not it; a unique id that one side lacks (an older kernel) is not asked. */
static void test_mount_same(void **state)
{
	static const struct {
		struct dvol_writer_mount b;
		bool same;
	} t[] = {
	    {{.id = 71, .unique_id = 9001, .dev = 40, .ino = 2}, true},
	    {{.id = 72, .unique_id = 9001, .dev = 40, .ino = 2}, false},
	    {{.id = 71, .unique_id = 9002, .dev = 40, .ino = 2}, false}, /* the same folder again */
	    {{.id = 71, .unique_id = 9001, .dev = 40, .ino = 3}, false}, /* another folder */
	    {{.id = 71, .unique_id = 9001, .dev = 41, .ino = 2}, false},
	    {{.id = 71, .unique_id = 0, .dev = 40, .ino = 2}, true},
	    {{.id = 71, .unique_id = 0, .dev = 40, .ino = 3}, false},
	};
	const struct dvol_writer_mount a = {.id = 71, .unique_id = 9001, .dev = 40, .ino = 2};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(dvol_writer_mount_same(&a, &t[i].b), t[i].same);
		assert_int_equal(dvol_writer_mount_same(&t[i].b, &a), t[i].same);
	}
}

/* A mount's root within the volume's folder: the folder itself or beneath it, never a
 * sibling that shares its prefix. */
static void test_root_within(void **state)
{
	(void)state;
	assert_true(dvol_writer_root_within("/vol", "/vol"));
	assert_true(dvol_writer_root_within("/vol/sub", "/vol"));
	assert_true(dvol_writer_root_within("/vol/sub", "/vol/"));
	assert_false(dvol_writer_root_within("/volume", "/vol"));
	assert_false(dvol_writer_root_within("/", "/vol"));
	assert_false(dvol_writer_root_within("/other", "/vol"));
	assert_true(dvol_writer_root_within("/anything", "/"));
	assert_true(dvol_writer_root_within("/", "/"));
	assert_false(dvol_writer_root_within("relative", "/"));
	assert_false(dvol_writer_root_within(NULL, "/"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_identity),	  cmocka_unit_test(test_open_create),
	    cmocka_unit_test(test_open_refuses),  cmocka_unit_test(test_record_io),
	    cmocka_unit_test(test_lock),	  cmocka_unit_test(test_fdinfo_writes),
	    cmocka_unit_test(test_mount_writers), cmocka_unit_test(test_root_within),
	    cmocka_unit_test(test_mount_same),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
