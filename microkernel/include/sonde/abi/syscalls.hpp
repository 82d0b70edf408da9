// SPDX-License-Identifier: MIT
// Native system call ABI: numbers, registers and results, shared by the kernel and libs/sys.
#pragma once

#include <stdint.h>

namespace sonde::abi {

// A native call is `syscall` with the number in rax. The debug calls take arguments in rdi,
// rsi, and in rdx the cptr of a DebugConsole cap (objects.hpp): without one they fail with
// Error::kNotPermitted. The IPC calls (Call .. ReplyRecv) use the register convention of
// sonde/abi/ipc.hpp: rdi = cptr (badge on return), rsi = MessageInfo, rdx = reply cptr, message
// registers in r10, r8, r9, r12, r13, r14, r15, rbx. Every register except rax, rcx and r11 (and
// the ones the call returns values in) is preserved. The result comes back in rax: zero or positive
// on success, minus an Error (errors.hpp) on failure: the kernel has one error space.
enum class Syscall : uint64_t {
  kDebugWrite = 0,    // (const char* text, uint64_t length) -> length written
  kDebugTicks = 1,    // () -> timer ticks since boot
  kThreadExit = 2,    // (int64_t status) -> does not return; the calling thread stops
  kTestShutdown = 3,  // (uint64_t code) -> ends the machine; only in test kernels
  // Send a message and wait for the reply: an IPC call on an endpoint, or an invocation of a
  // kernel object (the MessageInfo label says which operation; results come back in rax and
  // the message registers).
  kCall = 4,
  kSend = 5,       // blocking send on an endpoint; signal on a notification; reply on a Reply
  kNBSend = 6,     // as Send, but Error::kWouldBlock instead of waiting for a receiver
  kRecv = 7,       // receive on an endpoint (rdx: Reply cap to bind) or wait on a notification
  kNBRecv = 8,     // as Recv, but Error::kWouldBlock when nothing is waiting (poll)
  kReplyRecv = 9,  // reply through the Reply cap in rdx, then Recv on rdi with the same Reply
  kYield = 10,     // () -> 0; the rest of the time slice goes to threads of equal priority
  kCount = 11,
};

// Timer frequency behind kDebugTicks.
inline constexpr uint64_t kTimerHz = 100;

// Codes a test kernel writes to QEMU's isa-debug-exit port; QEMU exits with (code << 1) | 1.
inline constexpr uint64_t kShutdownSuccess = 0;   // QEMU exit status 1
inline constexpr uint64_t kShutdownFailure = 1;   // QEMU exit status 3
inline constexpr uint64_t kShutdownPanic = 0x7f;  // QEMU exit status 255

}  // namespace sonde::abi
