/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fscache.h"

bool dvol_fscache_active(const char *text, char **ret_name)
{
	const char *line = text;

	if (ret_name)
		*ret_name = NULL;
	while (line && *line) {
		const char *end = strchrnul(line, '\n');
		char state[2], name[64];
		unsigned id, ref, vols, objs, acc;

		/* The heading and its underline do not parse as numbers. */
		if (sscanf(line, "%x %u %u %u %u %1s %63s", &id, &ref, &vols, &objs, &acc, state,
			   name) == 7 &&
		    state[0] == 'A') {
			if (ret_name)
				*ret_name = strdup(name);
			return true;
		}
		line = *end ? end + 1 : NULL;
	}
	return false;
}

/* Run and stop lie this far on either side of cull, as in cachefilesd's own defaults. */
#define SPREAD 3u
/* Without cache-size=, culling starts where cachefilesd's sample configuration has it. */
#define CULL_DEFAULT 7u

int dvol_fscache_limits(const struct dvol_fscache_in *in, struct dvol_fscache_limits *ret,
			const char **ret_why)
{
	uint64_t s = in->fs_bytes, c = 0, g = in->budgets_bytes;
	unsigned cull = CULL_DEFAULT;

	*ret = (struct dvol_fscache_limits){0};
	if (s == 0)
		return *ret_why = "the cache's filesystem has no size", -ERANGE;
	if (in->cache_size)
		c = in->cache_size_pct ? s / 100 * in->cache_size : in->cache_size;
	if (g > s || c > s || c + g > s / 100 * 95)
		return *ret_why = c ? "cache-size= and the max-size= budgets of dvol-gc's roots "
				      "on the same filesystem leave less than 5% of it free"
				    : "the max-size= budgets of dvol-gc's roots on the cache's "
				      "filesystem leave less than 5% of it free",
		       -ERANGE;
	if (c) {
		uint64_t rest = s - c - g;

		/* per cent of the filesystem free when the cache has its share and every
		 * root its budget, rounded up: culling starts there */
		cull = (unsigned)((rest / (s / 100 ? s / 100 : 1)) + 1);
		if (cull > 95)
			cull = 95;
	}
	if (in->gc_min_free_pct >= 95)
		return *ret_why = "a min-free= budget of dvol-gc on the cache's filesystem leaves "
				  "the cache no room",
		       -ERANGE;
	if (cull < in->gc_min_free_pct + 1)
		cull = in->gc_min_free_pct + 1;
	if (cull < SPREAD + 1)
		cull = SPREAD + 1;
	*ret = (struct dvol_fscache_limits){
	    .run = cull + SPREAD, .cull = cull, .stop = cull - SPREAD, .cache_bytes = c};
	return 0;
}

int dvol_fscache_conf(const char *dir, const struct dvol_fscache_limits *l, char **ret)
{
	if (!dir || dir[0] != '/' || strpbrk(dir, "\n\r"))
		return -EINVAL;
	if (asprintf(ret,
		     "# cachefilesd.conf(5), written by dvol-gc --fscache-conf: the host's\n"
		     "# FS-Cache for cache=local NFS volumes. Culling keeps this much of the\n"
		     "# filesystem free, per cent of its blocks and of its files.\n"
		     "dir %s\n"
		     "tag dvol\n"
		     "brun %u%%\nbcull %u%%\nbstop %u%%\n"
		     "frun %u%%\nfcull %u%%\nfstop %u%%\n",
		     dir, l->run, l->cull, l->stop, l->run, l->cull, l->stop) < 0) {
		*ret = NULL;
		return -ENOMEM;
	}
	return 0;
}
