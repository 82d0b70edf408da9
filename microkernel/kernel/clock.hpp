// SPDX-License-Identifier: MIT
// The monotonic clock: TSC calibrated against the PIT at boot, published in a page users map.
#pragma once

#include <stdint.h>

namespace kernel {

// Measures the TSC against the PIT (interrupts off, before the timer runs) and fills the clock
// page, a frame from the boot allocator. Prints one line with the frequency.
void clock_init();
uint64_t clock_page_physical();
// Now, in the clock page's nanoseconds since boot.
uint64_t clock_now_ns();

}  // namespace kernel
