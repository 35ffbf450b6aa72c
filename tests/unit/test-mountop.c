/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/mount.h>

#include <cmocka.h>

#include "cleanup.h"
#include "mountop.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mount_same),
	    cmocka_unit_test(test_attr_from_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
