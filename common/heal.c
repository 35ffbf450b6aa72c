/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "heal.h"
#include "unitname.h"

int dvol_heal_file_name(const char *target, const char *suffix, char **ret)
{
	_cleanup_free_ char *name = NULL;
	int r;

	r = dvol_unit_path_escape(target, &name);
	if (r < 0)
		return r;
	return asprintf(ret, "%s%s", name, suffix) < 0 ? -ENOMEM : 0;
}

uint64_t dvol_heal_pause_ms(unsigned failures)
{
	const uint64_t max = 30ULL * 60 * 1000;

	if (failures == 0)
		return 0;
	if (failures > 7)
		return max;
	return (30000ULL << (failures - 1)) < max ? 30000ULL << (failures - 1) : max;
}
