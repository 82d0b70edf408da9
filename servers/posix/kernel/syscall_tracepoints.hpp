// SPDX-License-Identifier: MIT
// The syscall tracepoints (raw_syscalls:sys_enter/sys_exit, syscalls:sys_enter_*/sys_exit_*):
// two patchable functions the trace server breakpoints while one of them is wanted.
#pragma once

#include <stdint.h>

#include "kernel/linux_types.h"  // struct pt_regs
#include "sonde/abi/ipc.hpp"

// Called around every system call; each is a 5-byte entry NOP and a return while nobody
// traces system calls (DESIGN.md section 5).
extern "C" void trace_sys_enter(const struct pt_regs* regs, long id);
// trace_sys_exit's third argument, the system call's number, is Sonde's: Linux's raw
// tracepoint has (regs, ret), which raw tracepoint programs get; the trace server reads the
// number there to skip, without reading pt_regs, the calls no program is for.
extern "C" void trace_sys_exit(const struct pt_regs* regs, long ret, long id);

// The trace server's keys for the hooks (syscall_keys.S): a byte per system call and side, and
// one per side for every call.
inline constexpr uint64_t kSyscallKeys = 512;
extern "C" const unsigned char trace_syscall_keys_enter[kSyscallKeys];
extern "C" const unsigned char trace_syscall_keys_exit[kSyscallKeys];
extern "C" const unsigned char trace_syscall_key_all_enter[1];
extern "C" const unsigned char trace_syscall_key_all_exit[1];

namespace posix {

// The calling thread's registers as Linux's pt_regs at system call entry.
void syscall_pt_regs(const sonde::abi::UserRegisters& registers, struct pt_regs& regs);

// Whether the trace server has a probe on hook `function` now: its entry NOP's first byte is an
// int3, or the call of a call probe (the kernel patches the frame this server's own text maps,
// so the server sees it; the keys below are never executed, only ever int3s). Like
// Linux's static keys: while it is not, the hook's arguments are not even made (every system
// call's path); a call that races with arming may go unseen, as an event racing with enabling
// does on Linux.
inline bool hook_armed(const void* function) {
  unsigned char first = *static_cast<const volatile unsigned char*>(function);
  return first == 0xcc || first == 0xe8;
}

// Whether the trace server wants system call `number` at the entry (or exit) hook: the hook and
// the call's key (or the key for every call) are armed.
inline bool syscall_hook_wanted(bool enter, uint64_t number) {
  const void* hook = enter ? reinterpret_cast<const void*>(&trace_sys_enter)
                           : reinterpret_cast<const void*>(&trace_sys_exit);
  if (!hook_armed(hook)) return false;
  if (hook_armed(enter ? trace_syscall_key_all_enter : trace_syscall_key_all_exit)) return true;
  const unsigned char* keys = enter ? trace_syscall_keys_enter : trace_syscall_keys_exit;
  return number < kSyscallKeys && hook_armed(keys + number);
}

}  // namespace posix
