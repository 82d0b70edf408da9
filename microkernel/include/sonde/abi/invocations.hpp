// SPDX-License-Identifier: MIT
// Invocation labels and message layouts: what a user sends to a cap to act on its object.
#pragma once

#include <stdint.h>

namespace sonde::abi {

// An invocation names a cap (cptr, resolved through the caller's CSpace at depth 64), a label
// and message words. Labels are grouped by object type in blocks of 16 so a label says which
// type it belongs to (invoking it on another type gives Error::kWrongType).
enum class Label : uint64_t {
  kInvalid = 0,
  // CNode: the invoked cap is the destination root.
  kCNodeCopy = 16,
  kCNodeMint = 17,
  kCNodeMove = 18,
  kCNodeMutate = 19,
  kCNodeDelete = 20,
  kCNodeRevoke = 21,
  // Untyped.
  kUntypedRetype = 32,
  // TCB (the invoked cap is the thread's TCB).
  kTcbConfigure = 48,
  kTcbSetPriority = 49,
  kTcbReadRegisters = 50,
  kTcbWriteRegisters = 51,
  kTcbResume = 52,
  kTcbSuspend = 53,  // a fault not yet received is taken back: Resume faults again
  kTcbSetAbi = 54,
  kTcbSetAffinity = 55,
  kTcbSetTls = 56,
  kTcbSetMaxPriority = 57,
  kTcbReadFpu = 58,           // -> the thread's FPU/SSE state (tcb_message::kFpu*)
  kTcbWriteFpu = 59,          // replace it (checked: MXCSR reserved bits are refused)
  kTcbSetTraceIdentity = 60,  // who the thread is to Linux tracing (tcb_message::kTrace*)
  kTcbReadCpuTime = 61,       // -> its CPU time as a Linux task (tcb_message::kCpuTime*)
  // Endpoints and replies take no invocations: Call, Send and Recv on them are IPC; so are
  // Send (signal) and Recv (wait) on a notification.
  kNotificationSetTimer = 64,  // Notification (Write right): signal it when the clock reaches
                               // word 0 (clock-page ns), with the cap's badge; 0 cancels
  // Blocks reserved for the types still to come (labels are assigned with the code):
  kVSpaceMapForeign = 96,  // VSpace (Read right): map one of its pages read-only elsewhere
  kVSpaceUnmapForeign = 97,
  kFrameMap = 112,  // Frame: map into a VSpace
  kFrameUnmap = 113,
  kFrameRemap = 114,       // change the rights of the mapping (protect)
  kFrameGetAddress = 115,  // -> physical address in word 0
  kPageTableMap = 176,     // PageTable: becomes the missing paging structure at an address
  kPageTableUnmap = 177,
  kBreakpointBind = 128,        // Breakpoint: choose the target VSpace and the endpoint for hits
  kBreakpointInsert = 129,      // put an int3 at an address
  kBreakpointRemove = 130,      // restore the original byte
  kBreakpointBindKernel = 131,  // probe kernel text: samples go to a ring, a notification
  kIrqControlGet = 144,         // IrqControl: a handler cap for one interrupt line
  kIrqHandlerSetNotification = 145,  // IrqHandler: bind (or, with cptr 0, unbind)
  kIrqHandlerAck = 146,              // IrqHandler: the line may interrupt again
  kIoPortsIn8 = 160,                 // IoPorts: read a port (the value comes back in word 0)
  kIoPortsIn16 = 161,
  kIoPortsIn32 = 162,
  kIoPortsOut8 = 163,  // IoPorts: write a port
  kIoPortsOut16 = 164,
  kIoPortsOut32 = 165,
  kIoPortsIssue = 166,    // IoPorts: a cap to a narrower range (a child: revocable)
  kPageTableFirst = 176,  // PageTable 176..191
  kFirstUnassigned = 192,
};

inline constexpr uint64_t kLabelBlockBits = 4;
constexpr uint64_t label_block(Label label) {
  return static_cast<uint64_t>(label) >> kLabelBlockBits;
}

// Message words by label; "index, depth" pairs address a slot relative to a CNode cap
// (index resolved through depth bits, most significant first).
namespace cnode_message {
// Copy, Mint, Move, Mutate (invoked cap = destination root CNode):
inline constexpr uint64_t kDestIndex = 0;
inline constexpr uint64_t kDestDepth = 1;
inline constexpr uint64_t kSourceRoot = 2;  // cptr of a CNode cap in the caller's CSpace
inline constexpr uint64_t kSourceIndex = 3;
inline constexpr uint64_t kSourceDepth = 4;
inline constexpr uint64_t kRights = 5;          // Mint, Mutate: rights mask kept
inline constexpr uint64_t kData = 6;            // Mint, Mutate: badge or CNode guard data
inline constexpr uint64_t kTransferLength = 5;  // Copy, Move
inline constexpr uint64_t kDeriveLength = 7;    // Mint, Mutate
// Delete, Revoke (invoked cap = root CNode of the target slot):
inline constexpr uint64_t kIndex = 0;
inline constexpr uint64_t kDepth = 1;
inline constexpr uint64_t kSlotLength = 2;
}  // namespace cnode_message

namespace untyped_message {
// Retype (invoked cap = the untyped):
inline constexpr uint64_t kObjectType = 0;  // ObjectType
inline constexpr uint64_t kSizeBits = 1;    // Untyped and Frame size, CNode radix
inline constexpr uint64_t kRoot = 2;        // cptr of a CNode cap in the caller's CSpace
inline constexpr uint64_t kNodeIndex = 3;   // destination CNode inside root;
inline constexpr uint64_t kNodeDepth = 4;   //   depth 0 means the root itself
inline constexpr uint64_t kNodeOffset = 5;  // first slot to fill
inline constexpr uint64_t kCount = 6;       // number of objects, each in its own slot
inline constexpr uint64_t kLength = 7;
}  // namespace untyped_message

namespace tcb_message {
// Configure: every cptr is looked up in the caller's CSpace; cptr 0 (slot 0, kept empty by
// convention) means "none" for the fault endpoint and the supervisor.
inline constexpr uint64_t kCSpaceRoot = 0;      // CNode cap: the thread's CSpace root
inline constexpr uint64_t kCSpaceRootData = 1;  // guard for the copy (cnode_guard_data), 0: keep
inline constexpr uint64_t kVSpace = 2;          // VSpace cap: the thread's address space
inline constexpr uint64_t kIpcBuffer = 3;       // user address of its IpcBuffer (aligned), 0: none
inline constexpr uint64_t kFaultEndpoint = 4;   // Endpoint cap faults are sent to
inline constexpr uint64_t kSupervisor = 5;      // Notification signalled when no handler is left
inline constexpr uint64_t kConfigureLength = 6;
// SetPriority, SetMaxPriority: the new priority or maximum controlled priority, at most the
// caller's own maximum controlled priority (the root thread's is 255, a new thread's 0).
inline constexpr uint64_t kPriority = 0;
// WriteRegisters: flags word, then a UserRegisters (ipc.hpp) in order.
inline constexpr uint64_t kWriteFlags = 0;
inline constexpr uint64_t kWriteResume = 1;  // flag: resume the thread afterwards
// SetAbi: ThreadAbi value. SetAffinity: CPU index. SetTls: the fs base.
inline constexpr uint64_t kValue = 0;
// ReadFpu returns and WriteFpu takes the thread's FPU state: word 0 the state components that
// follow, as XSAVE feature bits (kFpuX87 | kFpuSse; the kernel does not enable AVX), then the
// 512-byte legacy area as fxsave64 lays it out (FCW at byte 0, MXCSR at 24, MXCSR_MASK at 28,
// st0..7 from 32, xmm0..15 from 160; bytes 464..511 are free for software). WriteFpu wants
// exactly the components ReadFpu reports and an MXCSR with no bit outside the CPU's MXCSR
// mask. Neither works on the caller's own thread or on a thread running on another CPU.
inline constexpr uint64_t kFpuFeatures = 0;
inline constexpr uint64_t kFpuArea = 1;
inline constexpr uint64_t kFpuX87 = 1u << 0;
inline constexpr uint64_t kFpuSse = 1u << 1;
inline constexpr uint64_t kFpuAreaBytes = 512;
inline constexpr uint64_t kFpuLength = kFpuArea + kFpuAreaBytes / 8;  // 65 words
inline constexpr uint64_t kFpuMxcsrOffset = 24;                       // bytes into the area
inline constexpr uint64_t kFpuMxcsrMaskOffset = 28;
// SetTraceIdentity: a TraceIdentity (ipc.hpp) in order, the Linux task the thread is, which
// the kernel reports in its scheduling tracepoints (trace_sched_switch, trace_sched_wakeup,
// trace_sched_wakeup_new). An identity with ids 0 makes the thread no Linux task again.
inline constexpr uint64_t kTraceIds = 0;
inline constexpr uint64_t kTraceComm = 1;  // two words: 16 bytes, NUL-padded
inline constexpr uint64_t kTraceTask = 3;
inline constexpr uint64_t kTraceFlags = 4;
inline constexpr uint64_t kTraceLength = 5;
// Flag: the task ran before in another thread object (an exec that replaces the thread): the
// CPUs that last ran it name this thread now, and its first run is no sched_wakeup_new.
inline constexpr uint64_t kTraceContinues = 1;
// ReadCpuTime returns the thread's CPU time as a Linux task (one with a trace identity): the
// nanoseconds it was its CPU's Linux task (running itself, or blocked in a system call while
// servers worked for it, until another task ran there or the CPU idled; up to now if it still
// is), and how many timer ticks found it so in user mode and served (Linux's utime/stime
// split is these ticks' ratio of the nanoseconds, as cputime_adjust scales them).
inline constexpr uint64_t kCpuTimeNs = 0;
inline constexpr uint64_t kCpuTimeUserTicks = 1;
inline constexpr uint64_t kCpuTimeSystemTicks = 2;
inline constexpr uint64_t kCpuTimeLength = 3;
}  // namespace tcb_message

namespace frame_message {
// Map: the VSpace cap (Write right), the page-aligned user address, the MapRights.
inline constexpr uint64_t kVSpace = 0;
inline constexpr uint64_t kAddress = 1;
inline constexpr uint64_t kRights = 2;
inline constexpr uint64_t kMapLength = 3;
// Remap: the new MapRights.
inline constexpr uint64_t kRemapRights = 0;
}  // namespace frame_message

namespace vspace_message {
// MapForeign and UnmapForeign, invoked on the source VSpace: the page address in it, the
// destination VSpace cap (Write right) and the page address there.
inline constexpr uint64_t kSource = 0;
inline constexpr uint64_t kDestination = 1;
inline constexpr uint64_t kDestinationAddress = 2;
inline constexpr uint64_t kForeignLength = 3;
}  // namespace vspace_message

namespace device_message {
// IrqControlGet: the line (1..15 except 2; 0 is the kernel's timer), then where the new cap
// goes: index and depth in the invoked root CNode's space (the caller's CSpace root).
inline constexpr uint64_t kIrq = 0;
inline constexpr uint64_t kIrqIndex = 1;
inline constexpr uint64_t kIrqDepth = 2;
inline constexpr uint64_t kIrqGetLength = 3;
// IrqHandlerSetNotification: the Notification cap (Write right) or 0.
inline constexpr uint64_t kNotification = 0;
// In: the port. Out: the port and the value. Issue: first and last port, index and depth.
inline constexpr uint64_t kPort = 0;
inline constexpr uint64_t kValue = 1;
inline constexpr uint64_t kFirstPort = 0;
inline constexpr uint64_t kLastPort = 1;
inline constexpr uint64_t kIssueIndex = 2;
inline constexpr uint64_t kIssueDepth = 3;
inline constexpr uint64_t kIssueLength = 4;
}  // namespace device_message

namespace page_table_message {
// Map: the VSpace cap (Write right) and an address the structure will cover.
inline constexpr uint64_t kVSpace = 0;
inline constexpr uint64_t kAddress = 1;
inline constexpr uint64_t kMapLength = 2;
}  // namespace page_table_message

namespace breakpoint_message {
// Bind: the VSpace cap (Write right) whose code is probed and the Endpoint cap (Write right)
// hits are sent to; its badge tells the holder's breakpoints apart. An optional flags word:
// kBindToThread sends each hit to the hitting thread's own fault endpoint instead (its badge
// names the thread, as its other faults'); the bound endpoint then only says that somebody
// listens (without receivers the probes go), and a thread with no fault endpoint hits to it.
inline constexpr uint64_t kVSpace = 0;
inline constexpr uint64_t kEndpoint = 1;
inline constexpr uint64_t kBindFlags = 2;
inline constexpr uint64_t kBindLength = 2;
inline constexpr uint64_t kBindToThread = 1;
// Insert: the address, the displaced instruction's length (1..15; 5 for an entry NOP), the
// out-of-line slot holding a copy of it (0 for a NOP: the thread resumes after it), and the
// fix-up register: an index into UserRegisters (0 none) the kernel sets to the address after
// the displaced instruction while the copy runs, so a rip-relative operand rewritten by the
// holder to use that register reads the right memory; the register is restored afterwards.
inline constexpr uint64_t kAddress = 0;
inline constexpr uint64_t kLength = 1;
inline constexpr uint64_t kXol = 2;
inline constexpr uint64_t kFixupRegister = 3;
inline constexpr uint64_t kInsertLength = 4;
// In place of a fix-up register: the slot goes on by itself (the holder ended its copy with a
// jump back, or wrote a jump there): Resume sends the thread to the slot and steps nothing, so
// no debug trap follows the hit (Linux's boosted kprobes).
inline constexpr uint64_t kFixupNoStep = 1u << 8;
// Insert's optional fifth word, a call target (0: none). With one, the probe is a call written
// over a function's 5-byte entry NOP (nopl d8(%rax,%rax,1), length 5, no out-of-line slot):
// the thread calls the target, in the same VSpace and within a rel32 of the NOP, instead of
// trapping; the target returns to the function after the NOP. A thread that meets the int3 the
// kernel puts there first while it writes the call (or while Remove writes the NOP back) hits
// as at any probe and resumes after the NOP. Remove, deleting the cap and losing the endpoint's
// receivers restore the NOP. Not on kernel text (kInvalidArgument).
inline constexpr uint64_t kCallTarget = 4;
// Remove: the address.
// BindKernel: a 4 KiB Frame cap (Write right) for the SampleRing (ipc.hpp), a Notification
// cap (Write right) signalled with its badge after each sample, and the KernelProbes cap
// (objects.hpp; without it: kWrongType or kSlotEmpty). Probes then go on the 5-byte entry
// NOPs of kernel functions only (length 5, no out-of-line slot): addresses where the kernel's
// symbol table has a function start.
inline constexpr uint64_t kRingFrame = 0;
inline constexpr uint64_t kNotification = 1;
inline constexpr uint64_t kKernelProbes = 2;
inline constexpr uint64_t kBindKernelLength = 3;
}  // namespace breakpoint_message

// Probes one Breakpoint object holds (more probes: more objects).
inline constexpr uint64_t kBreakpointProbes = 12;

// How a frame is mapped: always readable; writable needs the frame cap's Write right.
enum MapRights : uint64_t {
  kMapRead = 0,
  kMapWrite = 1u << 0,
  kMapExecute = 1u << 1,
};

// Priorities: 0 (lowest) to 255; the root thread starts at the top.
inline constexpr uint64_t kMaxPriority = 255;

// How the kernel treats `syscall` in a thread: a native call, or a ForeignSyscall fault sent
// to the thread's fault endpoint (the POSIX personality serves Linux programs that way).
enum class ThreadAbi : uint64_t { kNative = 0, kLinux = 1 };

// Words an invocation may carry in or return (the message registers and the IPC buffer's
// message array; TCB ReadFpu and WriteFpu carry 65).
inline constexpr uint64_t kMaxInvocationWords = 72;

}  // namespace sonde::abi
