/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/*
 * heal's own state, in a folder of root's: a lock a target (one run at a time heals it),
 * the folders its fresh mounts are made on, and the pause after failed heals.
 */
#define DVOL_HEAL_DIR "/run/dvol/heal"

/* The folder is opened with dvol_rootdir_private(DVOL_HEAL_DIR, 0700, ...). */

/* TARGET's file in that folder: TARGET escaped as `systemd-escape -p` does, then SUFFIX
 * (".lock", ".backoff"). 0 with *ret (caller frees), or -ENOMEM/-EINVAL. */
int dvol_heal_file_name(const char *target, const char *suffix, char **ret);

/* heal's pause after FAILURES failed heals in a row: 30 s, doubling, at most 30 min. 0
 * for none. Pure. */
uint64_t dvol_heal_pause_ms(unsigned failures);
