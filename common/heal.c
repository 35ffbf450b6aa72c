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

enum dvol_heal_look dvol_heal_look_of(int r)
{
	switch (r) {
	case -ESTALE:
		return DVOL_HEAL_LOOK_STALE;
	case -ETIMEDOUT:
		return DVOL_HEAL_LOOK_HUNG;
	case 0:
		return DVOL_HEAL_LOOK_LIVE;
	default:
		return DVOL_HEAL_LOOK_ERROR;
	}
}

enum dvol_heal_action dvol_heal_decide(const struct dvol_heal_facts *f)
{
	switch (f->look) {
	case DVOL_HEAL_LOOK_LIVE:
		return DVOL_HEAL_LIVE;
	case DVOL_HEAL_LOOK_HUNG:
		return DVOL_HEAL_HUNG;
	case DVOL_HEAL_LOOK_ERROR:
		return DVOL_HEAL_UNKNOWN;
	case DVOL_HEAL_LOOK_STALE:
		break;
	}
	if (!f->heal)
		return DVOL_HEAL_NOT_ASKED;
	if (f->failures && f->now_ms < f->not_before_ms)
		return DVOL_HEAL_PAUSED;
	return DVOL_HEAL_RUN;
}
