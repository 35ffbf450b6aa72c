/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

size_t dvol_escape_name(const char *name, char *buf, size_t sz)
{
	static const char named[] = "\aa\bb\tt\nn\vv\ff\rr\\\\";
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		char e[5];
		size_t l;
		const char *k = *p ? strchr(named, *p) : NULL;

		if (k && (k - named) % 2 == 0) {
			e[0] = '\\';
			e[1] = k[1];
			l = 2;
		} else if (*p < 0x20 || *p >= 0x7f) {
			e[0] = '\\';
			e[1] = (char)('0' + (*p >> 6));
			e[2] = (char)('0' + ((*p >> 3) & 7));
			e[3] = (char)('0' + (*p & 7));
			l = 4;
		} else {
			e[0] = (char)*p;
			l = 1;
		}
		for (size_t i = 0; i < l; i++, n++)
			if (n + 1 < sz)
				buf[n] = e[i];
	}
	if (sz)
		buf[n < sz ? n : sz - 1] = 0;
	return n;
}

char *dvol_escape_name_dup(const char *name)
{
	size_t l = dvol_escape_name(name, NULL, 0);
	char *s = malloc(l + 1);

	if (s)
		dvol_escape_name(name, s, l + 1);
	return s;
}

char *dvol_escape_shown(const char *s, size_t max)
{
	char *e = dvol_escape_name_dup(s), *r = NULL;
	size_t l = e ? strlen(e) : 0;

	if (!e || l <= max)
		return e;
	if (asprintf(&r, "%.*s... (%zu bytes)", (int)max, e, strlen(s)) < 0)
		r = NULL;
	free(e);
	return r;
}
