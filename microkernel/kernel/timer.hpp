// SPDX-License-Identifier: MIT
// Timer ticks since boot.
#pragma once

#include <stdint.h>

namespace kernel {

struct Notification;

// Timer interrupt: one more tick; notifications whose deadline has come are signalled.
void timer_tick();
uint64_t timer_ticks();
// The count itself, for the IPC fast paths (read under the kernel lock, which timer_tick holds).
extern volatile uint64_t timer_tick_count;

// Notification timers (kernel lock held): signal `notification` with `badge` once the clock
// (clock-page ns) reaches `deadline`, at the first tick after it; cancel is harmless when not
// armed.
void timer_arm(Notification* notification, uint64_t deadline, uint64_t badge);
void timer_cancel(Notification* notification);

}  // namespace kernel
