// SPDX-License-Identifier: MIT
// Notification: signal (or-ing badges into its word) and wait.
#include "kernel/notification.hpp"

#include "kernel/cap_invocation.hpp"
#include "kernel/endpoint.hpp"
#include "kernel/message.hpp"
#include "kernel/scheduler.hpp"
#include "kernel/timer.hpp"

namespace kernel {

namespace {

using sonde::abi::Label;

Error handle_notification_invocation(const Capability&, Slot* slot, const Invocation& invocation) {
  if (invocation.label != Label::kNotificationSetTimer) return Error::kInvalidLabel;
  if (!has_rights(slot->cap, sonde::abi::kRightWrite)) return Error::kMissingRight;
  if (invocation.word_count < 1) return Error::kTruncatedMessage;
  auto* notification = reinterpret_cast<Notification*>(slot->cap.object);
  timer_cancel(notification);
  uint64_t deadline = invocation.words[0];
  if (deadline != 0) timer_arm(notification, deadline, slot->cap.data);
  return Error::kNone;
}

}  // namespace

void notification_invocations_init() {
  set_invocation_handler(ObjectType::kNotification, handle_notification_invocation);
}

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
  timer_cancel(notification);
  while (notification->head != nullptr) {
    Tcb* tcb = notification->head;
    ipc_cancel(tcb);
    set_result(tcb, Error::kDeleted);
    thread_make_runnable(tcb);
  }
}

}  // namespace kernel
