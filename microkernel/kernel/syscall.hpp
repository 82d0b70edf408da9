// Native system calls (sonde/abi/syscalls.hpp), the IPC ones included.
#pragma once

#include <stdint.h>

#include "arch/x86_64/trap_frame.hpp"
#include "sonde/abi/syscalls.hpp"

namespace kernel {

struct Tcb;

// A native call (or a ForeignSyscall fault) by `thread`, whose registers are in thread->regs.
void syscall_dispatch(Tcb* thread);

// The IPC and invocation system calls of `caller` (the current thread), whose registers are
// in caller->regs: Call, Send, NBSend, Recv, NBRecv, ReplyRecv. Results go to its registers,
// or to whoever wakes it later.
void ipc_syscall(Tcb* caller, sonde::abi::Syscall number);

}  // namespace kernel
