// SPDX-License-Identifier: MIT
// Endpoint: rendezvous of senders and receivers, Calls handed to Replies, cancelling IPC.
#include "kernel/endpoint.hpp"

#include "kernel/fault.hpp"
#include "kernel/message.hpp"
#include "kernel/notification.hpp"
#include "kernel/reply.hpp"
#include "kernel/scheduler.hpp"

namespace kernel {

namespace abi = sonde::abi;

namespace {

// The caller of a Call (or a faulting thread) whose message was taken by a receiver.
void caller_delivered(Tcb* sender, bool expects_reply, Reply* reply) {
  if (!expects_reply) {
    set_result(sender, Error::kNone);
    thread_make_runnable(sender);
  } else if (reply != nullptr) {
    bind_reply(reply, sender);
  } else if (sender->fault_kind != 0) {
    handler_gone(sender);
  } else {
    set_result(sender, Error::kNoReply);
    thread_make_runnable(sender);
  }
}

}  // namespace

Tcb* endpoint_pop(Endpoint* endpoint) {
  Tcb* tcb = endpoint->head;
  queue_remove(endpoint->head, endpoint->tail, tcb);
  if (endpoint->head == nullptr) endpoint->state = kIdle;
  tcb->blocked_on = nullptr;
  return tcb;
}

void endpoint_send(Tcb* sender, Endpoint* endpoint, uint64_t badge, bool can_grant, bool is_call,
                   bool blocking) {
  if (endpoint->state == kReceiving) {
    Tcb* receiver = endpoint_pop(endpoint);
    Message message;
    gather(sender, message);
    deliver(receiver, message, badge, sender, can_grant);
    Reply* reply = receiver->reply;
    receiver->reply = nullptr;
    if (reply != nullptr) reply->receiver = nullptr;
    thread_make_runnable(receiver);
    caller_delivered(sender, is_call, reply);
    return;
  }
  if (!blocking) {
    set_result(sender, Error::kWouldBlock);
    return;
  }
  if (endpoint->receivers == 0) {
    // Nobody can ever take the message: a fault has no handler, a send fails now.
    if (sender->fault_kind != 0) {
      handler_gone(sender);
    } else {
      set_result(sender, Error::kNoReceiver);
    }
    return;
  }
  sender->send_badge = badge;
  sender->send_can_grant = can_grant;
  sender->send_is_call = is_call;
  thread_block(sender, ThreadState::kBlockedOnSend);
  queue_append(endpoint->head, endpoint->tail, sender);
  sender->blocked_on = endpoint;
  endpoint->state = kSending;
}

void endpoint_receive(Tcb* receiver, Endpoint* endpoint, Reply* reply, bool blocking) {
  if (reply != nullptr) reclaim_reply(reply, receiver);
  if (endpoint->state == kSending) {
    Tcb* sender = endpoint_pop(endpoint);
    Message message;
    gather(sender, message);
    deliver(receiver, message, sender->send_badge, sender, sender->send_can_grant);
    bool expects_reply = sender->send_is_call || sender->fault_kind != 0;
    // The sender is out of the queue but still marked blocked; caller_delivered moves it on.
    sender->state = ThreadState::kInactive;
    caller_delivered(sender, expects_reply, reply);
    return;
  }
  if (!blocking) {
    set_result(receiver, Error::kWouldBlock);
    return;
  }
  thread_block(receiver, ThreadState::kBlockedOnRecv);
  receiver->reply = reply;
  if (reply != nullptr) reply->receiver = receiver;
  queue_append(endpoint->head, endpoint->tail, receiver);
  receiver->blocked_on = endpoint;
  endpoint->state = kReceiving;
}

void ipc_cancel(Tcb* tcb) {
  switch (tcb->state) {
    case ThreadState::kBlockedOnSend:
    case ThreadState::kBlockedOnRecv: {
      auto* endpoint = static_cast<Endpoint*>(tcb->blocked_on);
      if (endpoint != nullptr) {
        queue_remove(endpoint->head, endpoint->tail, tcb);
        if (endpoint->head == nullptr) endpoint->state = kIdle;
      }
      if (tcb->reply != nullptr) tcb->reply->receiver = nullptr;
      break;
    }
    case ThreadState::kBlockedOnNotification: {
      auto* notification = static_cast<Notification*>(tcb->blocked_on);
      if (notification != nullptr) queue_remove(notification->head, notification->tail, tcb);
      break;
    }
    case ThreadState::kBlockedOnReply:
      if (tcb->reply != nullptr) tcb->reply->caller = nullptr;
      break;
    default: break;
  }
  tcb->reply = nullptr;
  tcb->blocked_on = nullptr;
  if (tcb->state != ThreadState::kRunning) {
    tcb->state = ThreadState::kInactive;
  } else {
    thread_block(tcb, ThreadState::kInactive);
  }
}

namespace {

// Wakes every thread queued on the endpoint with `error`; faulted threads lost their handler.
void release_waiters(Endpoint* endpoint, Error error) {
  while (endpoint->head != nullptr) {
    Tcb* tcb = endpoint->head;
    bool faulted = tcb->fault_kind != 0 && tcb->state == ThreadState::kBlockedOnSend;
    ipc_cancel(tcb);
    if (faulted) {
      handler_gone(tcb);
    } else {
      set_result(tcb, error);
      thread_make_runnable(tcb);
    }
  }
}

}  // namespace

void endpoint_destroyed(Endpoint* endpoint) { release_waiters(endpoint, Error::kDeleted); }

void endpoint_lost_receivers(Endpoint* endpoint) {
  // Threads blocked in Recv still receive; senders would wait for ever.
  if (endpoint->state == kSending) release_waiters(endpoint, Error::kNoReceiver);
}

void endpoint_cap_counted(const Capability& cap, int64_t change) {
  if (cap.type != static_cast<uint8_t>(ObjectType::kEndpoint) ||
      !has_rights(cap, abi::kRightRead)) {
    return;
  }
  auto* endpoint = reinterpret_cast<Endpoint*>(cap.object);
  endpoint->receivers += static_cast<uint64_t>(change);
  if (change < 0 && endpoint->receivers == 0) endpoint_lost_receivers(endpoint);
}

}  // namespace kernel
