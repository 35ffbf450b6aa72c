/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "landlock.h"

/* Access rights by ABI version; the kernel refuses a ruleset naming rights it lacks. */
#define FS_ABI1	     ((1ULL << 13) - 1) /* EXECUTE .. MAKE_SYM */
#define FS_REFER     (1ULL << 13)	/* ABI 2 */
#define FS_TRUNCATE  (1ULL << 14)	/* ABI 3 */
#define FS_IOCTL_DEV (1ULL << 15)	/* ABI 5 */

int dvol_landlock_beneath(const int *fds, size_t n, bool remove)
{
	struct landlock_ruleset_attr attr = {0};
	_cleanup_close_ int ruleset = -EBADF;
	long abi;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0)
		return errno == ENOSYS || errno == EOPNOTSUPP ? 0 : -errno;

	attr.handled_access_fs = FS_ABI1;
	if (abi >= 2)
		attr.handled_access_fs |= FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= FS_TRUNCATE;
	if (abi >= 5)
		attr.handled_access_fs |= FS_IOCTL_DEV;
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (ruleset < 0)
		return -errno;

	for (size_t i = 0; i < n; i++) {
		struct landlock_path_beneath_attr pb = {
		    .allowed_access =
			LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
			(remove ? LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR
				: 0),
		    .parent_fd = fds[i],
		};

		if (fds[i] < 0)
			continue;
		if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
			return -errno;
	}
#ifdef DVOL_SANITIZE
	/* The sanitizers' runtime reads /proc/self (LeakSanitizer lists the threads in
	 * /proc/self/task) and the binaries: in a sanitizer build reading steps aside, and
	 * removing stays confined to the roots. */
	{
		_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		struct landlock_path_beneath_attr pb = {
		    .allowed_access = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR,
		    .parent_fd = root,
		};

		if (root < 0)
			return -errno;
		if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
			return -errno;
	}
#endif
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		return -errno;
	return 1;
}
