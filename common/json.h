/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

static inline void json_object_putp(json_object **j)
{
	if (*j)
		json_object_put(*j);
}
#define _cleanup_json_ __attribute__((cleanup(json_object_putp)))

/*
 * dvol's JSON output, on json-c. Adders skip a key whose value is unset (NULL string,
 * NULL array), so that a reader sees a key only when it means something. Objects are
 * printed pretty on a terminal and one per line otherwise, so that a stream of them is
 * read line by line (jq, json.loads per line). 0 or -errno.
 */
int dvol_json_add_string(json_object *o, const char *key, const char *v);
int dvol_json_add_bool(json_object *o, const char *key, bool v);
int dvol_json_add_int(json_object *o, const char *key, int64_t v);
int dvol_json_add_u64(json_object *o, const char *key, uint64_t v);
int dvol_json_add_double(json_object *o, const char *key, double v);
/* A NULL-terminated list of strings as an array; NULL adds nothing. */
int dvol_json_add_strv(json_object *o, const char *key, char *const *v);
/* Adds V under KEY, taking the reference (also on failure). */
int dvol_json_add(json_object *o, const char *key, json_object *v);

/* Append V (taken over, also on failure) to the array A. */
int dvol_json_append(json_object *a, json_object *v);

/* Print O to F followed by a newline: pretty if F is a terminal, else on one line. */
int dvol_json_print(json_object *o, FILE *f);
/* Print O to F on one line, terminal or not: one object of a stream. */
int dvol_json_print_line(json_object *o, FILE *f);
