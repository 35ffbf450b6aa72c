/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "fallback.h"
#include "unitname.h"

bool dvol_fallback_wanted(const struct dvol_fallback_facts *f)
{
	return f->optional && f->stage == DVOL_FAIL_MOUNT && !f->format_only && f->r < 0 &&
	       f->r != -EBUSY && f->r != -ENOMEM && f->r != -EINTR;
}

enum dvol_fallback_action dvol_fallback_decide(const struct dvol_fallback_facts *f)
{
	if (!dvol_fallback_wanted(f))
		return DVOL_FALLBACK_NO;
	if (f->on == DVOL_FALLBACK_ON_OTHER)
		return DVOL_FALLBACK_NO_OTHER;
	if (f->want == DVOL_FALLBACK_DISK && !f->named)
		return DVOL_FALLBACK_NO_NAME;
	/* Whichever kind an earlier run mounted stays: what is written there is not moved
	 * from one to the other. */
	if (f->on == DVOL_FALLBACK_ON_OURS)
		return DVOL_FALLBACK_KEEP;
	return f->want == DVOL_FALLBACK_DISK ? DVOL_FALLBACK_MOUNT_DISK : DVOL_FALLBACK_MOUNT_TMPFS;
}

int dvol_fallback_dir(const char *target, char **ret)
{
	_cleanup_free_ char *name = NULL;
	int r;

	r = dvol_unit_path_escape(target, &name);
	if (r < 0)
		return r;
	return asprintf(ret, DVOL_FALLBACK_DIR "/%s", name) < 0 ? -ENOMEM : 0;
}

bool dvol_fallback_root_matches(const char *mnt_root, const char *fallback_dir)
{
	const char *base;
	size_t lr, lb;

	if (!mnt_root || !fallback_dir || strcmp(mnt_root, "/") == 0 ||
	    strncmp(fallback_dir, DVOL_FALLBACK_DIR "/", strlen(DVOL_FALLBACK_DIR "/")) != 0)
		return false;
	/* "/fallback/NAME": the part below dvol's state folder, wherever that is mounted. */
	base = fallback_dir + strlen(DVOL_STATE_DIR);
	lr = strlen(mnt_root);
	lb = strlen(base);
	return lr >= lb && strcmp(mnt_root + lr - lb, base) == 0;
}
