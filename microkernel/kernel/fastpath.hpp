// SPDX-License-Identifier: MIT
// The IPC fast paths: Call, ReplyRecv and fault delivery in the common case.
#pragma once

#include "kernel/cap.hpp"
#include "kernel/smp.hpp"
#include "kernel/tcb.hpp"
#include "sonde/abi/invocations.hpp"
#include "sonde/abi/syscalls.hpp"

namespace kernel {

// Each fast path checks its preconditions in a few branches and, when they all hold, does
// exactly what the general path would and then leaves the kernel straight to the thread that
// runs next, without the general scheduler: it does not return. When any does not hold it
// returns having changed nothing, and the general path runs.
//
// Call: a message in registers (no cap), an endpoint cap with Write, a receiver waiting with
// a Reply, which this CPU may run at once (its affinity, nothing ready at its priority or
// above). ReplyRecv: the same message rules, a Reply with a caller that may run at once (a
// fault answered by Resume or SetResult included), an endpoint cap with Read that has no
// sender waiting.
void fast_call(PerCpu& cpu, Tcb* caller);
void fast_reply_receive(PerCpu& cpu, Tcb* replier);
// A Linux-ABI thread's `syscall`: the ForeignSyscall fault, by fast_fault.
void fast_foreign_syscall(Tcb* thread);

// The fast paths a syscall may take (inline: the other calls pay two compares).
inline void fast_syscall(PerCpu& cpu, Tcb* thread) {
  uint64_t number = thread->regs.rax;
  if (thread->abi != static_cast<uint8_t>(sonde::abi::ThreadAbi::kNative)) {
    fast_foreign_syscall(thread);
  } else if (number == static_cast<uint64_t>(sonde::abi::Syscall::kCall)) {
    fast_call(cpu, thread);
  } else if (number == static_cast<uint64_t>(sonde::abi::Syscall::kReplyRecv)) {
    fast_reply_receive(cpu, thread);
  }
}

// A fault of this CPU's current thread (its kind and words already set) to a handler waiting
// on the endpoint with a Reply and a writable IPC buffer, which may run at once.
void fast_fault(Tcb* thread, const Capability& endpoint_cap);

}  // namespace kernel
