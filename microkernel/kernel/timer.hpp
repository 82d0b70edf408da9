// SPDX-License-Identifier: MIT
// Timer ticks since boot.
#pragma once

#include <stdint.h>

namespace kernel {

struct Notification;

// Timer interrupt: one more tick; notifications whose deadline has come are signalled.
void timer_tick();
uint64_t timer_ticks();

// Notification timers (kernel lock held): signal `notification` with `badge` once the clock
// (clock-page ns) reaches `deadline`, at the first tick after it; cancel is harmless when not
// armed.
void timer_arm(Notification* notification, uint64_t deadline, uint64_t badge);
void timer_cancel(Notification* notification);

}  // namespace kernel
