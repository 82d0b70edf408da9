// SPDX-License-Identifier: MIT
// Notification: signal (or-ing badges into its word) and wait.
#include "kernel/notification.hpp"

#include "kernel/endpoint.hpp"
#include "kernel/message.hpp"
#include "kernel/scheduler.hpp"

namespace kernel {

void notification_signal(Notification* notification, uint64_t badge) {
  if (notification->head != nullptr) {
    Tcb* waiter = notification->head;
    queue_remove(notification->head, notification->tail, waiter);
    waiter->blocked_on = nullptr;
    waiter->regs.rdi = badge | notification->word;
    notification->word = 0;
    notification->active = 0;
    waiter->regs.rsi = 0;
    set_result(waiter, Error::kNone);
    thread_make_runnable(waiter);
    return;
  }
  notification->word |= badge;
  notification->active = 1;
}

void notification_wait(Tcb* waiter, Notification* notification, bool blocking) {
  if (notification->active != 0) {
    waiter->regs.rdi = notification->word;
    waiter->regs.rsi = 0;
    notification->word = 0;
    notification->active = 0;
    set_result(waiter, Error::kNone);
    return;
  }
  if (!blocking) {
    set_result(waiter, Error::kWouldBlock);
    return;
  }
  thread_block(waiter, ThreadState::kBlockedOnNotification);
  queue_append(notification->head, notification->tail, waiter);
  waiter->blocked_on = notification;
}

void notification_destroyed(Notification* notification) {
  while (notification->head != nullptr) {
    Tcb* tcb = notification->head;
    ipc_cancel(tcb);
    set_result(tcb, Error::kDeleted);
    thread_make_runnable(tcb);
  }
}

}  // namespace kernel
