// SPDX-License-Identifier: MIT
// Reply: binding a caller to a Reply, answering it, reclaiming and destroying Replies.
#include "kernel/reply.hpp"

#include "kernel/fault.hpp"
#include "kernel/message.hpp"
#include "kernel/scheduler.hpp"

namespace kernel {

void bind_reply(Reply* reply, Tcb* caller) {
  reply->caller = caller;
  caller->reply = reply;
  caller->called_at = timer_tick_count;
  thread_block(caller, ThreadState::kBlockedOnReply);
}

void unbind_reply(Reply* reply) {
  if (reply->caller != nullptr) reply->caller->reply = nullptr;
  reply->caller = nullptr;
}

void reclaim_reply(Reply* reply, Tcb* receiver) {
  if (reply->caller != nullptr) {
    Tcb* caller = reply->caller;
    unbind_reply(reply);
    if (caller->fault_kind != 0) {
      handler_gone(caller);
    } else {
      set_result(caller, Error::kCancelled);
      thread_make_runnable(caller);
    }
  }
  if (reply->receiver != nullptr && reply->receiver != receiver) {
    reply->receiver->reply = nullptr;
    reply->receiver = nullptr;
  }
}

void reply_to(Tcb* replier, Reply* reply) {
  Tcb* caller = reply->caller;
  if (caller == nullptr) {
    set_result(replier, Error::kNoReply);
    return;
  }
  Message message;
  gather(replier, message);
  message.has_cap = false;  // GAP: a reply cannot transfer a cap
  if (caller->fault_kind != 0) {
    // answer_fault changes nothing when it fails, so the caller stays bound.
    if (!answer_fault(caller, message)) {
      set_result(replier, Error::kInvalidArgument);
      return;
    }
    unbind_reply(reply);
  } else {
    unbind_reply(reply);
    deliver(caller, message, 0, nullptr, false);
    caller->state = ThreadState::kInactive;
    thread_answered(caller);
  }
  set_result(replier, Error::kNone);
}

void reply_destroyed(Reply* reply) {
  if (reply->receiver != nullptr) {
    reply->receiver->reply = nullptr;
    reply->receiver = nullptr;
  }
  if (reply->caller != nullptr) {
    Tcb* caller = reply->caller;
    unbind_reply(reply);
    caller->state = ThreadState::kInactive;
    if (caller->fault_kind != 0) {
      handler_gone(caller);
    } else {
      set_result(caller, Error::kCancelled);
      thread_make_runnable(caller);
    }
  }
}

}  // namespace kernel
