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
    Check t("notification_timer_signals_at_the_deadline_with_the_badge");
    uint64_t notification = make(ObjectType::kNotification);
    uint64_t badged = new_slot();
    must_mint(kRoot, badged, notification, abi::kRightsAll, 0x77);
    uint64_t deadline = sys::clock_ns() + 30000000;  // 30 ms
    t.error(sys::set_timer(badged, deadline), Error::kNone, "SetTimer");
    t.error(sys::poll(notification).error, Error::kWouldBlock, "signalled before the deadline");
    sys::IpcResult woken = sys::wait(notification);
    uint64_t now = sys::clock_ns();
    t.error(woken.error, Error::kNone, "wait");
    t.that(woken.badge == 0x77, "the timer's signal lacks the cap's badge");
    t.that(now >= deadline, "woken before the deadline");
    t.that(now < deadline + 2000000000, "woken seconds late");
    t.error(sys::poll(notification).error, Error::kWouldBlock, "a timer fires once");
    sys::print("  timer: woken %lu us after the deadline\n", (now - deadline) / 1000);
  }
  {
    Check t("notification_timer_cancel_rearm_and_past_deadlines");
    uint64_t notification = make(ObjectType::kNotification);
    t.error(sys::set_timer(notification, sys::clock_ns() + 20000000), Error::kNone, "arm");
    t.error(sys::set_timer(notification, 0), Error::kNone, "cancel");
    uint64_t until = sys::clock_ns() + 60000000;
    while (sys::clock_ns() < until) sys::yield();
    t.error(sys::poll(notification).error, Error::kWouldBlock, "a cancelled timer fired");
    t.error(sys::set_timer(notification, sys::clock_ns() + 500000000), Error::kNone, "arm late");
    t.error(sys::set_timer(notification, 1), Error::kNone, "re-arm in the past");
    t.error(sys::wait(notification).error, Error::kNone, "a past deadline fires at the next tick");
    // Deleting an armed notification disarms it (the next tick must not touch it).
    uint64_t doomed = make(ObjectType::kNotification);
    t.error(sys::set_timer(doomed, sys::clock_ns() + 10000000), Error::kNone, "arm the doomed");
    t.error(sys::cnode_delete(kRoot, doomed), Error::kNone, "delete while armed");
    uint64_t later = sys::clock_ns() + 40000000;
    while (sys::clock_ns() < later) sys::yield();  // a tick on freed memory would panic here
  }
  {
    Check t("notification_timer_errors");
    uint64_t notification = make(ObjectType::kNotification);
    uint64_t read_only = new_slot();
    must_mint(kRoot, read_only, notification, abi::kRightRead, 0);
    t.error(sys::set_timer(read_only, 1), Error::kMissingRight, "SetTimer without Write");
    t.error(sys::invoke(notification, abi::Label::kNotificationSetTimer), Error::kTruncatedMessage,
            "SetTimer without a deadline");
    t.error(sys::set_timer(kRoot, 1), Error::kWrongType, "SetTimer on a CNode");
    t.error(sys::set_timer(new_slot(), 1), Error::kInvalidCapability, "SetTimer on an empty slot");
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
