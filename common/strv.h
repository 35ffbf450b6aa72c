/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* Strings and NULL-terminated string vectors (systemd strv.h, string-util.h). */

void dvol_strv_free(char **v);
static inline void dvol_strv_freep(char ***v)
{
	dvol_strv_free(*v);
}
#define _cleanup_strv_free_ __attribute__((cleanup(dvol_strv_freep)))

/* "mkfs.xfs -q -K ..." for messages and the plan. Caller frees; NULL on -ENOMEM. */
char *dvol_strv_join(char *const *v);

/* Copy S without leading and trailing blanks (sysfs pads serial and model). Pure. */
char *dvol_strdup_trim(const char *s);

/*
 * Append to the heap string *S (NULL: empty) SEP, when *S is not empty, and then FMT.
 * On -ENOMEM *S is left as it was.
 */
int dvol_strextendf(char **s, const char *sep, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
