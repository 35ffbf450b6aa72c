/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "strv.h"

void dvol_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

char *dvol_strv_join(char *const *v)
{
	size_t len = 1;
	char *s, *p;

	for (char *const *i = v; *i; i++)
		len += strlen(*i) + 1;
	s = p = malloc(len);
	if (!s)
		return NULL;
	*p = 0;
	for (char *const *i = v; *i; i++)
		p += sprintf(p, "%s%s", i == v ? "" : " ", *i);
	return s;
}

char *dvol_strdup_trim(const char *s)
{
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	return strndup(s, n);
}

int dvol_strextendf(char **s, const char *sep, const char *fmt, ...)
{
	_cleanup_free_ char *add = NULL;
	bool first = !*s || !**s;
	char *t;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&add, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	if (asprintf(&t, "%s%s%s", first ? "" : *s, first || !sep ? "" : sep, add) < 0)
		return -ENOMEM;
	free(*s);
	*s = t;
	return 0;
}
