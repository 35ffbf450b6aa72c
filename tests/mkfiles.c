/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mkfiles ROOT N [aged]: N empty files under ROOT, 1000 a folder (ROOT/dK/fI); with
 * "aged", each last used 0..60 days ago, spread evenly. For the gc tests and benchmarks,
 * where a shell loop would take longer than what it measures.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n, now = time(NULL);
	int aged;
	char p[4096];

	if (argc < 3 || argc > 4)
		return fprintf(stderr, "usage: mkfiles ROOT N [aged]\n"), 2;
	n = atol(argv[2]);
	aged = argc == 4 && strcmp(argv[3], "aged") == 0;
	mkdir(argv[1], 0755);
	for (long i = 0; i < n; i++) {
		int fd;

		if (i % 1000 == 0) {
			snprintf(p, sizeof(p), "%s/d%ld", argv[1], i / 1000);
			mkdir(p, 0755);
		}
		snprintf(p, sizeof(p), "%s/d%ld/f%ld", argv[1], i / 1000, i);
		fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		if (fd < 0)
			return perror(p), 1;
		if (aged) {
			struct timespec t[2];

			t[0].tv_sec = t[1].tv_sec = now - (i * 7919) % (60L * 86400);
			t[0].tv_nsec = t[1].tv_nsec = 0;
			futimens(fd, t);
		}
		close(fd);
	}
	return 0;
}
