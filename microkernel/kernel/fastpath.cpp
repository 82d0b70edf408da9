// SPDX-License-Identifier: MIT
// The IPC fast path: Call to a waiting receiver, ReplyRecv to a bound caller.
#include "kernel/fastpath.hpp"

#include "kernel/breakpoint.hpp"
#include "kernel/cnode.hpp"
#include "kernel/endpoint.hpp"
#include "kernel/message.hpp"
#include "kernel/reply.hpp"
#include "kernel/scheduler.hpp"

namespace kernel {

namespace abi = sonde::abi;
using abi::FaultKind;
using abi::MessageInfo;

namespace {

// GAP: the fast path still copies the registers into the TCB and back and runs the general
// scheduler check (seL4 saves straight into the TCB; docs/BENCHMARKS.md).
// The message registers (a fast-path message fits in them).
void copy_registers(const arch::TrapFrame& from, arch::TrapFrame& to) {
  to.r10 = from.r10;
  to.r8 = from.r8;
  to.r9 = from.r9;
  to.r12 = from.r12;
  to.r13 = from.r13;
  to.r14 = from.r14;
  to.r15 = from.r15;
  to.rbx = from.rbx;
}

bool fast_message(const Tcb* sender, MessageInfo& info) {
  info = MessageInfo::decode(sender->regs.rsi);
  return info.length <= abi::kRegisterMessageWords && info.extra_caps == 0 &&
         sender->fault_kind == 0;
}

Slot* fast_lookup(const Tcb* tcb, uint64_t cptr, ObjectType type, uint64_t rights) {
  Slot* slot = nullptr;
  if (tcb->cspace_root.empty() ||
      lookup_cap_argument(tcb->cspace_root.cap, cptr, type, rights, slot) != Error::kNone) {
    return nullptr;
  }
  return slot;
}

}  // namespace

bool fast_call(Tcb* caller) {
  MessageInfo info;
  if (!fast_message(caller, info)) return false;
  Slot* slot = fast_lookup(caller, caller->regs.rdi, ObjectType::kEndpoint, abi::kRightWrite);
  if (slot == nullptr) return false;
  auto* endpoint = reinterpret_cast<Endpoint*>(slot->cap.object);
  if (endpoint->state != kReceiving || endpoint->head->reply == nullptr) return false;
  Tcb* receiver = endpoint_pop(endpoint);
  Reply* reply = receiver->reply;
  receiver->reply = nullptr;
  reply->receiver = nullptr;
  copy_registers(caller->regs, receiver->regs);
  receiver->regs.rsi = MessageInfo{info.label, info.length, 0}.encode();
  receiver->regs.rdi = slot->cap.data;
  receiver->regs.rax = 0;
  bind_reply(reply, caller);
  thread_make_runnable(receiver);
  return true;
}

bool fast_reply_receive(Tcb* caller) {
  MessageInfo info;
  if (!fast_message(caller, info)) return false;
  Slot* reply_slot = fast_lookup(caller, caller->regs.rdx, ObjectType::kReply, 0);
  Slot* slot = fast_lookup(caller, caller->regs.rdi, ObjectType::kEndpoint, abi::kRightRead);
  if (reply_slot == nullptr || slot == nullptr) return false;
  auto* reply = reinterpret_cast<Reply*>(reply_slot->cap.object);
  auto* endpoint = reinterpret_cast<Endpoint*>(slot->cap.object);
  Tcb* waiting = reply->caller;
  if (waiting == nullptr || endpoint->state == kSending || reply->receiver != nullptr) return false;
  if (waiting->fault_kind != 0) {
    // Answers to faults on the hot paths: resume (a breakpoint hit) or set the result (a
    // ForeignSyscall). Everything else takes the general path.
    auto answer = static_cast<abi::FaultReply>(info.label);
    if (answer != abi::FaultReply::kResume &&
        !(answer == abi::FaultReply::kSetResult && info.length >= 1)) {
      return false;
    }
    unbind_reply(reply);
    if (answer == abi::FaultReply::kSetResult) waiting->regs.rax = caller->regs.r10;
    if (waiting->fault_kind == static_cast<uint64_t>(FaultKind::kBreakpoint))
      breakpoint_resume(waiting);
    waiting->fault_kind = 0;
  } else {
    unbind_reply(reply);
    copy_registers(caller->regs, waiting->regs);
    waiting->regs.rsi = MessageInfo{info.label, info.length, 0}.encode();
    waiting->regs.rdi = 0;
    waiting->regs.rax = 0;
  }
  waiting->state = ThreadState::kInactive;
  thread_make_runnable(waiting);
  thread_block(caller, ThreadState::kBlockedOnRecv);
  caller->reply = reply;
  reply->receiver = caller;
  queue_append(endpoint->head, endpoint->tail, caller);
  caller->blocked_on = endpoint;
  endpoint->state = kReceiving;
  return true;
}

}  // namespace kernel
