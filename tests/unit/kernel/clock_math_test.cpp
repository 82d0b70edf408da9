// SPDX-License-Identifier: MIT
// The TSC-to-nanoseconds conversion of the clock page (sonde/abi/clock.hpp).
#include <gtest/gtest.h>

#include <cstdint>

#include "sonde/abi/clock.hpp"

namespace {

using sonde::abi::clock_delta_ns;
using sonde::abi::clock_mult;
using sonde::abi::kClockShift;

// The exact value, rounded down: delta * 1e9 / hz in 128 bits.
uint64_t reference_ns(uint64_t delta, uint64_t hz) {
  return static_cast<uint64_t>(static_cast<unsigned __int128>(delta) * 1000000000u / hz);
}

TEST(ClockMath, MatchesTheExactConversionWithinANanosecondPerSecond) {
  for (uint64_t hz : {1000000000ull, 1193182ull * 1000, 2098000000ull, 2893432100ull, 3700000000ull,
                      5000000000ull}) {
    uint64_t mult = clock_mult(hz, kClockShift);
    for (uint64_t seconds : {0ull, 1ull, 60ull, 3600ull, 86400ull, 86400ull * 365 * 10}) {
      uint64_t delta = hz * seconds + hz / 3;
      uint64_t got = clock_delta_ns(delta, mult, kClockShift);
      uint64_t want = reference_ns(delta, hz);
      // mult is rounded down: the error grows by under a nanosecond per second of uptime.
      EXPECT_LE(got, want) << hz << " Hz after " << seconds << " s";
      EXPECT_LE(want - got, seconds + 2) << hz << " Hz after " << seconds << " s";
    }
  }
}

TEST(ClockMath, TenYearsOfTicksDoNotOverflow) {
  uint64_t hz = 5000000000ull;
  uint64_t delta = hz * 86400 * 365 * 10;
  uint64_t ns = clock_delta_ns(delta, clock_mult(hz, kClockShift), kClockShift);
  EXPECT_GT(ns, 86400ull * 365 * 10 * 1000000000ull - 86400ull * 365 * 10);
}

TEST(ClockMath, IsMonotonicInTheTickCount) {
  uint64_t hz = 2893432100ull;
  uint64_t mult = clock_mult(hz, kClockShift);
  uint64_t previous = 0;
  for (uint64_t delta = 0; delta < 100000; delta += 7) {
    uint64_t ns = clock_delta_ns(delta, mult, kClockShift);
    EXPECT_GE(ns, previous);
    previous = ns;
  }
}

}  // namespace
