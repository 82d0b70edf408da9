// SPDX-License-Identifier: MIT
// TCB: the thread object (its registers, caps, state and queue links), its life cycle and
// its invocations.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "arch/x86_64/trap_frame.hpp"
#include "kernel/cap.hpp"
#include "kernel/memory.hpp"
#include "sonde/abi/ipc.hpp"
#include "sonde/abi/objects.hpp"

namespace kernel {

enum class ThreadState : uint8_t {
  kInactive,               // never resumed, suspended, exited, or stopped after a fault
  kRunning,                // current or in a run queue
  kBlockedOnSend,          // in an endpoint's queue with a message (or a fault) to deliver
  kBlockedOnRecv,          // in an endpoint's queue waiting for a message
  kBlockedOnReply,         // bound to a Reply object, waiting for its reply
  kBlockedOnNotification,  // in a notification's queue
};

struct Reply;

// A thread, in the memory of its TCB object (2^kTcbBits bytes, zeroed by Retype).
struct Tcb {
  alignas(16) uint8_t fpu[512];  // fxsave64 area (TCB ReadFpu/WriteFpu hand it out)
  arch::TrapFrame regs;          // user registers while the thread is not on the CPU
  uint64_t fs_base;
  // Caps the thread holds itself (emptied by the deletion queue before the TCB is destroyed).
  Slot cspace_root;
  Slot vspace;
  Slot fault_endpoint;
  Slot supervisor;
  ThreadState state;
  uint8_t priority;
  uint8_t max_priority;  // highest priority this thread may give any thread (seL4's MCP)
  uint8_t abi;           // sonde::abi::ThreadAbi
  uint8_t cpu;           // affinity
  bool slice_expired;    // go to the back of its priority's queue at the next schedule
  bool root;             // the root task's first thread (its exit ends a test run)
  uint32_t ticks_left;   // of the time slice
  bool resuming;         // queued at the front to go on with its turn (thread_answered)
  uint64_t called_at;    // the timer tick when a server took its call or fault (bind_reply)
  // CPU time as a Linux task (sched_trace.hpp): ns as its CPU's task until it last left it,
  // and the timer ticks that found it there, running itself (user) or served (system).
  uint64_t task_ns;
  uint64_t user_ticks;
  uint64_t system_ticks;
  uint64_t ipc_buffer;  // user address, 0: none
  // Queue links: a run queue while kRunning and not current, else the queue of the endpoint
  // or notification the thread is blocked on. A thread is in at most one queue.
  Tcb* next;
  Tcb* previous;
  void* blocked_on;  // the Endpoint or Notification whose queue holds the thread
  Reply* reply;      // kBlockedOnRecv: the Reply to bind; kBlockedOnReply: the bound one
  // A pending send (kBlockedOnSend): badge of the cap used and what the message may carry.
  uint64_t send_badge;
  bool send_is_call;
  bool send_can_grant;
  // A fault waiting to be delivered or answered (kind 0: none).
  uint64_t fault_kind;
  uint64_t fault_address;
  uint64_t fault_detail;
  uint64_t fault_cpu;  // the CPU it faulted on
  // A breakpoint hit being handled, then its displaced instruction being single-stepped out
  // of line (copied at the hit, so removing the probe meanwhile cannot confuse the step).
  uint64_t probe_address;
  uint64_t probe_xol;  // 0: the probe sits on a NOP; resume after it
  uint8_t probe_length;
  uint8_t probe_fixup;  // UserRegisters index set to the next rip during the step
  // The VSpace's removal count at the hit (VSpaceInfo::removed_next): unchanged at the answer,
  // the probe is certainly still in place and its lookup is skipped.
  uint32_t probe_removals;
  uintptr_t probe_vspace;
  // Where the IPC buffer is in the kernel's direct map, as the fault fast path last found it:
  // valid while mapping_epoch, the buffer's address and the page table are as they were.
  uint64_t* ipc_kernel;
  uint64_t ipc_kernel_epoch;
  uint64_t ipc_kernel_buffer;
  uint64_t ipc_kernel_table;
  bool stepping;
  bool step_saved_trap_flag;
  // A page fault of the stepped copy: the step waits for the fault's answer (Resume goes on
  // with it; any other end of the fault drops it: breakpoint.hpp).
  bool step_paused;
  uint64_t step_saved_register;
  char name[16];
  // Who the thread is to Linux tracing (TCB SetTraceIdentity; sched_trace.hpp): 0 for threads
  // that are no Linux task. Not yet reported as switched in since the identity was set
  // (trace_new: sched_wakeup_new), or switched out asleep (trace_switched_out: sched_wakeup).
  sonde::abi::TraceIdentity trace;
  bool trace_new;
  bool trace_switched_out;
};
static_assert(sizeof(Tcb) <= (1u << sonde::abi::kTcbBits));
static_assert(offsetof(Tcb, abi) == 955);  // syscall_entry (interrupts.S) reads it
// Interrupts from user mode push the frame into `regs` (TSS.rsp0 is its end, which the CPU
// would round down to 16 bytes).
static_assert(offsetof(Tcb, regs) % 16 == 0 && sizeof(arch::TrapFrame) % 16 == 0);

// A fresh TCB in zeroed memory: inactive, priority 0, clean FPU state.
void thread_created(Tcb* tcb);
// Takes the thread out of every queue and off the CPU (before its memory goes away).
void thread_destroyed(Tcb* tcb);

// Physical address of the thread's page-table root, or 0 when it has no VSpace.
inline uint64_t thread_page_table(const Tcb* tcb) {
  if (tcb->vspace.empty()) return 0;
  return tcb->vspace.cap.object - kDirectMapBase;
}

// A VSpace is going away: if its tables are loaded, the CPU switches to the kernel's own.
void address_space_destroyed(uintptr_t pml4_virtual);

// Hex-free name for logs ("root", "thread@ffff8000...").
void thread_set_name(Tcb* tcb, const char* name);

// Converts between the saved TrapFrame and the ABI's UserRegisters.
void registers_to_user(const Tcb& tcb, sonde::abi::UserRegisters& out);
// False (and no change) when rip or fs_base is not a user address; rflags is sanitised.
bool registers_from_user(Tcb& tcb, const sonde::abi::UserRegisters& in);
// The two halves of registers_from_user: the check, and the change (rflags sanitised).
bool user_registers_valid(const sonde::abi::UserRegisters& in);
void write_user_registers(Tcb& tcb, const sonde::abi::UserRegisters& in);

// Registers the TCB invocations with the capability core (at boot).
void tcb_invocations_init();

// CPUs threads can run on (affinity must name one of them).
uint64_t cpu_count();

}  // namespace kernel
