// SPDX-License-Identifier: MIT
// Timer ticks since boot, counted by the timer interrupt.
#include "kernel/timer.hpp"

namespace kernel {
namespace {

volatile uint64_t ticks = 0;

}  // namespace

void timer_tick() { ticks = ticks + 1; }
uint64_t timer_ticks() { return ticks; }

}  // namespace kernel
