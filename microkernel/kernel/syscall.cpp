// Native system calls: decode the arguments, check every user pointer, do the work.
#include "kernel/syscall.hpp"

#include "arch/x86_64/cpu.hpp"
#include "kernel/cnode.hpp"
#include "kernel/console.hpp"
#include "kernel/panic.hpp"
#include "kernel/ipc.hpp"
#include "kernel/task.hpp"
#include "kernel/thread.hpp"
#include "kernel/timer.hpp"
#include "sonde/abi/invocations.hpp"
#include "sonde/abi/syscalls.hpp"

namespace kernel {
namespace {

using sonde::abi::Syscall;
namespace abi = sonde::abi;


volatile uint64_t ticks = 0;
constexpr uint64_t kMaxDebugWrite = 4096;

// The debug calls are for holders of the DebugConsole cap (its cptr in rdx) only.
bool holds_debug_console(Tcb* thread) {
  Slot* slot = nullptr;
  if (thread->cspace_root.empty()) return false;
  if (lookup_cap_slot(thread->cspace_root.cap, thread->regs.rdx, slot) != Error::kNone) {
    return false;
  }
  return !slot->empty() && slot->type() == ObjectType::kDebugConsole;
}

int64_t sys_debug_write(uint64_t address, uint64_t length) {
  if (length > kMaxDebugWrite) return abi::syscall_result(Error::kInvalidArgument);
  char buffer[256];
  uint64_t done = 0;
  while (done < length) {
    uint64_t chunk = length - done < sizeof(buffer) ? length - done : sizeof(buffer);
    if (!copy_from_user(buffer, address + done, chunk)) return abi::syscall_result(Error::kBadAddress);
    console_write(buffer, chunk);
    done += chunk;
  }
  return static_cast<int64_t>(length);
}

}  // namespace

void timer_tick() { ticks = ticks + 1; }
uint64_t timer_ticks() { return ticks; }

bool test_kernel() {
#ifdef SONDE_TEST_KERNEL
  return true;
#else
  return false;
#endif
}

void task_stopped(uint64_t code) {
  if (test_kernel()) machine_exit(code);
  printk("kernel: no task left to run; idling\n");
  for (;;) {
    arch::enable_interrupts();
    arch::halt();
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
    case Syscall::kReplyRecv:
      ipc_syscall(thread, number);
      return;
    case Syscall::kYield:
      thread_yield(thread);
      result = 0;
      break;
    default:
      break;
  }
  regs.rax = static_cast<uint64_t>(result);
}

}  // namespace kernel
