// SPDX-License-Identifier: MIT
// The IPC fast paths: Call to a waiting receiver, ReplyRecv to a bound caller, and faults sent
// to a waiting handler, each switching straight to the thread that runs next.
#include "kernel/fastpath.hpp"

#include <stddef.h>

#include "kernel/breakpoint.hpp"
#include "kernel/cnode.hpp"
#include "kernel/endpoint.hpp"
#include "kernel/fault.hpp"
#include "kernel/memory.hpp"
#include "kernel/message.hpp"
#include "kernel/page_table.hpp"
#include "kernel/reply.hpp"
#include "kernel/scheduler.hpp"
#include "kernel/vspace.hpp"
#include "sonde/abi/invocations.hpp"
#include "sonde/abi/syscalls.hpp"

namespace kernel {

namespace abi = sonde::abi;
using abi::FaultKind;
using abi::MessageInfo;

namespace {

// Everything the fast paths call is inlined into them: they pay for no calls (each with its
// patchable entry NOP) and save few registers.

// A message the fast path carries: registers only, no cap.
[[gnu::always_inline]] inline bool register_message(const Tcb* sender, MessageInfo& info) {
  info = MessageInfo::decode(sender->regs.rsi);
  return info.length <= abi::kRegisterMessageWords && info.extra_caps == 0;
}

// The general walk, out of line (its result would otherwise live in memory in the fast case).
[[gnu::noinline]] Slot* lookup_any_cspace(const Tcb* tcb, uint64_t cptr) {
  Slot* slot = nullptr;
  if (tcb->cspace_root.empty() ||
      lookup_cap_slot(tcb->cspace_root.cap, cptr, slot) != Error::kNone) {
    return nullptr;
  }
  return slot;
}

// The cap `cptr` names in the thread's CSpace if it has `type` and `rights`, else null.
[[gnu::always_inline]] inline Slot* lookup(const Tcb* tcb, uint64_t cptr, ObjectType type,
                                           uint64_t rights) {
  Slot* slot = lookup_one_level(tcb->cspace_root.cap, cptr);
  if (slot == nullptr) slot = lookup_any_cspace(tcb, cptr);
  if (slot == nullptr) return nullptr;
  if (slot->cap.type != static_cast<uint8_t>(type) || !has_rights(slot->cap, rights)) {
    return nullptr;
  }
  return slot;
}

// `next` (blocked, about to be woken by this CPU's current thread, which blocks) may run here
// at once: the general scheduler would choose it too (nothing ready here at its priority or
// above), and it can leave the kernel (an address space; a canonical stack pointer, which
// kernel_exit checks).
[[gnu::always_inline]] inline bool can_switch_to(const PerCpu& cpu, const Tcb* next) {
  return next->cpu == cpu.index && !ready_at_or_above(cpu, next->priority) &&
         thread_page_table(next) != 0 && page::is_canonical(next->regs.rsp);
}

// `caller` (blocked on a Reply this CPU's current thread answers, which then waits) may run here
// at once: as can_switch_to, or, when another of its priority is ready, it goes on with its turn
// (thread_answered would queue it first) and nothing is ready above it. `contested` says which.
[[gnu::always_inline]] inline bool can_resume(const PerCpu& cpu, const Tcb* caller,
                                              bool& contested) {
  if (caller->cpu != cpu.index || thread_page_table(caller) == 0 ||
      !page::is_canonical(caller->regs.rsp)) {
    return false;
  }
  contested = ready_at_or_above(cpu, caller->priority);
  if (!contested) return true;
  const Tcb* head = cpu.run_queues[caller->priority].head;
  return !ready_above(cpu, caller->priority) && (head == nullptr || !head->resuming) &&
         answered_turn_left(caller);
}

// Message registers 0..length-1 (length at most 8), as store_words would copy them.
[[gnu::always_inline]] inline void copy_message_registers(const arch::TrapFrame& from,
                                                          arch::TrapFrame& to, uint64_t length) {
  switch (length) {
    case 8: to.rbx = from.rbx; [[fallthrough]];
    case 7: to.r15 = from.r15; [[fallthrough]];
    case 6: to.r14 = from.r14; [[fallthrough]];
    case 5: to.r13 = from.r13; [[fallthrough]];
    case 4: to.r12 = from.r12; [[fallthrough]];
    case 3: to.r9 = from.r9; [[fallthrough]];
    case 2: to.r8 = from.r8; [[fallthrough]];
    case 1: to.r10 = from.r10; [[fallthrough]];
    default: break;
  }
}

// The receiver at the head of a receiving endpoint leaves its queue and its Reply.
[[gnu::always_inline]] inline void take_receiver(Endpoint* endpoint, Tcb* receiver, Reply* reply) {
  endpoint->head = receiver->next;
  if (endpoint->head == nullptr) {
    endpoint->tail = nullptr;
    endpoint->state = kIdle;
  } else {
    endpoint->head->previous = nullptr;
  }
  receiver->next = nullptr;
  receiver->blocked_on = nullptr;
  receiver->reply = nullptr;
  reply->receiver = nullptr;
}

// This CPU's current thread stops (`sender`, now bound to `reply`) and `next` runs.
[[noreturn]] [[gnu::always_inline]] inline void call_and_switch(PerCpu& cpu, Tcb* sender,
                                                                Reply* reply, Tcb* next) {
  reply->caller = sender;
  sender->reply = reply;
  sender->called_at = timer_tick_count;
  sender->state = ThreadState::kBlockedOnReply;
  next->state = ThreadState::kRunning;
  switch_to(cpu, next);
  leave_to(cpu, next);
}

// Where the thread's IPC buffer is in the kernel's direct map, if the thread may write all of
// it (the checks copy_to_user makes: present at every level, user and writable all the way).
// The buffer is 1 KiB-aligned and smaller than 1 KiB, so it lies in one page.
// The answer is kept in the TCB until a mapping anywhere changes (mapping_epoch).
[[gnu::always_inline]] inline uint64_t* ipc_buffer_in_kernel(Tcb* tcb) {
  static_assert(sizeof(abi::IpcBuffer) <= abi::kIpcBufferAlign);
  uint64_t address = tcb->ipc_buffer;
  if (address == 0 || address >= page::kUserTop) return nullptr;
  uint64_t root = thread_page_table(tcb);
  if (tcb->ipc_kernel != nullptr && tcb->ipc_kernel_epoch == mapping_epoch &&
      tcb->ipc_kernel_buffer == address && tcb->ipc_kernel_table == root) {
    return tcb->ipc_kernel;
  }
  uint64_t table = root;
  uint64_t effective = page::kWritable | page::kUser;
  for (int level = 4; level >= 1; --level) {
    uint64_t entry =
        static_cast<const uint64_t*>(physical_to_virtual(table))[page::index(address, level)];
    if ((entry & page::kPresent) == 0) return nullptr;
    effective &= entry;
    if (level == 2 && (entry & page::kLarge) != 0) {
      table = (entry & page::kAddressMask & ~(page::kLargeSize - 1)) +
              (address & (page::kLargeSize - 1) & ~(page::kSize - 1));
      break;
    }
    table = entry & page::kAddressMask;
  }
  if (effective != (page::kWritable | page::kUser)) return nullptr;
  auto* buffer = static_cast<uint64_t*>(physical_to_virtual(table + (address & (page::kSize - 1))));
  tcb->ipc_kernel = buffer;
  tcb->ipc_kernel_epoch = mapping_epoch;
  tcb->ipc_kernel_buffer = address;
  tcb->ipc_kernel_table = root;
  return buffer;
}

}  // namespace

void fast_call(PerCpu& cpu, Tcb* caller) {
  MessageInfo info;
  if (!register_message(caller, info) || caller->fault_kind != 0) return;
  Slot* slot = lookup(caller, caller->regs.rdi, ObjectType::kEndpoint, abi::kRightWrite);
  if (slot == nullptr) return;
  auto* endpoint = reinterpret_cast<Endpoint*>(slot->cap.object);
  if (endpoint->state != kReceiving) return;
  Tcb* receiver = endpoint->head;
  Reply* reply = receiver->reply;
  if (reply == nullptr || !can_switch_to(cpu, receiver)) return;

  take_receiver(endpoint, receiver, reply);
  copy_message_registers(caller->regs, receiver->regs, info.length);
  receiver->regs.rsi = MessageInfo{info.label, info.length, 0}.encode();
  receiver->regs.rdi = slot->cap.data;
  receiver->regs.rax = 0;
  call_and_switch(cpu, caller, reply, receiver);
}

void fast_reply_receive(PerCpu& cpu, Tcb* replier) {
  MessageInfo info;
  if (!register_message(replier, info) || replier->fault_kind != 0) return;
  Slot* reply_slot = lookup(replier, replier->regs.rdx, ObjectType::kReply, 0);
  if (reply_slot == nullptr) return;
  Slot* slot = lookup(replier, replier->regs.rdi, ObjectType::kEndpoint, abi::kRightRead);
  if (slot == nullptr) return;
  auto* reply = reinterpret_cast<Reply*>(reply_slot->cap.object);
  auto* endpoint = reinterpret_cast<Endpoint*>(slot->cap.object);
  Tcb* caller = reply->caller;
  bool contested = false;
  if (caller == nullptr || reply->receiver != nullptr || endpoint->state == kSending ||
      !can_resume(cpu, caller, contested)) {
    return;
  }
  if (caller->fault_kind != 0) {
    // The answers on the hot paths: Resume (a breakpoint hit goes on after its NOP) and
    // SetResult (a ForeignSyscall's result). The others take the general path.
    auto answer = static_cast<abi::FaultReply>(info.label);
    if (caller->step_paused && answer != abi::FaultReply::kResume) return;  // answer_fault's
    if (answer == abi::FaultReply::kSetResult && info.length >= 1) {
      caller->regs.rax = replier->regs.r10;
    } else if (answer == abi::FaultReply::kResume) {
      if (caller->fault_kind == static_cast<uint64_t>(FaultKind::kBreakpoint)) {
        breakpoint_resume(caller);
      } else if (caller->step_paused) {
        breakpoint_restep(caller);
      }
    } else if (answer == abi::FaultReply::kSetSomeRegisters) {
      const arch::TrapFrame& r = replier->regs;
      const uint64_t words[abi::kRegisterMessageWords] = {r.r10, r.r8,  r.r9,  r.r12,
                                                          r.r13, r.r14, r.r15, r.rbx};
      if (!set_some_registers(caller, words, info.length)) return;  // the general path refuses it
    } else {
      return;
    }
    caller->fault_kind = 0;
  } else {
    copy_message_registers(replier->regs, caller->regs, info.length);
    caller->regs.rsi = MessageInfo{info.label, info.length, 0}.encode();
    caller->regs.rdi = 0;
    caller->regs.rax = 0;
  }
  reply->caller = nullptr;
  caller->reply = nullptr;
  caller->state = ThreadState::kRunning;
  if (contested) charge_call(caller);  // uncontested, nobody waits for the ticks it took

  // The replier waits on the endpoint with the same Reply.
  replier->regs.rax = 0;
  replier->state = ThreadState::kBlockedOnRecv;
  replier->reply = reply;
  reply->receiver = replier;
  replier->next = nullptr;
  replier->previous = endpoint->tail;
  if (endpoint->tail != nullptr) {
    endpoint->tail->next = replier;
  } else {
    endpoint->head = replier;
  }
  endpoint->tail = replier;
  replier->blocked_on = endpoint;
  endpoint->state = kReceiving;
  switch_to(cpu, caller);
  leave_to(cpu, caller);
}

void fast_foreign_syscall(Tcb* thread) {
  if (thread->fault_endpoint.empty()) return;
  thread->fault_kind = static_cast<uint64_t>(FaultKind::kForeignSyscall);
  thread->fault_address = 0;
  thread->fault_detail = 0;
  thread->fault_cpu = this_cpu().index;
  fast_fault(thread, thread->fault_endpoint.cap);
}

void fast_fault(Tcb* thread, const Capability& endpoint_cap) {
  PerCpu& cpu = this_cpu();
  if (thread != cpu.current) return;
  auto* endpoint = reinterpret_cast<Endpoint*>(endpoint_cap.object);
  if (endpoint->state != kReceiving) return;
  Tcb* handler = endpoint->head;
  Reply* reply = handler->reply;
  if (reply == nullptr || !can_switch_to(cpu, handler)) return;
  uint64_t* buffer = ipc_buffer_in_kernel(handler);
  if (buffer == nullptr) return;

  // The fault message (gather's): label the kind, words 0..18 the registers (UserRegisters
  // order), 19 and 20 the fault words, 21 the CPU. Words 0..7 go in registers, 8..21 in the IPC
  // buffer.
  take_receiver(endpoint, handler, reply);
  const arch::TrapFrame& r = thread->regs;
  arch::TrapFrame& to = handler->regs;
  to.r10 = r.rip;
  to.r8 = r.rsp;
  to.r9 = r.rflags;
  to.r12 = r.rax;
  to.r13 = r.rbx;
  to.r14 = r.rcx;
  to.r15 = r.rdx;
  to.rbx = r.rsi;
  uint64_t* words = buffer + offsetof(abi::IpcBuffer, message) / 8;
  words[8] = r.rdi;
  words[9] = r.rbp;
  words[10] = r.r8;
  words[11] = r.r9;
  words[12] = r.r10;
  words[13] = r.r11;
  words[14] = r.r12;
  words[15] = r.r13;
  words[16] = r.r14;
  words[17] = r.r15;
  words[18] = thread->fs_base;
  words[abi::kFaultAddressWord] = thread->fault_address;
  words[abi::kFaultDetailWord] = thread->fault_detail;
  words[abi::kFaultCpuWord] = thread->fault_cpu;
  to.rsi = MessageInfo{thread->fault_kind, abi::kFaultMessageWords, 0}.encode();
  to.rdi = endpoint_cap.data;
  to.rax = 0;
  call_and_switch(cpu, thread, reply, handler);
}

}  // namespace kernel
