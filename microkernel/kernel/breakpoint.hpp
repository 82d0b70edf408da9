// SPDX-License-Identifier: MIT
// Breakpoint caps: int3 probes in a VSpace, hits delivered as fault messages, displaced
// instructions single-stepped out of line. The kernel decodes no instruction: the holder
// tells it each probe's length, out-of-line slot and rip-relative fix-up register.
#pragma once

#include <stdint.h>

#include "arch/x86_64/trap_frame.hpp"
#include "kernel/cap.hpp"
#include "sonde/abi/invocations.hpp"

namespace kernel {

struct Tcb;

struct Probe {
  uint64_t address;
  uint64_t xol;
  uint8_t original;  // the byte the int3 replaced; a call probe: the entry NOP's last byte
  uint8_t length;
  uint8_t fixup;
  uint8_t in_use;       // 0: free; kInt3Probe or kCallProbe
  uint32_t page_frame;  // user probes: the physical page patched (>> 12), restored only there
};
// Probe::fixup for a slot that goes on by itself (breakpoint_message::kFixupNoStep).
inline constexpr uint8_t kNoStepFixup = 0xff;
inline constexpr uint8_t kInt3Probe = 1;
inline constexpr uint8_t kCallProbe =
    2;  // a call over an entry NOP (breakpoint_message::kCallTarget)

// The object, in its Retype memory (2^kBreakpointBits bytes).
struct Breakpoint {
  Slot endpoint;        // hits go here (a copy of the cap given to Bind); kernel: notification
  Slot ring;            // kernel: the sample ring's Frame cap
  uint32_t vspace_tag;  // the target VSpace (0: not bound, or destroyed)
  uint32_t kernel;      // bound to kernel text (BindKernel)
  uint32_t to_thread;   // hits go to the hitting thread's fault endpoint (kBindToThread)
  Breakpoint* next;     // in the target VSpace's list
  Breakpoint* previous;
  uint64_t hits;
  Probe probes[sonde::abi::kBreakpointProbes];
};

void breakpoint_invocations_init();
// The object's last cap is gone: every int3 is removed (its endpoint slot was emptied first).
void breakpoint_destroyed(Breakpoint* breakpoint);
// The VSpace is going away: its breakpoints forget it (no bytes to restore any more).
void breakpoints_vspace_destroyed(uintptr_t vspace);

// An int3 trapped in user mode (rip is after it). True when it was a probe's: the hit is
// delivered (or the probe skipped if nobody listens) and the thread's state updated.
bool breakpoint_trap(Tcb* thread);
// An int3 trapped in kernel mode: true when it was a kernel probe (sampled, and `frame`
// resumes after the entry NOP).
bool kernel_breakpoint_trap(arch::TrapFrame& frame);
// A debug trap (#DB) in user mode: true when it ended an out-of-line step.
bool breakpoint_step_done(Tcb* thread);
// Any other fault while stepping: the thread is put back at the probe address first.
void breakpoint_abort_step(Tcb* thread);
// A page fault of the stepped copy itself (rip on the slot): the step pauses, the registers as
// the program has them (the fix-up register its own, its trap flag), so the fault's handler
// sees the thread at the slot; true when it did. The handler may resolve the fault and Resume
// (breakpoint_restep: the step goes on, the copy runs again), or do anything else
// (breakpoint_drop_paused_step: the thread goes back to the probe, as an aborted step).
bool breakpoint_pause_step(Tcb* thread);
void breakpoint_restep(Tcb* thread);
void breakpoint_drop_paused_step(Tcb* thread);
// The handler answered a hit with "resume": skip the NOP or start the out-of-line step.
void breakpoint_resume(Tcb* thread);

}  // namespace kernel
