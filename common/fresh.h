/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * "This filesystem was made by dvol and its root is not set up yet": a mark left by
 * `mount.dvol --format-only` (the sandboxed format step, which mounts nothing) for the
 * mount step that follows, so that mode=, uid= and gid= still apply to the root of a
 * filesystem made by this boot's preparation, and only to it. One empty file per UUID,
 * in a root-only folder on /run (gone at the next boot).
 */

#define DVOL_FRESH_DIR "/run/dvol/fresh"

/* Leave the mark for UUID in DIR (made 0700 if missing). 0 or -errno; -EINVAL for a UUID
 * that is not hex digits and dashes. */
int dvol_fresh_mark(const char *dir, const char *uuid);

/* Take the mark for UUID away: 1 if it was there, 0 if not, or -errno. */
int dvol_fresh_take(const char *dir, const char *uuid);
