// SPDX-License-Identifier: MIT
// Timer ticks since boot, counted by the timer interrupt, and the notifications armed to be
// signalled at a time of the clock (NotificationSetTimer).
#include "kernel/timer.hpp"

#include "kernel/clock.hpp"
#include "kernel/notification.hpp"

namespace kernel {

volatile uint64_t timer_tick_count = 0;

namespace {

Notification* armed = nullptr;  // every notification with a deadline, unordered

void expire_timers() {
  if (armed == nullptr) return;
  uint64_t now = clock_now_ns();
  for (Notification* n = armed; n != nullptr;) {
    Notification* next = n->timer_next;
    if (now >= n->timer_deadline) {
      uint64_t badge = n->timer_badge;
      timer_cancel(n);
      notification_signal(n, badge);
    }
    n = next;
  }
}

}  // namespace

void timer_tick() {
  timer_tick_count = timer_tick_count + 1;
  expire_timers();
}
uint64_t timer_ticks() { return timer_tick_count; }

void timer_arm(Notification* notification, uint64_t deadline, uint64_t badge) {
  timer_cancel(notification);
  notification->timer_deadline = deadline;
  notification->timer_badge = badge;
  notification->timer_prev = nullptr;
  notification->timer_next = armed;
  if (armed != nullptr) armed->timer_prev = notification;
  armed = notification;
}

void timer_cancel(Notification* notification) {
  if (notification->timer_deadline == 0) return;
  if (notification->timer_prev != nullptr) {
    notification->timer_prev->timer_next = notification->timer_next;
  } else {
    armed = notification->timer_next;
  }
  if (notification->timer_next != nullptr) {
    notification->timer_next->timer_prev = notification->timer_prev;
  }
  notification->timer_deadline = 0;
  notification->timer_next = notification->timer_prev = nullptr;
}

}  // namespace kernel
