// SPDX-License-Identifier: MIT
// The scheduler: per-CPU run queues by priority, the choice of the next thread and the switch
// to it.
#pragma once

#include <stdint.h>

#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/trap_frame.hpp"
#include "kernel/sched_trace.hpp"
#include "kernel/smp.hpp"
#include "kernel/tcb.hpp"
#include "kernel/timer.hpp"

namespace kernel {

inline constexpr uint32_t kTimeSliceTicks = 5;  // 50 ms at 100 Hz

// The thread on the CPU (null while idle or after the current thread was destroyed).
Tcb* current_thread();

// State changes; each keeps the run queues consistent.
void thread_make_runnable(Tcb* tcb);
// A thread whose call or fault was answered runs again, going on with its turn when it has
// one left (answered_turn_left): before the others of its priority, even one running on its CPU
// (which goes on with its own turn next). Else it waits at the back, as thread_make_runnable.
void thread_answered(Tcb* tcb);
void thread_block(Tcb* tcb, ThreadState state);  // leaves queue links to the caller
void thread_set_priority(Tcb* tcb, uint8_t priority);
void thread_yield(Tcb* tcb);
// Moves the thread to CPU `cpu` (its affinity).
void thread_set_cpu(Tcb* tcb, uint8_t cpu);
// Takes the thread out of its run queue and off any CPU, leaving it kInactive (its TCB is
// being destroyed).
void scheduler_remove(Tcb* tcb);

// A thread of `priority` or higher is ready in this CPU's run queues.
inline bool ready_at_or_above(const PerCpu& cpu, uint8_t priority) {
  static_assert(kPriorityCount == 256);
  const uint64_t* bitmap = cpu.ready_bitmap;
  unsigned word = priority / 64;
  uint64_t above = bitmap[word] >> (priority % 64);
  switch (word) {
    case 0: above |= bitmap[1]; [[fallthrough]];
    case 1: above |= bitmap[2]; [[fallthrough]];
    case 2: above |= bitmap[3]; [[fallthrough]];
    default: break;
  }
  return above != 0;
}

// A thread answered after a call or a fault still has a turn: a Linux system call is part of
// the time slice the process was in, not the end of it. The ticks since the server took the
// call (called_at) count against the slice; charge_call takes them off.
[[gnu::always_inline]] inline bool answered_turn_left(const Tcb* tcb) {
  return !tcb->slice_expired && timer_tick_count - tcb->called_at < tcb->ticks_left;
}
[[gnu::always_inline]] inline void charge_call(Tcb* tcb) {
  if (answered_turn_left(tcb)) {
    tcb->ticks_left -= static_cast<uint32_t>(timer_tick_count - tcb->called_at);
  } else {
    tcb->slice_expired = false;  // the next turn is a whole one
    tcb->ticks_left = kTimeSliceTicks;
  }
  tcb->called_at = timer_tick_count;
}

// A thread of a priority above `priority` is ready in this CPU's run queues.
inline bool ready_above(const PerCpu& cpu, uint8_t priority) {
  return priority != kPriorityCount - 1 &&
         ready_at_or_above(cpu, static_cast<uint8_t>(priority + 1));
}

// Makes the TCB's `fpu` area hold the thread's FPU state, so it may be read, or replaced
// when the thread is not this CPU's current one (a copy of the registers if it is). False
// when the thread runs on another CPU, whose registers hold it.
bool fpu_state_in_tcb(const Tcb* tcb);
// The CPU `tcb` is current on, or -1.
int running_on(const Tcb* tcb);

// The next idle period prints "no task left to run" once (after a thread exits).
void scheduler_announce_idle();

// Timer interrupt: charges the current thread's slice.
void scheduler_tick();

// Chooses the thread to run (idling until there is one) and switches address space, FPU state
// and fs base to it.
Tcb* schedule();
// The kernel's exit path (kernel lock held): schedule(), then user mode in the chosen thread;
// the lock is released on the way out.
[[noreturn]] void kernel_exit();
// Makes `next` this CPU's current thread: FPU state, address space, fs base.
[[gnu::always_inline]] inline void switch_to(PerCpu& cpu, Tcb* next) {
  if (next->trace.ids != 0 && next->trace.ids != cpu.traced.ids) sched_trace_switch_in(cpu, next);
  if (cpu.fpu_owner != next) {
    if (cpu.fpu_owner != nullptr) {
      asm volatile("fxsave64 (%0)" : : "r"(cpu.fpu_owner->fpu) : "memory");
    }
    asm volatile("fxrstor64 (%0)" : : "r"(next->fpu) : "memory");
    cpu.fpu_owner = next;
  }
  uint64_t table = thread_page_table(next);
  if (table != cpu.loaded_page_table) {
    arch::write_cr3(table);
    cpu.loaded_page_table = table;
  }
  arch::write_msr(arch::kMsrFsBase, next->fs_base);
  cpu.current = next;
}

// Leaves for `next`, the CPU's current thread, already switched to (the fast paths' exit):
// its next entry saves into its TCB.
[[noreturn, gnu::always_inline]] inline void leave_to(PerCpu& cpu, Tcb* next) {
  cpu.entry_frame = &next->regs;
  set_interrupt_stack(cpu, &next->regs);
  arch::exit_to_user(&next->regs);
}

}  // namespace kernel
