/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include <blkid/blkid.h>
#include <json-c/json.h>
#include <libmount/libmount.h>
#include <seccomp.h>

#include "version.h"

/* A sanitizer build (make check SANITIZE=1) runs without its seccomp sandbox: the one
 * place it says so, so that its other output is the release build's. */
#ifdef DVOL_SANITIZE
#define SANITIZE_NOTE " [sanitizer build: no seccomp sandbox]"
#else
#define SANITIZE_NOTE ""
#endif

#ifndef DVOL_LIBNFS_VERSION
#define DVOL_LIBNFS_VERSION "unknown"
#endif

void dvol_print_version(const char *prog)
{
	const char *mnt = "?", *blk = "?";
	const struct scmp_version *sv = seccomp_version();

	mnt_get_library_version(&mnt);
	blkid_get_library_version(&blk, NULL);
	/* libnfs has no run-time version call: this is the one it was built against. */
	printf("%s %s (libmount %s, libblkid %s, libnfs %s, libseccomp %u.%u.%u, json-c %s)%s\n",
	       prog, DVOL_VERSION, mnt, blk, DVOL_LIBNFS_VERSION, sv ? sv->major : 0,
	       sv ? sv->minor : 0, sv ? sv->micro : 0, json_c_version(), SANITIZE_NOTE);
}
