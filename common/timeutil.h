/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* CLOCK_MONOTONIC, for deadlines and elapsed times. */
uint64_t dvol_now_us(void);
uint64_t dvol_now_ms(void);
/* Sleep MS milliseconds (a signal may cut it short). */
void dvol_sleep_ms(uint64_t ms);

/* Pauses between tries that double from FIRST_MS up to MAX_MS (systemd's ratelimit and
 * util-linux's mount retries do the same by hand). */
struct dvol_backoff {
	uint64_t pause_ms;
	uint64_t max_ms;
};
#define DVOL_BACKOFF_INIT(first_ms, max_ms) ((struct dvol_backoff){(first_ms), (max_ms)})

/* The pause to take before the next try: cut short to end on DEADLINE_MS, where it would
 * pass it, so that the last try starts there; 0 once NOW_MS has reached DEADLINE_MS (0: no
 * tries at all). The pause after it doubles. Pure: NOW_MS is the caller's. */
uint64_t dvol_backoff_next(struct dvol_backoff *b, uint64_t now_ms, uint64_t deadline_ms);
