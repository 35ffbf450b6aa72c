/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: utab lines as dvol-gc reads them back for stale state (stale.c's line
 * splitter is static: this file includes it). Each line is split, unmangled, and its
 * ATTRS read for dvol.kind, as dvol_stale_run() does; then the whole input goes through
 * dvol_stale_run() itself, as $LIBMOUNT_UTAB, dry run (nothing is removed or unmounted).
 * What is mounted is a fixed table of its own, made once, not /proc/self/mountinfo: the
 * kernel writes that anew on every read (most of this target's time, and a different
 * table on every machine), and a fixed one makes a finding replay the same anywhere.
 */
#include <stdio.h>
#include <sys/mman.h>

static char mountinfo_path[64];
#define DVOL_STALE_MOUNTINFO mountinfo_path
#include "../common/stale.c"

/* Targets that the seeds and the dictionary name, found and not found; one NFS. */
static const char mountinfo[] =
    "21 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
    "22 21 0:20 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
    "23 21 0:21 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw\n"
    "30 21 259:1 / /mnt/x rw,relatime - xfs /dev/loop0 rw\n"
    "31 21 0:41 / /mnt/models rw,relatime - nfs4 127.0.0.1:/export rw,vers=4.2\n"
    "32 21 259:1 /cache /root/.cache rw,relatime - xfs /dev/loop0 rw\n"
    "33 21 0:42 / /a\\040b rw - tmpfs tmpfs rw\n";

static void mountinfo_make(void)
{
	int fd = memfd_create("mountinfo", MFD_CLOEXEC);

	if (fd < 0 || write(fd, mountinfo, sizeof(mountinfo) - 1) != sizeof(mountinfo) - 1)
		abort();
	snprintf(mountinfo_path, sizeof(mountinfo_path), "/proc/self/fd/%d", fd);
}

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
		struct dvol_utab_entry e = {0};
		char *val;
		size_t valsz;

		if (utab_entry_parse(line, &e) == 0 && e.attrs &&
		    mnt_optstr_get_option(e.attrs, "dvol.kind", &val, &valsz) == 0 && val &&
		    valsz > strlen(e.attrs))
			abort();
		utab_entry_done(&e);
	}
	free(buf);

	/* The whole file, the way dvol-gc reads it, for the inputs that begin like a utab line. */
	if (size && data[0] == 'S') {
		if (memfd < 0) {
			char path[64];

			mountinfo_make();
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
