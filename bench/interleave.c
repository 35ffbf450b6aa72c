/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * interleave: wall time of commands run in turn, A B C A B C ..., as medians.
 *
 *   interleave [-w WARMUP] -n RUNS [-p PREPARE]... -- CMD... [-- CMD...]...
 *
 * On a shared machine the load drifts over seconds; timing all runs of one command and
 * then all of the next puts that drift into their ratio. Run in turn, every command sees
 * the same machine, and the ratio of medians holds. Each PREPARE (a shell command) runs
 * untimed before every timed run. Prints one line per command: the median, p25 and p75
 * of the wall time and the median CPU time (with the command's children), in seconds,
 * then the command. Fails (exit 1) on the first run that does not exit 0.
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int run(char **argv, double *ret_s, double *ret_cpu)
{
	double t0 = now();
	struct rusage ru;
	pid_t pid;
	int status, r;

	r = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
	if (r != 0) {
		fprintf(stderr, "interleave: cannot run %s: %s\n", argv[0], strerror(r));
		return -1;
	}
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			return -1;
	if (ret_s)
		*ret_s = now() - t0;
	/* The child's CPU time with that of its own children (mount(8)'s helper). */
	if (ret_cpu)
		*ret_cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
			   ru.ru_stime.tv_usec / 1e6;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "interleave: %s: %s %d\n", argv[0],
			WIFEXITED(status) ? "exit status" : "signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return -1;
	}
	return 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double quantile(const double *v, int n, double q)
{
	double i = q * (n - 1);
	int lo = (int)i;

	return lo + 1 < n ? v[lo] + (i - lo) * (v[lo + 1] - v[lo]) : v[lo];
}

int main(int argc, char *argv[])
{
	char *prep[16][4];
	char **cmds[16];
	int nprep = 0, ncmds = 0, runs = 0, warmup = 0, c;

	while ((c = getopt(argc, argv, "+n:w:p:")) >= 0) {
		switch (c) {
		case 'n':
			runs = atoi(optarg);
			break;
		case 'w':
			warmup = atoi(optarg);
			break;
		case 'p':
			if (nprep == 16)
				return fprintf(stderr, "interleave: too many -p\n"), 2;
			prep[nprep][0] = "/bin/sh";
			prep[nprep][1] = "-c";
			prep[nprep][2] = optarg;
			prep[nprep][3] = NULL;
			nprep++;
			break;
		default:
			return 2;
		}
	}
	/* Commands are separated by "--"; getopt took the first. */
	if (optind < argc && strcmp(argv[optind - 1], "--") == 0)
		cmds[ncmds++] = &argv[optind];
	for (int i = optind; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			argv[i] = NULL;
			if (i + 1 < argc && strcmp(argv[i + 1], "--") != 0) {
				if (ncmds == 16)
					return fprintf(stderr, "interleave: too many commands\n"),
					       2;
				cmds[ncmds++] = &argv[i + 1];
			}
		}
	}
	if (runs < 1 || ncmds == 0) {
		fprintf(stderr, "usage: interleave [-w WARMUP] -n RUNS [-p PREPARE]... -- CMD... "
				"[-- CMD...]...\n");
		return 2;
	}

	double *t = calloc((size_t)runs * ncmds, sizeof(double));
	double *cpu = calloc((size_t)runs * ncmds, sizeof(double));

	if (!t || !cpu)
		return 1;
	for (int i = -warmup; i < runs; i++) {
		for (int p = 0; p < nprep; p++)
			if (run(prep[p], NULL, NULL) < 0)
				return 1;
		for (int k = 0; k < ncmds; k++)
			if (run(cmds[k], i >= 0 ? &t[k * runs + i] : NULL,
				i >= 0 ? &cpu[k * runs + i] : NULL) < 0)
				return 1;
	}
	for (int k = 0; k < ncmds; k++) {
		double *v = &t[(size_t)k * runs], *u = &cpu[(size_t)k * runs];

		qsort(v, runs, sizeof(double), cmp);
		qsort(u, runs, sizeof(double), cmp);
		printf("%.6f %.6f %.6f %.6f", quantile(v, runs, 0.5), quantile(v, runs, 0.25),
		       quantile(v, runs, 0.75), quantile(u, runs, 0.5));
		for (char **a = cmds[k]; *a; a++)
			printf(" %s", *a);
		printf("\n");
	}
	free(t);
	free(cpu);
	return 0;
}
