/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "mountop.h"
#include "tmpdir.h"

/* "Is what is mounted there the same thing": one answer for binds, devices and NFS. */
static void test_mount_same(void **state)
{
	static const struct {
		const char *root;
		bool ro, same_dev;
		const char *want_root;
		bool want_ro;
		enum dvol_mount_match want;
	} t[] = {
	    {"/", false, true, "/", false, DVOL_MOUNT_SAME},
	    {"/", true, true, "/", true, DVOL_MOUNT_SAME},
	    /* The same device, but not as asked: read-only where read-write was asked... */
	    {"/", true, true, "/", false, DVOL_MOUNT_SAME_BUT_RO},
	    /* ...or the other way round. */
	    {"/", false, true, "/", true, DVOL_MOUNT_SAME_BUT_RO},
	    /* The same device, but a folder of it bound there: not the volume asked for. */
	    {"/sub", false, true, "/", false, DVOL_MOUNT_OTHER},
	    {NULL, false, true, "/", false, DVOL_MOUNT_OTHER},
	    /* Another device. */
	    {"/", false, false, "/", false, DVOL_MOUNT_OTHER},
	    {"/", true, false, "/", true, DVOL_MOUNT_OTHER},
	    /* No root to compare (a bind compares inodes): only the source and ro. */
	    {"/sub", false, true, NULL, false, DVOL_MOUNT_SAME},
	    {"/sub", true, true, NULL, false, DVOL_MOUNT_SAME_BUT_RO},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		struct dvol_mount_info mi = {.root = (char *)t[i].root, .ro = t[i].ro};

		assert_int_equal(dvol_mount_same(&mi, t[i].same_dev, t[i].want_root, t[i].want_ro),
				 t[i].want);
	}
}

