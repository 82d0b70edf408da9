// SPDX-License-Identifier: MIT
// User-side native system calls: thin inline stubs over the ABI in sonde/abi/syscalls.hpp.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sonde/abi/errors.hpp"
#include "sonde/abi/ipc.hpp"
#include "sonde/abi/syscalls.hpp"

namespace sys {

inline int64_t syscall2(sonde::abi::Syscall number, uint64_t a0, uint64_t a1) {
  int64_t result;
  asm volatile("syscall"
               : "=a"(result)
               : "a"(static_cast<uint64_t>(number)), "D"(a0), "S"(a1)
               : "rcx", "r11", "memory");
  return result;
}

inline int64_t syscall3(sonde::abi::Syscall number, uint64_t a0, uint64_t a1, uint64_t a2) {
  int64_t result;
  asm volatile("syscall"
               : "=a"(result)
               : "a"(static_cast<uint64_t>(number)), "D"(a0), "S"(a1), "d"(a2)
               : "rcx", "r11", "memory");
  return result;
}

// The cptr of the DebugConsole cap the debug calls present: the root task has it in
// kSlotDebugConsole; a program given it elsewhere (or not at all: 0) says so here.
inline uint64_t debug_console = sonde::abi::kSlotDebugConsole;

inline int64_t raw_syscall(uint64_t number, uint64_t a0 = 0, uint64_t a1 = 0) {
  return syscall2(static_cast<sonde::abi::Syscall>(number), a0, a1);
}

inline int64_t debug_write(const char* text, size_t length) {
  return syscall3(sonde::abi::Syscall::kDebugWrite, reinterpret_cast<uint64_t>(text), length,
                  debug_console);
}
inline uint64_t debug_ticks() {
  return static_cast<uint64_t>(syscall3(sonde::abi::Syscall::kDebugTicks, 0, 0, debug_console));
}
[[noreturn]] inline void thread_exit(int64_t status) {
  syscall2(sonde::abi::Syscall::kThreadExit, static_cast<uint64_t>(status), 0);
  __builtin_unreachable();
}
// Ends the machine with `code` in test kernels; returns -Error::kNotPermitted elsewhere.
inline int64_t test_shutdown(uint64_t code) {
  return syscall2(sonde::abi::Syscall::kTestShutdown, code, 0);
}

// printf-style debug output through debug_write, or through a UART once use_log_port chose
// one (kernel and server messages on a second serial port, DESIGN.md section 9).
void print(const char* format, ...) __attribute__((format(printf, 1, 2)));
// Sends print's output to the 16550 UART at `base` through the IoPorts cap `ports`; false
// (and the kernel console kept) when no UART answers there.
bool use_log_port(uint64_t ports, uint64_t base);

}  // namespace sys
