// SPDX-License-Identifier: MIT
// Kernel tests of the clock page.
#include "sys/clock.hpp"

#include "suite.hpp"

namespace kernel_tests {

DEFINE_TEST(clock, "the clock page: monotonic nanoseconds that follow the timer, read-only") {
  sys::clock_page = reinterpret_cast<const abi::ClockPage*>(abi::kRootClockPage);
  {
    Check t("clock_reads_monotonic_nanoseconds_without_a_syscall");
    t.that(sys::clock_page->tsc_hz > 0 && (sys::clock_page->sequence & 1) == 0, "clock page empty");
    uint64_t previous = sys::clock_ns();
    bool monotonic = previous > 0;
    for (int i = 0; i < 10000; ++i) {
      uint64_t now = sys::clock_ns();
      monotonic = monotonic && now >= previous;
      previous = now;
    }
    t.that(monotonic, "the clock went backwards");
  }
  {
    Check t("clock_advances_with_the_timer");
    uint64_t tick = sys::debug_ticks();
    while (sys::debug_ticks() == tick) {
    }  // start on a tick edge
    uint64_t start_ns = sys::clock_ns();
    uint64_t start_tick = sys::debug_ticks();
    while (sys::debug_ticks() - start_tick < 20) {
    }
    uint64_t elapsed = sys::clock_ns() - start_ns;
    uint64_t expected = 20 * (1000000000 / boot->timer_hz);  // 200 ms
    // Generous: under emulation the PIT and the TSC both follow the host, loosely.
    t.that(elapsed > expected / 2 && elapsed < expected * 2, "clock and timer disagree by 2x");
    sys::print("  clock: %lu ns over 20 ticks (%lu MHz TSC)\n", elapsed,
               sys::clock_page->tsc_hz / 1000000);
  }
  {
    Check t("clock_page_is_read_only");
    t.that(faults_at(write_word, abi::kRootClockPage), "the clock page is writable");
    t.error(map_frame(abi::kSlotClock, kVSpace, kWindow + 0x60000, abi::kMapWrite),
            Error::kMissingRight, "writable mapping of the clock");
    t.error(map_frame(abi::kSlotClock, kVSpace, kWindow + 0x60000, abi::kMapRead), Error::kNone,
            "read-only mapping of the clock");
    const auto* copy = reinterpret_cast<const volatile abi::ClockPage*>(kWindow + 0x60000);
    t.that(copy->tsc_hz == sys::clock_page->tsc_hz, "second mapping shows other memory");
  }
}

}  // namespace kernel_tests
