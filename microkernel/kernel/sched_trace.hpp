// SPDX-License-Identifier: MIT
// Linux's view of scheduling, for the trace server's sched:sched_switch, sched_wakeup and
// sched_wakeup_new. Threads that are Linux tasks carry a TraceIdentity (TCB
// SetTraceIdentity, set by the POSIX server); each CPU remembers the Linux task it last ran.
// Only changes of that task are switches to Linux: a task blocked in a system call while the
// POSIX server (no Linux task) serves it is still the CPU's task, as a Linux task in the
// kernel is, until another task runs there or the CPU idles. The events are calls of the
// functions below, which do nothing: probe sites whose entry NOP the trace server breakpoints
// (kernel samples) while someone wants the events, so they cost a call when nobody does.
#pragma once

#include <stdint.h>

#include "kernel/smp.hpp"
#include "kernel/tcb.hpp"

// The probe sites; their arguments, as the trace server reads them from the samples (the
// first six in registers, the rest in the sample's stack words after the return address):
//   trace_sched_switch(prev ids, prev comm[0], prev comm[1], next ids, next comm[0],
//                      next comm[1], prev_state, prev task, next task)
//   trace_sched_waking, trace_sched_wakeup(_new)(ids, comm[0], comm[1], target cpu, waker ids,
//                            waker comm[0], waker comm[1], task, waker task)
// ids 0 is the CPU's idle task (swapper/N); prev_state is Linux's TASK_REPORT value (0 running,
// 1 S, 4 T, 0x20 Z) or kPreempted (R+).
extern "C" {
void trace_sched_switch(uint64_t prev_ids, uint64_t prev_comm0, uint64_t prev_comm1,
                        uint64_t next_ids, uint64_t next_comm0, uint64_t next_comm1,
                        uint64_t prev_state, uint64_t prev_task, uint64_t next_task);
void trace_sched_wakeup(uint64_t ids, uint64_t comm0, uint64_t comm1, uint64_t target_cpu,
                        uint64_t waker_ids, uint64_t waker_comm0, uint64_t waker_comm1,
                        uint64_t task, uint64_t waker_task);
void trace_sched_waking(uint64_t ids, uint64_t comm0, uint64_t comm1, uint64_t target_cpu,
                        uint64_t waker_ids, uint64_t waker_comm0, uint64_t waker_comm1,
                        uint64_t task, uint64_t waker_task);
void trace_sched_wakeup_new(uint64_t ids, uint64_t comm0, uint64_t comm1, uint64_t target_cpu,
                            uint64_t waker_ids, uint64_t waker_comm0, uint64_t waker_comm1,
                            uint64_t task, uint64_t waker_task);
// sched_stat_runtime: a task's CPU time since it became the CPU's task (or its last report),
// charged as it stops being it; vruntime is its CPU time in all (every task is nice 0).
void trace_sched_stat_runtime(uint64_t ids, uint64_t comm0, uint64_t comm1, uint64_t runtime,
                              uint64_t vruntime, uint64_t task);
// sched_migrate_task: a task's thread moved to another CPU (TCB SetAffinity).
void trace_sched_migrate_task(uint64_t ids, uint64_t comm0, uint64_t comm1, uint64_t orig_cpu,
                              uint64_t dest_cpu, uint64_t task);
// A timer tick on a CPU, for CPU-clock sampling: its Linux task (ids 0: idle) and where the tick
// found it: its user ip and sp when it ran (in_kernel 0), else (in_kernel 1: it waited in a call
// a server served, or the CPU idled) the interrupted thread's ip and sp, or 0.
void trace_cpu_clock_tick(uint64_t ids, uint64_t comm0, uint64_t comm1, uint64_t ip, uint64_t sp,
                          uint64_t in_kernel);
}

namespace kernel {

// Linux's prev_state values (TASK_REPORT bits; TASK_REPORT_MAX for a preempted task).
inline constexpr uint64_t kTaskRunning = 0;
inline constexpr uint64_t kTaskSleeping = 0x1;
inline constexpr uint64_t kTaskStopped = 0x4;
inline constexpr uint64_t kTaskZombie = 0x20;
inline constexpr uint64_t kPreempted = 0x100;

// `next`, a Linux task other than the CPU's last one, is about to run there.
void sched_trace_switch_in(PerCpu& cpu, Tcb* next);
// The CPU is about to idle.
void sched_trace_idle(PerCpu& cpu);
// `tcb` becomes runnable (not yet on a CPU).
void sched_trace_runnable(Tcb* tcb);
// `tcb` goes from CPU `from` to CPU `to` (a Linux task: sched_migrate_task).
void sched_trace_migrated(const Tcb* tcb, unsigned from, unsigned to);
// `tcb` is being destroyed.
void sched_trace_destroyed(Tcb* tcb);
// SetTraceIdentity.
void sched_trace_set_identity(Tcb* tcb, const sonde::abi::TraceIdentity& identity, bool continues);
// The thread's CPU time as a Linux task in ns: task_ns, and the time since it became some CPU's
// task if it still is.
uint64_t sched_trace_task_ns(const Tcb* tcb);
// A timer tick's trace_cpu_clock_tick (CPU-clock sampling): what the tick found on `cpu`.
void sched_trace_clock_tick(const PerCpu& cpu);
// A timer tick on `cpu`: its Linux task, if any, gets a user tick when it runs, a system tick
// when it waits in a call (a system call or fault being served); none when it was preempted.
inline void sched_trace_tick(const PerCpu& cpu) {
  sched_trace_clock_tick(cpu);
  Tcb* task = cpu.traced_thread;
  if (task == nullptr) return;
  if (cpu.current == task) {
    ++task->user_ticks;
  } else if (task->state != ThreadState::kRunning) {
    ++task->system_ticks;  // blocked in a call while a server runs: served
  }
}

}  // namespace kernel
