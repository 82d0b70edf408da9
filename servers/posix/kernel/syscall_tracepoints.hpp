// SPDX-License-Identifier: MIT
// The syscall tracepoints (raw_syscalls:sys_enter/sys_exit, syscalls:sys_enter_*/sys_exit_*):
// two patchable functions the trace server breakpoints while one of them is wanted.
#pragma once

#include <stdint.h>

#include "sonde/abi/ipc.hpp"

// Linux's x86-64 struct pt_regs, the first argument of the syscall tracepoints.
struct pt_regs {
  unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax, ip, cs,
      flags, sp, ss;
};

// Called around every system call; each is a 5-byte entry NOP and a return while nobody
// traces system calls (DESIGN.md section 5).
extern "C" void trace_sys_enter(const struct pt_regs* regs, long id);
extern "C" void trace_sys_exit(const struct pt_regs* regs, long ret);

namespace posix {

// The calling thread's registers as Linux's pt_regs at system call entry.
void syscall_pt_regs(const sonde::abi::UserRegisters& registers, struct pt_regs& regs);

}  // namespace posix
