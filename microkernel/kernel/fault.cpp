// SPDX-License-Identifier: MIT
// Faults: delivery to the fault endpoint (or the supervisor), and the handler's answers.
#include "kernel/fault.hpp"

#include <stddef.h>

#include "kernel/breakpoint.hpp"
#include "kernel/config.hpp"
#include "kernel/console.hpp"
#include "kernel/endpoint.hpp"
#include "kernel/fastpath.hpp"
#include "kernel/notification.hpp"
#include "kernel/page_table.hpp"
#include "kernel/panic.hpp"
#include "kernel/scheduler.hpp"

namespace kernel {

namespace abi = sonde::abi;
using abi::FaultKind;

void handler_gone(Tcb* tcb) {
  ipc_cancel(tcb);
  breakpoint_drop_paused_step(tcb);  // nobody answers the page fault: back to the probe
  if (tcb->fault_kind == static_cast<uint64_t>(FaultKind::kBreakpoint)) {
    // A probe's listener is gone: the thread goes on at the probe (which is removed at the
    // next hit, or already is), never stuck and never past it unobserved.
    tcb->fault_kind = 0;
    tcb->regs.rip = tcb->probe_address;
    thread_make_runnable(tcb);
    return;
  }
  if (tcb->fault_kind == static_cast<uint64_t>(FaultKind::kForeignSyscall)) {
    printk("USER FAULT in task '%s': foreign syscall %lu with no fault handler\n", tcb->name,
           tcb->regs.rax);
  } else if (tcb->fault_kind == static_cast<uint64_t>(FaultKind::kPage)) {
    printk("USER FAULT in task '%s': %s (vector 14) error code 0x%lx\n", tcb->name,
           exception_name(14), tcb->fault_detail);
  } else {
    printk("USER FAULT in task '%s': %s (vector %lu) error code 0x%lx\n", tcb->name,
           exception_name(tcb->fault_address), tcb->fault_address, tcb->fault_detail);
  }
  print_registers(tcb->regs, false);
  tcb->fault_kind = 0;
  if (!tcb->supervisor.empty()) {
    printk("kernel: thread '%s' suspended; signalling its supervisor\n", tcb->name);
    notification_signal(reinterpret_cast<Notification*>(tcb->supervisor.cap.object),
                        tcb->supervisor.cap.data);
    return;
  }
  printk("kernel: thread '%s' suspended: no fault handler and no supervisor\n", tcb->name);
  if (test_kernel()) machine_exit(abi::kShutdownFailure);
}

bool set_some_registers(Tcb* faulted, const uint64_t* words, uint64_t length) {
  if (length < 1) return false;
  uint64_t mask = words[0];
  using abi::user_register::kR11;
  using abi::user_register::kRip;
  if (mask == (uint64_t{1} << kRip | uint64_t{1} << kR11) && length >= 3) {
    // A return probe's entry hit: into the shim with r11 set (the general loop's result, without
    // the loop: words 1 and 2 are rip and r11, in index order).
    static_assert(kRip < kR11);
    if (words[1] >= page::kUserTop) return false;
    faulted->regs.rip = words[1];
    faulted->regs.r11 = words[2];
    faulted->regs.vector = 0;
    return true;
  }
  if ((mask & ~abi::kAllUserRegisters) != 0 ||
      static_cast<uint64_t>(__builtin_popcountll(mask)) > length - 1) {
    return false;
  }
  // Checked first (the rules of registers_from_user), then written: no change on a refusal.
  using abi::user_register::kFsBase;
  using abi::user_register::kRflags;
  using abi::user_register::kRip;
  using abi::user_register::kRsp;
  const uint64_t* value = words + 1;
  for (uint64_t bits = mask, at = 0; bits != 0; bits &= bits - 1, ++at) {
    auto index = static_cast<uint64_t>(__builtin_ctzll(bits));
    uint64_t v = value[at];
    if ((index == kRip || index == kFsBase) && v >= page::kUserTop) return false;
    if (index == kRsp && !page::is_canonical(v)) return false;
  }
  // Each word's place in the trap frame, from a constant table (a breakpoint hit's reply comes
  // this way: no table of pointers built per call); fs_base lives in the TCB.
  using arch::TrapFrame;
  static constexpr uint16_t kFrameOffsets[] = {
      offsetof(TrapFrame, rip), offsetof(TrapFrame, rsp), offsetof(TrapFrame, rflags),
      offsetof(TrapFrame, rax), offsetof(TrapFrame, rbx), offsetof(TrapFrame, rcx),
      offsetof(TrapFrame, rdx), offsetof(TrapFrame, rsi), offsetof(TrapFrame, rdi),
      offsetof(TrapFrame, rbp), offsetof(TrapFrame, r8),  offsetof(TrapFrame, r9),
      offsetof(TrapFrame, r10), offsetof(TrapFrame, r11), offsetof(TrapFrame, r12),
      offsetof(TrapFrame, r13), offsetof(TrapFrame, r14), offsetof(TrapFrame, r15)};
  static_assert(sizeof(kFrameOffsets) / sizeof(kFrameOffsets[0]) == kFsBase);
  static_assert(kFsBase + 1 == abi::kUserRegisterWords);
  auto* frame = reinterpret_cast<uint8_t*>(&faulted->regs);
  for (uint64_t bits = mask; bits != 0; bits &= bits - 1) {
    auto index = static_cast<uint64_t>(__builtin_ctzll(bits));
    uint64_t v = *value++;
    if (index == kFsBase) {
      faulted->fs_base = v;
      continue;
    }
    // Arithmetic flags, TF and DF are the thread's; interrupts stay on, IOPL 0 (as WriteRegisters).
    if (index == kRflags) v = (v & 0xdd5) | 0x202;
    __builtin_memcpy(frame + kFrameOffsets[index], &v, sizeof v);
  }
  // Not a syscall's frame any more: the thread leaves by iretq, which restores rcx and r11.
  faulted->regs.vector = 0;
  return true;
}

bool answer_fault(Tcb* faulted, const Message& message) {
  auto answer = static_cast<abi::FaultReply>(message.label);
  // A step paused by a page fault goes on only after Resume.
  if (answer != abi::FaultReply::kResume) breakpoint_drop_paused_step(faulted);
  switch (answer) {
    case abi::FaultReply::kResume:
      if (faulted->fault_kind == static_cast<uint64_t>(FaultKind::kBreakpoint)) {
        breakpoint_resume(faulted);
      } else {
        breakpoint_restep(faulted);
      }
      break;
    case abi::FaultReply::kSetResult:
      if (message.length < 1) return false;
      faulted->regs.rax = message.words[0];
      break;
    case abi::FaultReply::kSetRegisters: {
      if (message.length < abi::kUserRegisterWords) return false;
      abi::UserRegisters registers;
      auto* words = reinterpret_cast<uint64_t*>(&registers);
      for (uint64_t i = 0; i < abi::kUserRegisterWords; ++i) words[i] = message.words[i];
      if (!registers_from_user(*faulted, registers)) return false;
      break;
    }
    case abi::FaultReply::kSetSomeRegisters:
      if (!set_some_registers(faulted, message.words, message.length)) return false;
      break;
    case abi::FaultReply::kSuspend:
      faulted->fault_kind = 0;
      faulted->state = ThreadState::kInactive;
      return true;
    default: return false;
  }
  faulted->fault_kind = 0;
  faulted->state = ThreadState::kInactive;
  thread_answered(faulted);
  return true;
}

void deliver_fault(Tcb* tcb, FaultKind kind, uint64_t address, uint64_t detail) {
  tcb->fault_kind = static_cast<uint64_t>(kind);
  tcb->fault_address = address;
  tcb->fault_detail = detail;
  tcb->fault_cpu = this_cpu().index;  // the thread faulted on this CPU (or is about to run here)
  if (tcb->fault_endpoint.empty()) {
    handler_gone(tcb);
    return;
  }
  const Capability& cap = tcb->fault_endpoint.cap;
  fast_fault(tcb, cap);  // returns only when the general path must run
  endpoint_send(tcb, reinterpret_cast<Endpoint*>(cap.object), cap.data, false, true, true);
}

void deliver_fault_to(Tcb* tcb, const Capability& endpoint, FaultKind kind, uint64_t address,
                      uint64_t detail) {
  tcb->fault_kind = static_cast<uint64_t>(kind);
  tcb->fault_address = address;
  tcb->fault_detail = detail;
  tcb->fault_cpu = this_cpu().index;
  fast_fault(tcb, endpoint);  // returns only when the general path must run
  endpoint_send(tcb, reinterpret_cast<Endpoint*>(endpoint.object), endpoint.data, false, true,
                true);
}

}  // namespace kernel