static void test_attr_from_flags(void **state)
{
	static const struct {
		unsigned long mflags;
		uint64_t set, clr;
	} t[] = {
	    {0, 0, 0},
	    {MS_RDONLY, MOUNT_ATTR_RDONLY, 0},
	    {MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
	     MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0},
	    {MS_NODIRATIME, MOUNT_ATTR_NODIRATIME, 0},
	    /* An atime mode replaces the one the mount had: the whole field is cleared. */
	    {MS_NOATIME, MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME},
	    {MS_STRICTATIME, MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME},
	    {MS_RELATIME, MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
	    {MS_NOATIME | MS_RELATIME, MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME},
	    /* Flags a detached mount does not take are not attributes. */
	    {MS_SYNCHRONOUS | MS_DIRSYNC, 0, 0},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		struct mount_attr a = {.attr_set = ~0ull, .propagation = 7};

		dvol_mount_attr_from_flags(t[i].mflags, &a);
		assert_int_equal(a.attr_set, t[i].set);
		assert_int_equal(a.attr_clr, t[i].clr);
		assert_int_equal(a.propagation, 0);
	}
}

/* A safe bind of a host folder: never the root folder, /dev, /proc, /sys or a kernel
 * filesystem, decided from inodes and f_type, not from spelling. */
static void test_bind_src(void **state)
{
#define ID(d, i)                                                                                   \
	{                                                                                          \
		.dev = (d), .ino = (i)                                                             \
	}
	/* the root filesystem is dev 1 (/ is inode 2); /dev is devtmpfs (dev 5), /proc proc
	 * (dev 6), /sys sysfs (dev 7) */
	static const struct dvol_file_id root = ID(1, 2), dev = ID(5, 1), proc = ID(6, 1),
					 sys = ID(7, 1), dev_plain = ID(1, 40);
	static const struct {
		struct dvol_file_id src, dev;
		uint64_t f_type;
		enum dvol_bind_src_why want;
		const char *what;
		bool no_dev; /* /dev could not be looked at */
	} t[] = {
	    /* a folder of data, on the root filesystem or on tmpfs */
	    {ID(1, 1234), dev, 0xEF53, DVOL_BIND_SRC_OK, NULL, false},
	    {ID(9, 77), dev, 0x01021994, DVOL_BIND_SRC_OK, NULL, false},
	    /* the root folder, however it was spelt or bound elsewhere */
	    {ID(1, 2), dev, 0xEF53, DVOL_BIND_SRC_ROOT, "/", false},
	    /* the kernel's filesystems, wherever they are mounted */
	    {ID(6, 1), dev, 0x9fa0, DVOL_BIND_SRC_KERNEL_FS, "proc", false},
	    {ID(6, 555), dev, 0x9fa0, DVOL_BIND_SRC_KERNEL_FS, "proc", false},
	    {ID(7, 1), dev, 0x62656572, DVOL_BIND_SRC_KERNEL_FS, "sysfs", false},
	    {ID(8, 1), dev, 0x1cd1, DVOL_BIND_SRC_KERNEL_FS, "devpts", false},
	    {ID(10, 1), dev, 0x63677270, DVOL_BIND_SRC_KERNEL_FS, "cgroup2", false},
	    /* devtmpfs has tmpfs's f_type: told by being /dev's filesystem */
	    {ID(5, 1), dev, 0x01021994, DVOL_BIND_SRC_SYSTEM, "/dev", false},
	    {ID(5, 300), dev, 0x01021994, DVOL_BIND_SRC_SYSTEM, "/dev", false},
	    /* /dev a plain folder of the root filesystem (a chroot): that folder only */
	    {ID(1, 40), dev_plain, 0xEF53, DVOL_BIND_SRC_SYSTEM, "/dev", false},
	    {ID(1, 41), dev_plain, 0xEF53, DVOL_BIND_SRC_OK, NULL, false},
	    /* no /dev to compare with: only what the source itself shows */
	    {ID(5, 300), {0}, 0x01021994, DVOL_BIND_SRC_OK, NULL, true},
	    {ID(5, 300), dev, 0x01021994, DVOL_BIND_SRC_OK, NULL, true},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		struct dvol_bind_src_facts f = {
		    .src = t[i].src,
		    .f_type = t[i].f_type,
		    .root = root,
		    .dev = t[i].dev,
		    .proc = proc,
		    .sys = sys,
		    .have = DVOL_BIND_HAVE_ROOT | DVOL_BIND_HAVE_PROC | DVOL_BIND_HAVE_SYS |
			    (t[i].no_dev ? 0 : DVOL_BIND_HAVE_DEV),
		};
		const char *what = "unset";

		print_message("case %zu\n", i);
		assert_int_equal(dvol_bind_src_decide(&f, &what), t[i].want);
		if (t[i].what)
			assert_string_equal(what, t[i].what);
		else
			assert_null(what);
	}
#undef ID
}

/* The facts of this machine's own folders: / is the root, /proc is proc. */
static void test_bind_src_facts(void **state)
{
	static const struct {
		const char *path;
		enum dvol_bind_src_why want;
	} t[] = {
	    {"/", DVOL_BIND_SRC_ROOT},
	    {"//", DVOL_BIND_SRC_ROOT},
	    {"/./", DVOL_BIND_SRC_ROOT},
	    {"/proc", DVOL_BIND_SRC_KERNEL_FS},
	    {"/proc/self/fd", DVOL_BIND_SRC_KERNEL_FS},
	    {"/sys", DVOL_BIND_SRC_KERNEL_FS},
	    {"/dev", DVOL_BIND_SRC_SYSTEM},
	};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		_cleanup_close_ int fd = open(t[i].path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		struct dvol_bind_src_facts f;
		const char *what;

		print_message("%s\n", t[i].path);
		assert_true(fd >= 0);
		assert_int_equal(dvol_bind_src_facts(fd, &f), 0);
		assert_int_equal(dvol_bind_src_decide(&f, &what), t[i].want);
	}
}

/* A folder by any spelling mount(8) takes for it, trailing slashes too; never a symlink
 * as the last component, with or without a slash after it. */
static void test_open_dir(void **state)
{
	static const struct {
		const char *path; /* "@" stands for the scratch folder */
		const char *same; /* the folder it must open, or NULL */
		int want;
	} t[] = {
	    {"@/m", "@/m", 0},
	    {"@/m/", "@/m", 0},
	    {"@/m//", "@/m", 0},
	    {"@//m", "@/m", 0},
	    {"@/./m/", "@/m", 0},
	    {"@/link/m", "@/m/m", 0}, /* a symlink before the last component is followed */
	    {"@/link/m/", "@/m/m", 0},
	    {"/", "/", 0},
	    {"//", "/", 0},
	    {"///", "/", 0},
	    {"@/link", NULL, -ELOOP},
	    {"@/link/", NULL, -ELOOP},
	    {"@/link//", NULL, -ELOOP},
	    {"@/file", NULL, -ENOTDIR},
	    {"@/file/", NULL, -ENOTDIR},
	    {"@/none", NULL, -ENOENT},
	    {"@/none/", NULL, -ENOENT},
	    {"@/none/../m", NULL, -ENOENT},
	    {"m/", NULL, -EINVAL},
	    {"", NULL, -EINVAL},
	};
	_cleanup_free_ char *file = write_file("file", "");
	char m[64], mm[72], link[64];

	snprintf(m, sizeof(m), "%s/m", dir);
	snprintf(mm, sizeof(mm), "%s/m/m", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(mkdir(m, 0755), 0);
	assert_int_equal(mkdir(mm, 0755), 0);
	assert_int_equal(symlink("m", link), 0);

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		_cleanup_free_ char *path = NULL, *same = NULL;
		_cleanup_close_ int fd = -EBADF, want = -EBADF;

		assert_true(asprintf(&path, "%s%s", t[i].path[0] == '@' ? dir : "",
				     t[i].path + (t[i].path[0] == '@')) >= 0);
		print_message("%s\n", path);
		assert_int_equal(dvol_open_dir(path, &fd), t[i].want);
		if (!t[i].same)
			continue;
		assert_true(asprintf(&same, "%s%s", t[i].same[0] == '@' ? dir : "",
				     t[i].same + (t[i].same[0] == '@')) > 0);
		want = open(same, O_PATH | O_DIRECTORY | O_CLOEXEC);
		assert_true(want >= 0);
		assert_true(dvol_same_inode(fd, want));
	}
}

/* Mounts of MOUNTPOINT in this namespace's mountinfo (the stacked ones too). */
static int mounts_at(const char *mountpoint)
{
	_cleanup_(fclosep) FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], mp[4096];
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 && strcmp(mp, mountpoint) == 0)
			n++;
	return n;
}

