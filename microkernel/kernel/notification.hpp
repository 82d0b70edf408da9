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
};
static_assert(sizeof(Notification) <= (1u << sonde::abi::kNotificationBits));

// Signals a notification as a Send through a cap with `badge` would (kernel lock held).
void notification_signal(Notification* notification, uint64_t badge);
// Waits (Recv) on a notification: takes the pending badges, or blocks until a signal.
void notification_wait(Tcb* waiter, Notification* notification, bool blocking);

// Destroy hook: wakes every waiter with an error.
void notification_destroyed(Notification* notification);

}  // namespace kernel
