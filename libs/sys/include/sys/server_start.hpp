// SPDX-License-Identifier: MIT
// What the root task hands a server it starts: fixed addresses and cap slots in the server.
#pragma once

#include <stdint.h>

namespace sys {

// The server's CNode has 2^kServerCNodeRadix slots and a guard that makes cptr n name slot n.
inline constexpr uint64_t kServerCNodeRadix = 16;
// The POSIX server's CNode grows up to this radix with a large initramfs (ServerStartInfo's
// cnode_radix says which).
inline constexpr uint64_t kServerMaxCNodeRadix = 20;

// Slots the root task fills in the server's CNode before it starts.
inline constexpr uint64_t kServerSlotTcb = 1;
inline constexpr uint64_t kServerSlotCNode = 2;
inline constexpr uint64_t kServerSlotVSpace = 3;
// The trace server's copy of the root task's KernelProbes cap (Breakpoint BindKernel: kprobes
// on microkernel functions).
inline constexpr uint64_t kServerSlotKernelProbes = 4;
inline constexpr uint64_t kServerSlotCom1 = 5;       // IoPorts 0x3f8..0x3ff
inline constexpr uint64_t kServerSlotCom1Irq = 6;    // IrqHandler for line 4
inline constexpr uint64_t kServerSlotClock = 7;      // the clock page (read-only Frame)
inline constexpr uint64_t kServerSlotCom2 = 8;       // IoPorts 0x2f8..0x2ff (log console)
inline constexpr uint64_t kServerSlotDebugExit = 9;  // IoPorts 0xf4..0xf7 (QEMU's isa-debug-exit)
inline constexpr uint64_t kServerSlotDebugConsole = 10;  // DebugConsole: sys::print, debug_ticks
inline constexpr uint64_t kServerSlotRtc = 11;           // IoPorts 0x70..0x71 (the CMOS clock)
// The trace service (proto/trace.capnp): the POSIX server holds the endpoint badged with Write,
// the trace server the same endpoint with Read (it serves it).
inline constexpr uint64_t kServerSlotTraceService = 12;
// Badges on the trace service endpoint: the POSIX server's, and one per native program the root
// task starts (kStartFlagNativeTrace), each with its own session in the trace server. They lie
// apart from the trace server's probe badges (0x1000 and up), which its endpoint also receives.
inline constexpr uint64_t kTracePosixBadge = 1;
// The POSIX server's return-probe trampoline calls the trace service with this label (not a
// Cap'n Proto call): word 0 is where the registers the probed function returned with are saved
// on its stack (servers/posix/kernel/kretprobe.S). The answer is empty.
inline constexpr uint64_t kKretprobeReturnLabel = 0x7e70;
// A uprobe hit in a Linux process (not a Cap'n Proto call either, which would cost more than
// the rest of the hit): the POSIX server writes a UprobeHitMessage at the start of the shared
// request buffer (kTraceRequestBuffer) and calls with this label and no words; the answer is
// empty. Only the POSIX server's badge may send it.
inline constexpr uint64_t kUprobeHitLabel = 0x7e71;
// poll() of a trace-server fd, asked at every wakeup of an epoll loop on a ring or perf buffer
// (the same as the Cap'n Proto `poll`, without its encoding): words 0 and 1 the handle and the
// instance; the answer's word 0 the event mask, or -errno. Only the POSIX server's badge.
inline constexpr uint64_t kTracePollLabel = 0x7e72;
// A kprobe's entry hit through a call probe: the kernel wrote `call kprobe_entry_stub` over the
// probed function's entry NOP, and the stub calls with this label, word 0 where it saved the
// registers (as kKretprobeReturnLabel's block; the word above it is the function + 5). The
// answer's word 0: 1 when the function must go on through the return-probe shim, else 0. Only
// the POSIX server's badge.
inline constexpr uint64_t kKprobeEntryLabel = 0x7e73;
struct UprobeHitMessage {
  static constexpr uint32_t kMaxProbes = 16;
  uint64_t instance;       // the trace-server instance the probe ids belong to
  uint64_t function;       // for a return: the probed function
  uint32_t is_return;      // 0 or 1
  uint32_t count;          // probe ids in `probes`, at most kMaxProbes
  uint64_t registers[19];  // the thread's UserRegisters at the probe (rip: the return address)
  uint32_t probes[kMaxProbes];
};
inline constexpr uint64_t kTraceNativeBadgeFirst = 0x6e000000;  // 'n' << 24
inline constexpr uint64_t kTraceMaxNativeClients = 16;
// A native program's timer (docs/NATIVE.md): a Notification it may arm with sys::set_timer.
inline constexpr uint64_t kServerSlotTimer = 4;
// The trace server's view of the POSIX server (DESIGN.md section 5: probes on its functions):
// its VSpace (Write: breakpoints; Read: MapForeign of its pages, read-only).
inline constexpr uint64_t kServerSlotTracedVSpace = 13;
// The POSIX server's cap to the root task's Supervisor (proto/supervisor.capnp).
inline constexpr uint64_t kServerSlotSupervisor = 14;
// The exchange CNode (2^kExchangeRadix slots) both servers hold: the trace server copies the
// Frame caps of pages a Linux process maps (TraceService.mmapGrant) into it, the POSIX server
// moves them out. The root task keeps it across trace-server restarts; revoking a dead
// instance's memory empties whatever it left there.
inline constexpr uint64_t kServerSlotExchange = 15;
inline constexpr uint64_t kExchangeRadix = 12;
// The trace wakeup (a Notification the root task makes once and keeps across trace-server
// restarts): the trace server signals it when a reader of its rings or trace_pipe may find
// something new, the POSIX server waits on it and retries the calls blocked on trace-server
// files. Each holds it in a slot the other's role leaves empty: the trace server Write only (no
// Supervisor there), the POSIX server Read only (no traced VSpace there).
inline constexpr uint64_t kServerSlotTraceWakeupSignal = 14;
inline constexpr uint64_t kServerSlotTraceWakeupWait = 13;
inline constexpr uint64_t kServerSlotFirstUntyped = 16;  // memory for the server and its processes
inline constexpr uint64_t kServerMaxUntyped = 48;
inline constexpr uint64_t kServerSlotFirstModule = 64;  // the initramfs frames, in order

// Addresses in the server's VSpace, as for the root task (sonde/abi/ipc.hpp, clock.hpp).
inline constexpr uint64_t kServerStartInfo = 0x00007fffffe00000ull;
inline constexpr uint64_t kServerIpcBuffer = kServerStartInfo + 0x1000;
inline constexpr uint64_t kServerClockPage = kServerStartInfo + 0x2000;

// The trace service session's shared buffers (large requests and replies), one 2 MiB frame
// each, at the same addresses in both servers: the POSIX server writes requests and reads
// replies, the trace server the other way round.
inline constexpr uint64_t kTraceBufferBytes = 2ull << 20;
inline constexpr uint64_t kTraceRequestBuffer = 0x0000400000000000ull;
inline constexpr uint64_t kTraceReplyBuffer = kTraceRequestBuffer + kTraceBufferBytes;

// The POSIX server's heap (sys::server's allocator maps pages there and never unmaps them):
// the trace server keeps its borrows of these pages from one probe hit to the next (the page
// maps bpf_probe_read_user walks, the kernel objects programs read), where any other page is
// given back when the hit ends.
inline constexpr uint64_t kPosixHeapBase = 0x100000000000ull;
inline constexpr uint64_t kPosixHeapEnd = 0x200000000000ull;
// Every page of every Linux process as the POSIX server sees it (posix::platform: a frame is
// mapped there once, by index, and a freed one is kept mapped for reuse, never unmapped): the
// trace server keeps its borrows of these too (bpf_probe_read_user's pages).
inline constexpr uint64_t kPosixFrameMapBase = kPosixHeapEnd;
inline constexpr uint64_t kPosixFrameMapEnd = 0x300000000000ull;

// The POSIX server's ELF image, mapped read-only in the trace server (its symbol table names
// the functions kprobes attach to) and in the POSIX server itself (/proc/kallsyms), and the
// kernel's (the `symbols` boot module) in both (/proc/kallsyms; kprobes on kernel functions);
// ServerStartInfo says where each starts in its first page.
inline constexpr uint64_t kTracedImageBase = 0x0000500000000000ull;
inline constexpr uint64_t kKernelImageBase = 0x0000510000000000ull;
// "Current task" records (DESIGN.md section 5): the POSIX server writes, at every system call
// it starts serving, which Linux process it works for; the trace server reads them when a
// probe on a POSIX-server function hits. One page, writable there, read-only here.
inline constexpr uint64_t kCurrentTaskPage = 0x0000400000400000ull;
// The trace server's writable view of the POSIX server's kprobe slot page
// (kStartFlagHasKprobeXol).
inline constexpr uint64_t kKprobeXolWindow = kCurrentTaskPage + 0x1000;
// Where the POSIX server maps, for one copy, a page of another server that a process maps
// (a trace-server ring or map page) when a system call reads or writes it.
inline constexpr uint64_t kPosixForeignWindow = kCurrentTaskPage + 0x10000;
struct CurrentTask {
  uint64_t sequence;  // odd while the POSIX server rewrites the record
  int32_t pid;        // thread id
  int32_t tgid;
  uint32_t uid;
  uint32_t gid;
  char comm[16];
  uint64_t task_struct;  // its struct task_struct in the POSIX server (bpf_get_current_task)
  uint64_t user_pages;   // the root of its page map (UserPageMap below), 0 for none
  uint32_t cpu;          // the CPU it runs on (its last fault message's), for probe hits
  // Where a probe hit finds the Linux process's registers of the system call being served
  // (user stacks of bpf_get_stack/bpf_get_stackid in kprobes): the POSIX server's pointer to the
  // call's context (0: none yet; the pointer is 0 between calls), and the offset of its
  // abi::UserRegisters. Constant while the server runs, so no call pays for them.
  uint32_t registers_offset;
  uint64_t serving_context;
};

// Where a task_struct the scheduling tracepoints name (the kernel passes the POSIX server's
// pointers as they are) holds the user registers its task waits in a system call with (the
// address of an abi::UserRegisters, 0 while it runs or is being served) and its process's user
// page map: the user stacks of sched events (servers/posix/kernel/task_struct.cpp asserts them).
inline constexpr uint64_t kTaskUserRegistersOffset = 112;
inline constexpr uint64_t kTaskUserPagesOffset = 120;

// How the trace server reads the current Linux process's memory (bpf_probe_read_user) in a hit:
// the POSIX server keeps, for each process, a four-level radix over bits 47..12 of user
// addresses (512 8-byte entries per level, 0 for nothing), all in its own memory; a leaf entry
// points at the page's record, which holds where the page is mapped in the POSIX server and its
// Linux PROT_* bits.
namespace user_page_map {
inline constexpr uint64_t kLevels = 4;
inline constexpr uint64_t kEntries = 512;
inline constexpr uint64_t kServerAddressOffset = 8;  // in a page's record: uint64_t
inline constexpr uint64_t kProtOffset = 24;          // in a page's record: uint32_t
inline constexpr uint32_t kProtRead = 1;
}  // namespace user_page_map

// The trace server's own stack and heap lie where the POSIX server has nothing (its stack
// ends below 0x7fffffff0000, its heap starts at 0x100000000000): an address a probe program
// hands a helper (a buffer on its stack, a map value) is then told apart from the POSIX
// server's memory it traces.
inline constexpr uint64_t kTraceStackTop = 0x0000680000000000ull;
inline constexpr uint64_t kTraceStackPages = 64;
inline constexpr uint64_t kTraceHeapBase = 0x0000700000000000ull;

// Read-only page at kServerStartInfo; its address is main's first argument.
struct ServerStartInfo {
  uint64_t magic;                // kServerStartMagic
  uint64_t first_free_slot;      // slots from here on are empty
  uint64_t untyped_count;        // untyped caps from kServerSlotFirstUntyped
  uint64_t untyped_bytes;        // their total size
  uint64_t module_size;          // bytes of the initramfs (0: none)
  uint64_t module_offset;        // of its first byte in its first frame
  uint64_t module_frames;        // Frame caps from kServerSlotFirstModule
  uint64_t flags;                // kStartFlag*
  uint64_t instance;             // 1 for the first start, one more at every restart
  uint64_t traced_image_size;    // trace server: bytes of the POSIX server's ELF (0: none)
  uint64_t traced_image_offset;  // of its first byte in its first page at kTracedImageBase
  uint64_t kernel_image_size;    // bytes of the kernel's ELF at kKernelImageBase (0: none)
  uint64_t kernel_image_offset;
  uint64_t cpu_count;  // CPUs the kernel runs threads on (BootInfo's; TCB SetAffinity takes below)
  uint64_t cnode_radix;  // of the server's CNode (0: kServerCNodeRadix)
};
inline constexpr uint64_t kServerStartMagic = 0x7472617453767253ull;  // "SrvStart"
inline constexpr uint64_t kStartFlagHasCom2 = 1;
inline constexpr uint64_t kStartFlagHasTrace = 2;  // the POSIX server has the trace service
// Trace server: the POSIX server's kprobe slot page (its `kprobe_xol_page`, executable there) is
// mapped writable at kKprobeXolWindow, for the out-of-line slots of kprobes inside functions.
inline constexpr uint64_t kStartFlagHasKprobeXol = 4;
// A native program (the `native` boot module) holds the trace service in kServerSlotTraceService
// badged for its own session, inline messages only (no shared buffers), and a timer in
// kServerSlotTimer.
inline constexpr uint64_t kStartFlagNativeTrace = 4;

}  // namespace sys
