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

uint64_t dvol_backoff_next(struct dvol_backoff *b, uint64_t now_ms, uint64_t deadline_ms)
{
	uint64_t pause = b->pause_ms;

	if (pause == 0 || now_ms >= deadline_ms)
		return 0;
	b->pause_ms = pause * 2 > b->max_ms ? b->max_ms : pause * 2;
	/* The last pause is cut short so that one last try starts on the deadline: a wait of
	 * SEC seconds never gives up before SEC seconds, however the pauses fall. */
	return now_ms + pause > deadline_ms ? deadline_ms - now_ms : pause;
}
