// Native system calls (sonde/abi/syscalls.hpp) and what happens when the last task stops.
#pragma once

#include <stdint.h>

#include "arch/x86_64/trap_frame.hpp"

namespace kernel {

struct Tcb;

// A native call (or a ForeignSyscall fault) by `thread`, whose registers are in thread->regs.
void syscall_dispatch(Tcb* thread);

// Called when the running task exits or faults: test kernels end the machine with `code`,
// others idle with interrupts on. Does not return.
[[noreturn]] void task_stopped(uint64_t code);

// Whether this kernel was built for tests (test shutdown enabled).
bool test_kernel();

}  // namespace kernel
