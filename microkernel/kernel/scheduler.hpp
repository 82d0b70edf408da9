// SPDX-License-Identifier: MIT
// The scheduler: per-CPU run queues by priority, the choice of the next thread and the switch
// to it.
#pragma once

#include <stdint.h>

#include "arch/x86_64/trap_frame.hpp"
#include "kernel/tcb.hpp"

namespace kernel {

inline constexpr uint32_t kTimeSliceTicks = 5;  // 50 ms at 100 Hz

// The thread on the CPU (null while idle or after the current thread was destroyed).
Tcb* current_thread();

// State changes; each keeps the run queues consistent.
void thread_make_runnable(Tcb* tcb);
void thread_block(Tcb* tcb, ThreadState state);  // leaves queue links to the caller
void thread_set_priority(Tcb* tcb, uint8_t priority);
void thread_yield(Tcb* tcb);
// Moves the thread to CPU `cpu` (its affinity).
void thread_set_cpu(Tcb* tcb, uint8_t cpu);
// Takes the thread out of its run queue and off any CPU, leaving it kInactive (its TCB is
// being destroyed).
void scheduler_remove(Tcb* tcb);

// The next idle period prints "no task left to run" once (after a thread exits).
void scheduler_announce_idle();

// Timer interrupt: charges the current thread's slice.
void scheduler_tick();

// The kernel's exit path: chooses the thread to run (idling until there is one), switches
// address space, FPU state and fs base to it, and copies its registers into `frame`.
void schedule_into(arch::TrapFrame& frame);
// The entry path from user mode: saves the interrupted thread's registers.
void save_current(const arch::TrapFrame& frame);

}  // namespace kernel
