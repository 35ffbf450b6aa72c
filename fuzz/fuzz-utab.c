/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: utab lines as dvol-gc reads them back for stale state (stale.c's line
 * splitter is static: this file includes it). Each line is split, unmangled, and its
 * ATTRS read for dvol.kind, as dvol_stale_run() does; then the whole input goes through
 * dvol_stale_run() itself, as $LIBMOUNT_UTAB, dry run (nothing is removed or unmounted).
 */
#include <stdio.h>
#include <sys/mman.h>

#include "../common/stale.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -EBADF;

static void on_event(void *userdata, enum dvol_stale_event ev, const char *source,
		     const char *target, const char *kind, int err)
{
	unsigned *n = userdata;

	if (!target || !kind || err != 0)
		abort();
	(*n)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *save = NULL;
	unsigned events = 0;
	struct dvol_stale_opts o = {.dry_run = true, .event = on_event, .userdata = &events};
	int r;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct utab_entry e = {0};
		char *val;
		size_t valsz;

		if (utab_entry_parse(line, &e) == 0 && e.attrs &&
		    mnt_optstr_get_option(e.attrs, "dvol.kind", &val, &valsz) == 0 && val &&
		    valsz > strlen(e.attrs))
			abort();
		utab_entry_done(&e);
	}
	free(buf);

	/* The whole file, the way dvol-gc reads it; some inputs only, as it reads mountinfo. */
	if (size && data[0] == 'S') {
		if (memfd < 0) {
			char path[64];

			memfd = memfd_create("utab", MFD_CLOEXEC);
			if (memfd < 0)
				abort();
			snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
			setenv("LIBMOUNT_UTAB", path, 1);
		}
		if (ftruncate(memfd, 0) < 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
			abort();
		r = dvol_stale_run(&o);
		if (r >= 0 && (unsigned)r != events)
			abort();
	}
	return 0;
}
