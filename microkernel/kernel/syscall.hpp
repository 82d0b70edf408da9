// Native system calls (sonde/abi/syscalls.hpp).
#pragma once

#include <stdint.h>

#include "arch/x86_64/trap_frame.hpp"

namespace kernel {

struct Tcb;

// A native call (or a ForeignSyscall fault) by `thread`, whose registers are in thread->regs.
void syscall_dispatch(Tcb* thread);

// Whether this kernel was built for tests (test shutdown enabled).
bool test_kernel();

}  // namespace kernel
