// SPDX-License-Identifier: MIT
// Entry from interrupts, exceptions and syscalls: one dispatcher for every TrapFrame.
#include "arch/x86_64/apic.hpp"
#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/trap_frame.hpp"
#include "kernel/breakpoint.hpp"
#include "kernel/console.hpp"
#include "kernel/device_caps.hpp"
#include "kernel/fastpath.hpp"
#include "kernel/fault.hpp"
#include "kernel/page_table.hpp"
#include "kernel/panic.hpp"
#include "kernel/scheduler.hpp"
#include "kernel/smp.hpp"
#include "kernel/syscall.hpp"
#include "kernel/timer.hpp"
#include "sonde/abi/ipc.hpp"

namespace arch {
void interrupt_acknowledge(uint64_t vector);
}

namespace kernel {
namespace {

constexpr uint64_t kTimerVector = 32;
constexpr uint64_t kLastIrqVector = 47;
constexpr uint64_t kPageFaultVector = 14;
constexpr uint64_t kDebugVector = 1;
constexpr uint64_t kBreakpointVector = 3;

// Device interrupts and inter-processor interrupts (with the kernel lock held).
void device_interrupt(uint64_t vector) {
  if (vector == kTimerVector) {
    timer_tick();
    scheduler_tick();
    arch::interrupt_acknowledge(vector);
  } else if (vector <= kLastIrqVector) {
    device_irq(static_cast<unsigned>(vector - kTimerVector));
    arch::interrupt_acknowledge(vector);
  } else if (vector == arch::kApicTimerVector) {
    scheduler_tick();
    arch::apic_end_of_interrupt();
  } else if (vector == arch::kRescheduleVector) {
    arch::apic_end_of_interrupt();  // the exit path reschedules
  }
}

// An exception in user mode becomes a fault message to the thread's handler.
void user_exception(Tcb* thread, const arch::TrapFrame& frame) {
  if (frame.vector == kBreakpointVector && breakpoint_trap(thread)) return;
  if (frame.vector == kDebugVector && breakpoint_step_done(thread)) return;
  if (frame.vector != kPageFaultVector || !breakpoint_pause_step(thread)) {
    breakpoint_abort_step(thread);
  }
  if (frame.vector == kPageFaultVector) {
    deliver_fault(thread, sonde::abi::FaultKind::kPage, arch::read_cr2(), frame.error_code);
  } else {
    deliver_fault(thread, sonde::abi::FaultKind::kException, frame.vector, frame.error_code);
  }
}

}  // namespace
}  // namespace kernel

// An interrupt or exception in kernel mode: only the idle loop takes interrupts (with the lock
// free); an exception here is a kernel bug, except a kernel probe's int3.
extern "C" void interrupt_dispatch(arch::TrapFrame* frame) {
  using namespace kernel;
  uint64_t vector = frame->vector;
  // TLB requests are served without the kernel lock: the CPU asking holds it and waits.
  serve_tlb_request();
  if (vector == arch::kTlbVector) {
    arch::apic_end_of_interrupt();
    return;
  }
  if (vector == arch::kSpuriousVector) return;
  if (vector >= 32) {
    kernel_lock();
    device_interrupt(vector);
    kernel_unlock();
    return;
  }
  if (vector == kBreakpointVector && kernel_breakpoint_trap(*frame)) return;
  panic_exception(*frame);
}

// An interrupt or exception in user mode: the entry stub built `frame` in the current thread's
// TCB (TSS.rsp0 pointed there).
extern "C" [[noreturn]] void user_interrupt(arch::TrapFrame* frame) {
  using namespace kernel;
  // Read before the TLB request is served: a CPU destroying the thread waits for that, and
  // the TCB may be gone after it.
  uint64_t vector = frame->vector;
  serve_tlb_request();
  if (vector == arch::kTlbVector) arch::apic_end_of_interrupt();
  kernel_lock();
  // No current thread: it was destroyed on another CPU while it ran here; its entry is void.
  if (Tcb* thread = current_thread()) {
    if (frame != &thread->regs) panic("entry frame %p is not the current thread's", frame);
    if (vector < 32) {
      user_exception(thread, *frame);
    } else {
      device_interrupt(vector);
    }
  } else if (vector >= 32) {
    device_interrupt(vector);
  }
  kernel_exit();
}

// The syscall entry (interrupts.S) saved the registers in the current thread's TCB.
extern "C" [[noreturn]] void syscall_handler() {
  using namespace kernel;
  kernel_lock();
  // No current thread: it was destroyed on another CPU while it ran here; its entry is void.
  PerCpu& cpu = this_cpu();
  if (Tcb* thread = cpu.current) {
    fast_syscall(cpu, thread);  // returns only when the general path must run
    syscall_dispatch(thread);
  }
  kernel_exit();
}
