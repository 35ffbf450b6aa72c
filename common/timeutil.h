/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* CLOCK_MONOTONIC, for deadlines and elapsed times. */
uint64_t dvol_now_us(void);
uint64_t dvol_now_ms(void);
/* Sleep MS milliseconds (a signal may cut it short). */
void dvol_sleep_ms(uint64_t ms);
