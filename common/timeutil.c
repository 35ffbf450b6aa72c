/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <time.h>

#include "timeutil.h"

uint64_t dvol_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t dvol_now_ms(void)
{
	return dvol_now_us() / 1000u;
}

void dvol_sleep_ms(uint64_t ms)
{
	nanosleep(&(struct timespec){.tv_sec = (time_t)(ms / 1000),
				     .tv_nsec = (long)(ms % 1000) * 1000000L},
		  NULL);
}
