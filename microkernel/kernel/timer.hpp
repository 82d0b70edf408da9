// Timer ticks since boot.
#pragma once

#include <stdint.h>

namespace kernel {

// Timer interrupt: one more tick.
void timer_tick();
uint64_t timer_ticks();

}  // namespace kernel
