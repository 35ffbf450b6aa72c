/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mount_same),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
