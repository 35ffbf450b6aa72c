/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: dvol-gc's configuration, gc.conf and its gc.d drop-ins, read the way
 * dvol-gc reads them. The input is split at NUL bytes: gc.conf, then gc.d/10.conf and
 * gc.d/20.conf (a missing part: no such file). The files live in a folder of their own
 * under $TMPDIR, made once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gcconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[4096];

static void put(const char *name, const uint8_t *p, size_t n, bool present)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!present) {
		if (unlink(path) < 0 && errno != ENOENT)
			abort();
		return;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, p, n) != (ssize_t)n)
		abort();
	close(fd);
}

static const char *const names[] = {"gc.conf", "gc.d/10.conf", "gc.d/20.conf"};

static void remove_dir(void)
{
	char path[4200];

	for (size_t i = 0; i < 3; i++)
		put(names[i], NULL, 0, false);
	snprintf(path, sizeof(path), "%s/gc.d", dir);
	(void)rmdir(path);
	(void)rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dvol_gc_conf c = {0};
	struct dvol_gc_conf_error err = {0};
	const uint8_t *p = data, *end = data + size;
	int r;

	if (!dir[0]) {
		const char *tmp = getenv("TMPDIR");
		char sub[4200];

		snprintf(dir, sizeof(dir), "%s/dvol-fuzz-gcconf-XXXXXX",
			 tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(dir))
			abort();
		snprintf(sub, sizeof(sub), "%s/gc.d", dir);
		if (mkdir(sub, 0700) < 0)
			abort();
		atexit(remove_dir);
	}
	for (size_t i = 0; i < 3; i++) {
		const uint8_t *z = p ? memchr(p, 0, (size_t)(end - p)) : NULL;

		put(names[i], p ? p : data, p ? (size_t)((z ? z : end) - p) : 0, p != NULL);
		p = z ? z + 1 : NULL;
	}

	r = dvol_gc_conf_load_dir(&c, dir, &err);
	if (r == 0) {
		/* Every root is an absolute folder, once, with a budget. */
		for (size_t i = 0; i < c.n_roots; i++) {
			if (!c.roots[i].path || c.roots[i].path[0] != '/' ||
			    !dvol_gc_budget_any(&c.roots[i].budget) || !c.roots[i].file ||
			    !c.roots[i].line)
				abort();
			for (size_t j = 0; j < i; j++)
				if (strcmp(c.roots[i].path, c.roots[j].path) == 0)
					abort();
		}
	} else if (r == -EINVAL && (!err.file || !err.why)) {
		abort();
	}
	dvol_gc_conf_error_done(&err);
	dvol_gc_conf_done(&c);
	return 0;
}