/* A new tmpfs, detached, holding the file NAME. */
static int tmpfs_with(const char *name)
{
	_cleanup_close_ int fs = fsopen("tmpfs", FSOPEN_CLOEXEC), f = -EBADF;
	int tree;

	assert_true(fs >= 0);
	assert_int_equal(fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0), 0);
	tree = fsmount(fs, FSMOUNT_CLOEXEC, 0);
	assert_true(tree >= 0);
	f = openat(tree, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_true(f >= 0);
	return tree;
}

static bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int a = 0, b = 0;

	return uname(&u) == 0 && sscanf(u.release, "%d.%d", &a, &b) == 2 &&
	       (a > major || (a == major && b >= minor));
}

/*
 * A mount replaced in place, as heal does with a stale NFS mount: new opens see the new
 * one, a file held open on the old one stays usable, and one mount is left at the target,
 * beneath (atomic, Linux 6.5) or after a detach. Real mounts, in a mount namespace of the
 * test's own; skipped where that cannot be made (not root).
 */
static void test_mount_replace(void **state)
{
	static char base[] = "/tmp/dvol-test-replace.XXXXXX";
	char target[64], old_file[80];

	if (unshare(CLONE_NEWNS) < 0) {
		print_message("cannot make a mount namespace (%s): skipped\n", strerror(errno));
		skip();
	}
	assert_int_equal(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	assert_non_null(mkdtemp(base));
	assert_int_equal(mount("dvol-test", base, "tmpfs", 0, NULL), 0);
	/* Shared, as systemd makes every mount: the move must still be allowed. */
	assert_int_equal(mount(NULL, base, NULL, MS_SHARED, NULL), 0);
	snprintf(target, sizeof(target), "%s/t", base);
	snprintf(old_file, sizeof(old_file), "%s/old", target);
	assert_int_equal(mkdir(target, 0755), 0);

	for (int beneath = 1; beneath >= 0; beneath--) {
		_cleanup_close_ int old = tmpfs_with("old"), fresh = tmpfs_with("new"),
				    held = -EBADF, t = open(target, O_PATH | O_CLOEXEC);
		struct stat st;
		bool atomic = true;

		print_message("beneath=%d\n", beneath);
		assert_true(t >= 0);
		assert_int_equal(
		    move_mount(old, "", t, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH),
		    0);
		held = open(old_file, O_RDONLY | O_CLOEXEC);
		assert_true(held >= 0);

		assert_int_equal(dvol_mount_replace(fresh, target, beneath, &atomic), 0);
		if (!beneath)
			assert_false(atomic);
		else if (kernel_at_least(6, 5))
			assert_true(atomic);
		assert_int_equal(mounts_at(target), 1);
		assert_int_equal(faccessat(AT_FDCWD, target, F_OK, 0), 0);
		assert_int_equal(access(old_file, F_OK), -1);
		assert_int_equal(fstat(held, &st), 0); /* the old handle still works */
		{
			char p[96];

			snprintf(p, sizeof(p), "%s/new", target);
			assert_int_equal(access(p, F_OK), 0);
		}
		/* The mount fd holds the mount it names busy. */
		fresh = safe_close(fresh);
		assert_int_equal(umount2(target, 0), 0);
		assert_int_equal(mounts_at(target), 0);
	}
	/* Nothing at the target: there is no mount to replace. */
	{
		_cleanup_close_ int fresh = tmpfs_with("new");
		bool atomic;

		assert_int_equal(dvol_mount_replace(fresh, target, false, &atomic), -EINVAL);
		assert_int_equal(mounts_at(target), 0);
	}
	assert_int_equal(umount2(base, MNT_DETACH), 0);
	assert_int_equal(rmdir(base), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mount_same),	  cmocka_unit_test(test_attr_from_flags),
	    cmocka_unit_test(test_bind_src),	  cmocka_unit_test(test_bind_src_facts),
	    cmocka_unit_test(test_mount_replace), cmocka_unit_test(test_open_dir),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
