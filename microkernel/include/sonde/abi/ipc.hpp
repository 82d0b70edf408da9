// SPDX-License-Identifier: MIT
// IPC: message info, message registers, the IPC buffer, fault messages and the root task's
// boot information. Shared by the kernel and every native program.
#pragma once

#include <stdint.h>

namespace sonde::abi {

// MessageInfo, in rsi on every IPC call and return:
//   bits 0..6   length: message words (0..kMaxMessageWords)
//   bits 7..8   extra caps: caps to transfer (send) or transferred (receive), 0..kMaxExtraCaps
//   bits 12..63 label: the message's meaning, or the invocation label for kernel objects
struct MessageInfo {
  uint64_t label = 0;
  uint64_t length = 0;
  uint64_t extra_caps = 0;

  constexpr uint64_t encode() const {
    return (label << 12) | ((extra_caps & 3) << 7) | (length & 0x7f);
  }
  static constexpr MessageInfo decode(uint64_t word) {
    return MessageInfo{word >> 12, word & 0x7f, (word >> 7) & 3};
  }
};

// The first kRegisterMessageWords words travel in registers, in this order: r10, r8, r9, r12,
// r13, r14, r15, rbx. The rest live in the IPC buffer's `message` array at the same index.
inline constexpr uint64_t kRegisterMessageWords = 8;
inline constexpr uint64_t kMaxMessageWords = 120;
inline constexpr uint64_t kMaxExtraCaps = 1;

// A thread's IPC buffer: user memory the kernel reads and writes through the thread's own
// page tables (every access checked). It must be kIpcBufferAlign-aligned.
struct IpcBuffer {
  uint64_t reserved;
  uint64_t message[kMaxMessageWords];  // words 0..7 are in registers, not here
  uint64_t user_data;                  // free for the thread (thread-local pointer, say)
  uint64_t caps[3];                    // send: cptrs of caps to transfer; receive: unused
  uint64_t receive_root;               // receive: cptr of the CNode cap where a received cap goes
  uint64_t receive_index;              //   slot index in that CNode
  uint64_t receive_depth;  //   depth of the index (0: the CNode itself is the slot's root)
};
static_assert(sizeof(IpcBuffer) == 128 * 8);
inline constexpr uint64_t kIpcBufferAlign = 1024;

// The user registers as fault messages and ReadRegisters/WriteRegisters carry them.
struct UserRegisters {
  uint64_t rip, rsp, rflags, rax, rbx, rcx, rdx, rsi, rdi, rbp;
  uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
  uint64_t fs_base;
};
inline constexpr uint64_t kUserRegisterWords = sizeof(UserRegisters) / 8;
static_assert(kUserRegisterWords == 19);

// Faults arrive as a message on the thread's fault endpoint, as if the thread had called it:
// the label is the fault kind, words 0..18 the UserRegisters, then two fault words, then the
// index of the CPU the thread faulted on (per-CPU data and trace lines of probe hits).
enum class FaultKind : uint64_t {
  kPage = 1,            // words: address, access (x86 page-fault error code bits)
  kException = 2,       // words: vector, error code (#UD, #GP, #DE, int3, ...)
  kForeignSyscall = 3,  // words: 0, 0. rip is after the `syscall`; rax holds the number
  kBreakpoint = 4,      // (breakpoint caps) words: address, breakpoint id
};
inline constexpr uint64_t kFaultAddressWord = kUserRegisterWords;
inline constexpr uint64_t kFaultDetailWord = kUserRegisterWords + 1;
inline constexpr uint64_t kFaultCpuWord = kUserRegisterWords + 2;
inline constexpr uint64_t kFaultMessageWords = kUserRegisterWords + 3;

// The reply to a fault says how the thread goes on (its label):
enum class FaultReply : uint64_t {
  kResume = 0,        // unchanged (a page fault retries the access)
  kSetResult = 1,     // word 0 goes to rax (a ForeignSyscall's result), then resume
  kSetRegisters = 2,  // words 0..18 are a UserRegisters; then resume
  kSuspend = 3,       // leave the thread suspended (a later TCB Resume restarts it)
  // Word 0 a mask of UserRegisters indices (bit i: word i of a UserRegisters), then the new
  // values of those registers in index order; the others keep theirs; then resume. Changing
  // at most seven fits the message registers (the answer of a kprobe that redirects a thread).
  kSetSomeRegisters = 4,
};
inline constexpr uint64_t kAllUserRegisters = (uint64_t{1} << kUserRegisterWords) - 1;
// Indices of UserRegisters words (SetSomeRegisters masks), from the struct's layout.
namespace user_register {
inline constexpr uint64_t kRip = __builtin_offsetof(UserRegisters, rip) / 8;
inline constexpr uint64_t kRsp = __builtin_offsetof(UserRegisters, rsp) / 8;
inline constexpr uint64_t kRflags = __builtin_offsetof(UserRegisters, rflags) / 8;
inline constexpr uint64_t kR11 = __builtin_offsetof(UserRegisters, r11) / 8;
inline constexpr uint64_t kFsBase = __builtin_offsetof(UserRegisters, fs_base) / 8;
}  // namespace user_register

// A thread's identity for Linux tracing (TCB SetTraceIdentity): `ids` is the Linux thread id
// in the low half and its process id in the high half (0: no Linux task), `comm` its name,
// `task` where its task_struct lives in the memory of the server that set it (opaque to the
// kernel). The kernel's scheduling tracepoints pass these words as they are.
struct TraceIdentity {
  uint64_t ids;
  uint64_t comm[2];
  uint64_t task;
};
static_assert(sizeof(TraceIdentity) == 32);

// Kernel-text breakpoints record samples into a ring in a frame their holder maps: the kernel
// writes records at head % capacity and advances head; the holder reads up to head and sets
// tail. A sample that finds the ring full is counted in `dropped` instead: the kernel never
// waits for the holder.
struct SampleRecord {
  uint64_t address;    // the probed function
  uint64_t timestamp;  // TSC
  uint64_t cpu;
  uint64_t thread;  // the current thread's TCB (an opaque identity), 0 when idle
  uint64_t rsp;     // the kernel stack at the probe
  uint64_t rdi, rsi, rdx, rcx, r8, r9;  // the function's arguments
  uint64_t stack[5];                    // the top of the stack (return address first)
};
static_assert(sizeof(SampleRecord) == 128);
struct SampleRing {
  volatile uint64_t head;  // written by the kernel
  volatile uint64_t tail;  // written by the holder
  volatile uint64_t dropped;
  uint64_t capacity;  // records
  uint64_t reserved[4];
  SampleRecord records[31];
};
static_assert(sizeof(SampleRing) <= 4096);

// Root task start: rdi holds the address of a read-only BootInfo page (kRootBootInfo), rsp a
// stack; the IPC buffer is mapped and configured at BootInfo::ipc_buffer (kRootIpcBuffer).
inline constexpr uint64_t kRootBootInfo = 0x00007fffffe00000ull;
inline constexpr uint64_t kRootIpcBuffer = kRootBootInfo + 0x1000;
// Slots of the root CNode, whose guard makes cptr n name slot n:
inline constexpr uint64_t kSlotNull = 0;  // always empty: cptr 0 means "no cap"
inline constexpr uint64_t kSlotRootTcb = 1;
inline constexpr uint64_t kSlotRootCNode = 2;
inline constexpr uint64_t kSlotRootVSpace = 3;
inline constexpr uint64_t kSlotIrqControl = 4;
inline constexpr uint64_t kSlotIoPorts = 5;       // every port, 0..0xffff
inline constexpr uint64_t kSlotClock = 6;         // the clock page (clock.hpp), read-only Frame
inline constexpr uint64_t kSlotKernelProbes = 7;  // KernelProbes: authority for BindKernel
inline constexpr uint64_t kSlotDebugConsole = 8;  // DebugConsole: DebugWrite, DebugTicks
inline constexpr uint64_t kSlotFirstFree = 16;    // boot module frames, untyped caps, free slots

struct UntypedDescription {
  uint64_t physical;  // base address
  uint8_t size_bits;  // 2^size_bits bytes
  uint8_t reserved[7];
};

// A boot module, handed to the root task as consecutive 4 KiB Frame caps (read and write; the
// memory is the module's and nobody else's). The first frame starts `offset` bytes before the
// module's first byte.
struct ModuleDescription {
  char name[32];        // the first word of the module's command line
  uint64_t physical;    // first byte
  uint64_t size;        // bytes
  uint64_t first_slot;  // slot of the Frame cap of the page holding the first byte
  uint64_t frame_count;
  uint64_t offset;  // of the first byte in the first frame
};

inline constexpr uint64_t kBootInfoMaxUntyped = 128;
inline constexpr uint64_t kBootInfoMaxModules = 8;
struct BootInfo {
  uint64_t magic;             // kBootInfoMagic
  uint64_t root_cnode_radix;  // the root CNode has 2^radix slots
  uint64_t ipc_buffer;        // the root thread's IPC buffer address
  uint64_t untyped_first;     // slot of the first untyped cap
  uint64_t untyped_count;     // untyped caps in consecutive slots from untyped_first
  uint64_t first_free_slot;   // first empty slot after the untyped caps
  uint64_t cpu_count;         // CPUs the kernel runs threads on
  uint64_t timer_hz;          // tick rate behind kDebugTicks
  UntypedDescription untyped[kBootInfoMaxUntyped];
  uint64_t module_count;
  ModuleDescription modules[kBootInfoMaxModules];
};
inline constexpr uint64_t kBootInfoMagic = 0x6f666e4965646e6full;  // "ondeInfo"
static_assert(sizeof(BootInfo) <= 4096);

}  // namespace sonde::abi
