// Entry from interrupts, exceptions and syscalls: one dispatcher for every TrapFrame.
#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/trap_frame.hpp"
#include "kernel/breakpoint.hpp"
#include "kernel/console.hpp"
#include "kernel/ipc.hpp"
#include "kernel/panic.hpp"
#include "kernel/syscall.hpp"
#include "kernel/thread.hpp"
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

void device_interrupt(uint64_t vector) {
  if (vector == kTimerVector) {
    timer_tick();
    scheduler_tick();
  }
  arch::interrupt_acknowledge(vector);
}

// An exception in user mode becomes a fault message to the thread's handler.
void user_exception(Tcb* thread, const arch::TrapFrame& frame) {
  if (frame.vector == kBreakpointVector && breakpoint_trap(thread)) return;
  if (frame.vector == kDebugVector && breakpoint_step_done(thread)) return;
  breakpoint_abort_step(thread);
  if (frame.vector == kPageFaultVector) {
    deliver_fault(thread, sonde::abi::FaultKind::kPage, arch::read_cr2(), frame.error_code);
  } else {
    deliver_fault(thread, sonde::abi::FaultKind::kException, frame.vector, frame.error_code);
  }
}

}  // namespace
}  // namespace kernel

extern "C" void interrupt_dispatch(arch::TrapFrame* frame) {
  using namespace kernel;
  if (!arch::from_user(*frame)) {
    // In the kernel, only the idle loop takes interrupts; anything else is a kernel bug.
    if (frame->vector >= 32 && frame->vector <= kLastIrqVector) {
      device_interrupt(frame->vector);
      return;
    }
    panic_exception(*frame);
  }
  save_current(*frame);
  Tcb* thread = current_thread();
  if (thread == nullptr) panic("entry from user mode with no current thread");
  if (frame->vector == arch::kSyscallVector) {
    syscall_dispatch(thread);
  } else if (frame->vector < 32) {
    user_exception(thread, *frame);
  } else if (frame->vector <= kLastIrqVector) {
    device_interrupt(frame->vector);
  }
  schedule_into(*frame);
}
