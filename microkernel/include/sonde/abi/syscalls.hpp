// Native system call ABI: numbers, registers and results, shared by the kernel and libs/sys.
#pragma once

#include <stdint.h>

namespace sonde::abi {

// A native call is `syscall` with the number in rax and arguments in rdi, rsi, rdx, r10, r8,
// r9 (the registers Linux uses, so one stub shape serves both). The result comes back in rax:
// zero or positive on success, a negative SyscallError on failure.
enum class Syscall : uint64_t {
  kDebugWrite = 0,    // (const char* text, uint64_t length) -> length written
  kDebugTicks = 1,    // () -> timer ticks since boot
  kThreadExit = 2,    // (int64_t status) -> does not return
  kTestShutdown = 3,  // (uint64_t code) -> ends the machine; only in test kernels
  kCount = 4,
};

enum SyscallError : int64_t {
  kErrorNone = 0,
  kErrorUnknownSyscall = -1,   // no such native call
  kErrorInvalidArgument = -2,  // an argument is out of range
  kErrorBadAddress = -3,       // a user pointer is not mapped readable/writable in the caller
  kErrorNotPermitted = -4,     // the call exists but this kernel or caller may not use it
};

// Timer frequency behind kDebugTicks.
inline constexpr uint64_t kTimerHz = 100;

// Codes a test kernel writes to QEMU's isa-debug-exit port; QEMU exits with (code << 1) | 1.
inline constexpr uint64_t kShutdownSuccess = 0;  // QEMU exit status 1
inline constexpr uint64_t kShutdownFailure = 1;  // QEMU exit status 3
inline constexpr uint64_t kShutdownPanic = 0x7f;  // QEMU exit status 255

}  // namespace sonde::abi
