// SPDX-License-Identifier: MIT
// Notification: a word of badges signalled and waited for, without a message.
#pragma once

#include <stdint.h>

#include "kernel/tcb.hpp"
#include "sonde/abi/objects.hpp"

namespace kernel {

struct Notification {
  uint64_t word;  // badges signalled and not yet taken, or-ed together
  Tcb* head;      // waiters
  Tcb* tail;
  uint64_t active;  // a signal is pending (even one through an unbadged cap, badge 0)
  // NotificationSetTimer: signalled with timer_badge once the clock reaches timer_deadline
  // (0: not armed); armed notifications are linked in the timer's list.
  uint64_t timer_deadline;
  uint64_t timer_badge;
  Notification* timer_next;
  Notification* timer_prev;
};
static_assert(sizeof(Notification) <= (1u << sonde::abi::kNotificationBits));

// Signals a notification as a Send through a cap with `badge` would (kernel lock held).
void notification_signal(Notification* notification, uint64_t badge);
// Waits (Recv) on a notification: takes the pending badges, or blocks until a signal.
void notification_wait(Tcb* waiter, Notification* notification, bool blocking);

// Destroy hook: wakes every waiter with an error, disarms its timer.
void notification_destroyed(Notification* notification);

// NotificationSetTimer.
void notification_invocations_init();

}  // namespace kernel
