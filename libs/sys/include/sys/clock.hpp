// SPDX-License-Identifier: MIT
// Nanoseconds since boot from the clock page, without a system call.
#pragma once

#include <stdint.h>

#include "sonde/abi/clock.hpp"

namespace sys {

// Where this program mapped the clock page (the root task finds it at kRootClockPage).
inline const sonde::abi::ClockPage* clock_page = nullptr;

inline uint64_t clock_ns() {
  const sonde::abi::ClockPage* page = clock_page;
  if (page == nullptr) return 0;
  for (;;) {
    uint32_t sequence = __atomic_load_n(&page->sequence, __ATOMIC_ACQUIRE);
    if ((sequence & 1) != 0) continue;
    uint32_t low, high;
    asm volatile("lfence; rdtsc" : "=a"(low), "=d"(high) : : "memory");
    uint64_t tsc = (uint64_t{high} << 32) | low;
    uint64_t ns =
        page->ns_base + sonde::abi::clock_delta_ns(tsc - page->tsc_base, page->mult, page->shift);
    if (__atomic_load_n(&page->sequence, __ATOMIC_ACQUIRE) == sequence) return ns;
  }
}

}  // namespace sys
