// Entry from interrupts, exceptions and syscalls: one dispatcher for every TrapFrame.
#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/trap_frame.hpp"
#include "kernel/console.hpp"
#include "kernel/panic.hpp"
#include "kernel/syscall.hpp"
#include "kernel/task.hpp"
#include "kernel/timer.hpp"
#include "sonde/abi/syscalls.hpp"

namespace arch {
void interrupt_acknowledge(uint64_t vector);
}

namespace kernel {
namespace {

constexpr uint64_t kTimerVector = 32;
constexpr uint64_t kLastIrqVector = 47;

// A fault in user mode: until fault endpoints exist (issue 5), report it and stop the task.
void user_fault(arch::TrapFrame& frame) {
  Task* task = current_task();
  printk("USER FAULT in task '%s': %s (vector %lu) error code 0x%lx\n", task ? task->name : "?",
         exception_name(frame.vector), frame.vector, frame.error_code);
  print_registers(frame, false);
  if (task != nullptr) task->running = false;
  task_stopped(sonde::abi::kShutdownFailure);
}

}  // namespace
}  // namespace kernel

extern "C" void interrupt_dispatch(arch::TrapFrame* frame) {
  using namespace kernel;
  if (frame->vector == arch::kSyscallVector) {
    syscall_dispatch(*frame);
  } else if (frame->vector < 32) {
    if (!arch::from_user(*frame)) panic_exception(*frame);
    user_fault(*frame);
  } else if (frame->vector == kTimerVector) {
    timer_tick();
    arch::interrupt_acknowledge(frame->vector);
  } else if (frame->vector <= kLastIrqVector) {
    arch::interrupt_acknowledge(frame->vector);
  }
}
