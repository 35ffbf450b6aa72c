/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

/*
 * JSON output through json-c: keys are omitted when unset (a NULL string, an unset
 * number), pretty when printed to a terminal, one object per line otherwise.
 */

/* Add KEY to OBJ; a NULL VALUE adds nothing. 0 or -ENOMEM. */
int dvol_json_add_str(json_object *obj, const char *key, const char *value);
int dvol_json_add_u64(json_object *obj, const char *key, uint64_t value);
int dvol_json_add_bool(json_object *obj, const char *key, bool value);
/* Add KEY holding CHILD (taken over, also on failure). */
int dvol_json_add(json_object *obj, const char *key, json_object *child);
/* Append CHILD (taken over) to the array ARR. */
int dvol_json_append(json_object *arr, json_object *child);

/* Print OBJ and a newline to F: pretty on a tty, one line otherwise. 0 or -errno. */
int dvol_json_print(FILE *f, json_object *obj);
