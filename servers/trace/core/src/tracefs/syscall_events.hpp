// SPDX-License-Identifier: MIT
// The syscalls:sys_enter_NAME / sys_exit_NAME events: one row per system call.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace trace {

// A system call's events: sys_enter_NAME (its arguments, each 8 bytes from offset 16) and
// sys_exit_NAME (ret); the enter event has `enter_id`, the exit event the next id.
struct SyscallEvents {
  const char* name;  // Linux's SYSCALL_DEFINE name (newstat for stat, umount for umount2, ...)
  int32_t nr;        // the x86-64 system call number
  uint32_t enter_id;
  struct Argument {
    const char* type;
    const char* name;
  } arguments[6];
  size_t argument_count;
};

// The rows in the order the events are listed (available_events, events/syscalls).
extern const SyscallEvents kSyscalls[];
extern const size_t kSyscallCount;

}  // namespace trace
