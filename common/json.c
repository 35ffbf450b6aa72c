/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <unistd.h>

#include "json.h"

int dvol_json_add(json_object *obj, const char *key, json_object *child)
{
	if (!child)
		return -ENOMEM;
	if (json_object_object_add(obj, key, child) < 0) {
		json_object_put(child);
		return -ENOMEM;
	}
	return 0;
}

int dvol_json_append(json_object *arr, json_object *child)
{
	if (!child)
		return -ENOMEM;
	if (json_object_array_add(arr, child) < 0) {
		json_object_put(child);
		return -ENOMEM;
	}
	return 0;
}

int dvol_json_add_str(json_object *obj, const char *key, const char *value)
{
	return value ? dvol_json_add(obj, key, json_object_new_string(value)) : 0;
}

int dvol_json_add_u64(json_object *obj, const char *key, uint64_t value)
{
	return dvol_json_add(obj, key, json_object_new_uint64(value));
}

int dvol_json_add_bool(json_object *obj, const char *key, bool value)
{
	return dvol_json_add(obj, key, json_object_new_boolean(value));
}

int dvol_json_print(FILE *f, json_object *obj)
{
	int flags = isatty(fileno(f)) ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
				      : JSON_C_TO_STRING_PLAIN;
	const char *s = json_object_to_json_string_ext(obj, flags | JSON_C_TO_STRING_NOSLASHESCAPE);

	if (!s)
		return -ENOMEM;
	if (fprintf(f, "%s\n", s) < 0 || fflush(f) != 0)
		return -EIO;
	return 0;
}
