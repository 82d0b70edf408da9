// SPDX-License-Identifier: MIT
// trace_sys_enter and trace_sys_exit: empty on purpose; the trace server probes them.
#include "kernel/syscall_tracepoints.hpp"

extern "C" __attribute__((noinline, used)) void trace_sys_enter(const struct pt_regs* regs,
                                                                long id) {
  // Keeps the call and the arguments in their registers for the probe.
  asm volatile("" : : "r"(regs), "r"(id) : "memory");
}

extern "C" __attribute__((noinline, used)) void trace_sys_exit(const struct pt_regs* regs, long ret,
                                                               long id) {
  asm volatile("" : : "r"(regs), "r"(ret), "r"(id) : "memory");
}

namespace posix {

void syscall_pt_regs(const sonde::abi::UserRegisters& r, struct pt_regs& regs) {
  regs.r15 = r.r15;
  regs.r14 = r.r14;
  regs.r13 = r.r13;
  regs.r12 = r.r12;
  regs.bp = r.rbp;
  regs.bx = r.rbx;
  regs.r11 = r.r11;
  regs.r10 = r.r10;
  regs.r9 = r.r9;
  regs.r8 = r.r8;
  regs.ax = static_cast<unsigned long>(-38);  // -ENOSYS at entry, as Linux
  regs.cx = r.rcx;
  regs.dx = r.rdx;
  regs.si = r.rsi;
  regs.di = r.rdi;
  regs.orig_ax = r.rax;  // the system call's number
  regs.ip = r.rip;
  regs.cs = 0x33;
  regs.flags = r.rflags;
  regs.sp = r.rsp;
  regs.ss = 0x2b;
}

}  // namespace posix
