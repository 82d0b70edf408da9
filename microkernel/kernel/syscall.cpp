// SPDX-License-Identifier: MIT
// Native system calls: decode the arguments, check every user pointer, do the work.
#include "kernel/syscall.hpp"

#include "kernel/cap_invocation.hpp"
#include "kernel/cnode.hpp"
#include "kernel/config.hpp"
#include "kernel/console.hpp"
#include "kernel/endpoint.hpp"
#include "kernel/fastpath.hpp"
#include "kernel/fault.hpp"
#include "kernel/message.hpp"
#include "kernel/notification.hpp"
#include "kernel/panic.hpp"
#include "kernel/reply.hpp"
#include "kernel/scheduler.hpp"
#include "kernel/task.hpp"
#include "kernel/timer.hpp"
#include "sonde/abi/invocations.hpp"
#include "sonde/abi/syscalls.hpp"

namespace kernel {
namespace {

using sonde::abi::Syscall;
namespace abi = sonde::abi;
using abi::MessageInfo;

constexpr uint64_t kMaxDebugWrite = 4096;

// syscall_entry (interrupts.S) answers every number from kCount up for a native thread itself,
// with -1 in rax, before it saves any register.
static_assert(static_cast<uint64_t>(Syscall::kCount) == 11);
static_assert(abi::syscall_result(Error::kUnknownSyscall) == -1);

// The debug calls are for holders of the DebugConsole cap (its cptr in rdx) only.
bool holds_debug_console(Tcb* thread) {
  const Capability& root = thread->cspace_root.cap;
  if (Slot* slot = lookup_one_level(root, thread->regs.rdx)) {
    return slot->type() == ObjectType::kDebugConsole;
  }
  Slot* slot = nullptr;
  if (thread->cspace_root.empty()) return false;
  return lookup_cap_argument(thread->cspace_root.cap, thread->regs.rdx, ObjectType::kDebugConsole,
                             0, slot) == Error::kNone;
}

int64_t sys_debug_write(uint64_t address, uint64_t length) {
  if (length > kMaxDebugWrite) return abi::syscall_result(Error::kInvalidArgument);
  char buffer[256];
  uint64_t done = 0;
  while (done < length) {
    uint64_t chunk = length - done < sizeof(buffer) ? length - done : sizeof(buffer);
    if (!copy_from_user(buffer, address + done, chunk))
      return abi::syscall_result(Error::kBadAddress);
    console_write(buffer, chunk);
    done += chunk;
  }
  return static_cast<int64_t>(length);
}

Error lookup(Tcb* tcb, uint64_t cptr, Slot*& slot) {
  if (tcb->cspace_root.empty()) return Error::kInvalidRoot;
  Error error = lookup_cap_slot(tcb->cspace_root.cap, cptr, slot);
  if (error != Error::kNone) return error;
  if (slot->empty()) return Error::kInvalidCapability;
  return Error::kNone;
}

Error lookup_reply(Tcb* tcb, uint64_t cptr, Reply*& reply) {
  reply = nullptr;
  if (cptr == 0) return Error::kNone;
  Slot* slot = nullptr;
  Error error = lookup(tcb, cptr, slot);
  if (error != Error::kNone) return error;
  if (slot->type() != ObjectType::kReply) return Error::kWrongType;
  reply = reinterpret_cast<Reply*>(slot->cap.object);
  return Error::kNone;
}

// Call or Send on a kernel object: an invocation whose results come back in registers.
void invoke(Tcb* caller, uint64_t cptr) {
  MessageInfo info = MessageInfo::decode(caller->regs.rsi);
  uint64_t words[abi::kMaxInvocationWords];
  uint64_t length = info.length < abi::kMaxInvocationWords ? info.length : abi::kMaxInvocationWords;
  length = load_words(caller, words, length);
  uint64_t output[abi::kMaxInvocationWords];
  size_t output_count = 0;
  Invocation invocation{static_cast<abi::Label>(info.label),
                        words,
                        length,
                        output,
                        abi::kMaxInvocationWords,
                        &output_count};
  Error error = invoke_capability(caller->cspace_root.cap, cptr, invocation);
  if (current_thread() != caller) {
    // The invocation destroyed or suspended the caller; a suspended caller sees the result
    // when it is resumed.
    if (caller->state == ThreadState::kInactive) set_result(caller, error);
    return;
  }
  set_result(caller, error);
  if (error != Error::kNone || output_count == 0) return;
  uint64_t length_out = store_words(caller, output, output_count);
  caller->regs.rsi = MessageInfo{0, length_out, 0}.encode();
}

void send_syscall(Tcb* caller, Syscall number) {
  Slot* slot = nullptr;
  Error error = lookup(caller, caller->regs.rdi, slot);
  if (error != Error::kNone) {
    set_result(caller, error);
    return;
  }
  bool is_call = number == Syscall::kCall;
  bool blocking = number != Syscall::kNBSend;
  switch (slot->type()) {
    case ObjectType::kEndpoint:
      if (!has_rights(slot->cap, abi::kRightWrite)) return set_result(caller, Error::kMissingRight);
      endpoint_send(caller, reinterpret_cast<Endpoint*>(slot->cap.object), slot->cap.data,
                    has_rights(slot->cap, abi::kRightGrant), is_call, blocking);
      return;
    case ObjectType::kNotification:
      if (is_call) {
        // A Call on a notification is an invocation (SetTimer), never a signal.
        if (MessageInfo::decode(caller->regs.rsi).label ==
            static_cast<uint64_t>(abi::Label::kNotificationSetTimer)) {
          return invoke(caller, caller->regs.rdi);
        }
        return set_result(caller, Error::kIllegalOperation);
      }
      if (!has_rights(slot->cap, abi::kRightWrite)) return set_result(caller, Error::kMissingRight);
      notification_signal(reinterpret_cast<Notification*>(slot->cap.object), slot->cap.data);
      set_result(caller, Error::kNone);
      return;
    case ObjectType::kReply:
      if (is_call) return set_result(caller, Error::kIllegalOperation);
      reply_to(caller, reinterpret_cast<Reply*>(slot->cap.object));
      return;
    default: invoke(caller, caller->regs.rdi); return;
  }
}

void receive_syscall(Tcb* caller, bool blocking) {
  Slot* slot = nullptr;
  Error error = lookup(caller, caller->regs.rdi, slot);
  if (error != Error::kNone) return set_result(caller, error);
  switch (slot->type()) {
    case ObjectType::kEndpoint: {
      if (!has_rights(slot->cap, abi::kRightRead)) return set_result(caller, Error::kMissingRight);
      Reply* reply = nullptr;
      error = lookup_reply(caller, caller->regs.rdx, reply);
      if (error != Error::kNone) return set_result(caller, error);
      endpoint_receive(caller, reinterpret_cast<Endpoint*>(slot->cap.object), reply, blocking);
      return;
    }
    case ObjectType::kNotification:
      if (!has_rights(slot->cap, abi::kRightRead)) return set_result(caller, Error::kMissingRight);
      notification_wait(caller, reinterpret_cast<Notification*>(slot->cap.object), blocking);
      return;
    default: set_result(caller, Error::kIllegalOperation); return;
  }
}

void reply_receive_syscall(Tcb* caller) {
  Reply* reply = nullptr;
  Error error = lookup_reply(caller, caller->regs.rdx, reply);
  if (error != Error::kNone) return set_result(caller, error);
  if (reply == nullptr) return set_result(caller, Error::kInvalidCapability);
  Slot* slot = nullptr;
  error = lookup(caller, caller->regs.rdi, slot);
  if (error != Error::kNone) return set_result(caller, error);
  if (slot->type() != ObjectType::kEndpoint) return set_result(caller, Error::kIllegalOperation);
  if (!has_rights(slot->cap, abi::kRightRead)) return set_result(caller, Error::kMissingRight);
  if (reply->caller != nullptr) {
    reply_to(caller, reply);
    if (static_cast<int64_t>(caller->regs.rax) != 0) return;  // malformed fault answer
  }
  endpoint_receive(caller, reinterpret_cast<Endpoint*>(slot->cap.object), reply, true);
}

}  // namespace

void ipc_syscall(Tcb* caller, Syscall number) {
  switch (number) {
    case Syscall::kCall:
    case Syscall::kSend:
    case Syscall::kNBSend: send_syscall(caller, number); return;
    case Syscall::kRecv: receive_syscall(caller, true); return;
    case Syscall::kNBRecv: receive_syscall(caller, false); return;
    case Syscall::kReplyRecv: reply_receive_syscall(caller); return;
    default: set_result(caller, Error::kUnknownSyscall); return;
  }
}

void syscall_dispatch(Tcb* thread) {
  arch::TrapFrame& regs = thread->regs;
  if (thread->abi == static_cast<uint8_t>(abi::ThreadAbi::kLinux)) {
    deliver_fault(thread, abi::FaultKind::kForeignSyscall, 0, 0);
    return;
  }
  int64_t result = abi::syscall_result(Error::kUnknownSyscall);
  auto number = static_cast<Syscall>(regs.rax);
  switch (number) {
    case Syscall::kDebugWrite:
      result = holds_debug_console(thread) ? sys_debug_write(regs.rdi, regs.rsi)
                                           : abi::syscall_result(Error::kNotPermitted);
      break;
    case Syscall::kDebugTicks:
      result = holds_debug_console(thread) ? static_cast<int64_t>(timer_ticks())
                                           : abi::syscall_result(Error::kNotPermitted);
      break;
    case Syscall::kThreadExit:
      printk("kernel: task '%s' exited with status %ld\n", thread->name,
             static_cast<int64_t>(regs.rdi));
      if (thread->root && test_kernel()) {
        machine_exit(regs.rdi == 0 ? abi::kShutdownSuccess : abi::kShutdownFailure);
      }
      ipc_cancel(thread);
      scheduler_announce_idle();
      return;
    case Syscall::kTestShutdown:
      if (!test_kernel()) {
        result = abi::syscall_result(Error::kNotPermitted);
        break;
      }
      machine_exit(regs.rdi);
    case Syscall::kCall:
    case Syscall::kSend:
    case Syscall::kNBSend:
    case Syscall::kRecv:
    case Syscall::kNBRecv:
    case Syscall::kReplyRecv: ipc_syscall(thread, number); return;
    case Syscall::kYield:
      thread_yield(thread);
      result = 0;
      break;
    default: break;
  }
  regs.rax = static_cast<uint64_t>(result);
}

}  // namespace kernel
