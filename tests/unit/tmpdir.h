/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * A scratch folder for one group of unit tests: `dir`, made by setup() and removed with
 * all it holds by teardown() (pass both to cmocka_run_group_tests()); write_file() puts a
 * file in it. Include after <cmocka.h>.
 */
#include <stdio.h>
#include <stdlib.h>

static char dir[] = "/tmp/dvol-test-unit.XXXXXX";

static int setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

/* DIR/NAME holding TEXT; its path (caller frees). */
static inline char *write_file(const char *name, const char *text)
{
	char *p;
	FILE *f;

	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return p;
}
