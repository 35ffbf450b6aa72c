/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <unistd.h>

#include "cleanup.h"
#include "json.h"

int dvol_json_add(json_object *o, const char *key, json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

int dvol_json_append(json_object *a, json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_array_add(a, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

int dvol_json_add_string(json_object *o, const char *key, const char *v)
{
	return v ? dvol_json_add(o, key, json_object_new_string(v)) : 0;
}

int dvol_json_add_bool(json_object *o, const char *key, bool v)
{
	return dvol_json_add(o, key, json_object_new_boolean(v));
}

int dvol_json_add_int(json_object *o, const char *key, int64_t v)
{
	return dvol_json_add(o, key, json_object_new_int64(v));
}

int dvol_json_add_u64(json_object *o, const char *key, uint64_t v)
{
	return dvol_json_add(o, key, json_object_new_uint64(v));
}

int dvol_json_add_double(json_object *o, const char *key, double v)
{
	return dvol_json_add(o, key, json_object_new_double(v));
}

int dvol_json_add_strv(json_object *o, const char *key, char *const *v)
{
	_cleanup_json_ json_object *a = NULL;

	if (!v)
		return 0;
	a = json_object_new_array();
	if (!a)
		return -ENOMEM;
	for (; *v; v++) {
		int r = dvol_json_append(a, json_object_new_string(*v));

		if (r < 0)
			return r;
	}
	return dvol_json_add(o, key, TAKE_PTR(a));
}

static int print_flags(json_object *o, FILE *f, int flags)
{
	const char *s = json_object_to_json_string_ext(o, flags | JSON_C_TO_STRING_NOSLASHESCAPE);

	if (!s)
		return -ENOMEM;
	if (fprintf(f, "%s\n", s) < 0 || fflush(f) != 0)
		return -EIO;
	return 0;
}

int dvol_json_print(json_object *o, FILE *f)
{
	return print_flags(o, f,
			   isatty(fileno(f)) ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
					     : JSON_C_TO_STRING_PLAIN);
}

int dvol_json_print_line(json_object *o, FILE *f)
{
	return print_flags(o, f, JSON_C_TO_STRING_PLAIN);
}
