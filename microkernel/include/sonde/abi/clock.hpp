// SPDX-License-Identifier: MIT
// The user-readable clock: a read-only page with what turns the TSC into nanoseconds since
// boot, so user-mode timestamps need no system call.
#pragma once

#include <stdint.h>

namespace sonde::abi {

struct ClockPage {
  volatile uint32_t sequence;  // odd while the kernel rewrites the page; readers retry
  uint32_t flags;              // kClockInvariantTsc, kClockCalibrated
  uint64_t tsc_base;           // TSC at ns_base
  uint64_t ns_base;            // nanoseconds since boot at tsc_base
  uint64_t mult;               // ns = ns_base + ((tsc - tsc_base) * mult) >> shift
  uint32_t shift;
  uint32_t reserved;
  uint64_t tsc_hz;  // the calibrated TSC frequency
};

inline constexpr uint32_t kClockInvariantTsc = 1u << 0;  // CPUID says the TSC never stops
inline constexpr uint32_t kClockCalibrated = 1u << 1;    // measured against the PIT

// The root task finds the page mapped here (read-only); slot kSlotClock holds a read-only
// Frame cap to it for mapping into other address spaces.
inline constexpr uint64_t kRootClockPage = 0x00007fffffe02000ull;
inline constexpr uint64_t kClockShift = 32;

// The conversion, in one place for the kernel, user code and the host tests. The product is
// 128 bits wide, so no TSC delta can overflow it.
constexpr uint64_t clock_mult(uint64_t tsc_hz, uint32_t shift) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(1000000000u) << shift) / tsc_hz);
}
constexpr uint64_t clock_delta_ns(uint64_t tsc_delta, uint64_t mult, uint32_t shift) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(tsc_delta) * mult) >> shift);
}

}  // namespace sonde::abi
