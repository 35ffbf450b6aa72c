/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: a name escaped for a line of output can neither end the line nor send
 * a terminal escape, and every buffer size gives the same prefix, NUL-terminated. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *e, small[7];
	size_t n, m;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	e = dvol_escape_name_dup(s);
	if (!e)
		abort();
	n = strlen(e);
	if (n != dvol_escape_name(s, NULL, 0) || n < strlen(s) || n > 4 * strlen(s))
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)e[i] < 0x20 || (unsigned char)e[i] >= 0x7f)
			abort();
	/* A truncated copy is a prefix of the whole, always terminated. */
	memset(small, 'X', sizeof(small));
	m = dvol_escape_name(s, small, sizeof(small));
	if (m != n || strlen(small) != (n < sizeof(small) ? n : sizeof(small) - 1) ||
	    strncmp(small, e, strlen(small)) != 0)
		abort();
	free(e);
	free(s);
	return 0;
}
