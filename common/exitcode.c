/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "exitcode.h"

int dvol_exit_code(enum dvol_fail stage, int r)
{
	if (r >= 0)
		return DVOL_EX_OK;
	if (r == -EINTR)
		return DVOL_EX_USER;
	if (r == -ENOMEM)
		return DVOL_EX_SYSERR;

	switch (stage) {
	case DVOL_FAIL_USAGE:
	case DVOL_FAIL_INCOMPLETE:
		return DVOL_EX_USAGE;
	case DVOL_FAIL_SYSTEM:
	case DVOL_FAIL_TARGET:
		return DVOL_EX_SYSERR;
	case DVOL_FAIL_MOUNT:
		return DVOL_EX_FAIL;
	case DVOL_FAIL_RECORD:
		return DVOL_EX_FILEIO;
	case DVOL_FAIL_BUG:
	default:
		return DVOL_EX_SOFTWARE;
	}
}
