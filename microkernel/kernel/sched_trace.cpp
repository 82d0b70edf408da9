// SPDX-License-Identifier: MIT
// The scheduling tracepoints: which Linux task each CPU runs, and the probe-site calls when it
// changes (sched_trace.hpp).
#include "kernel/sched_trace.hpp"

#include "kernel/clock.hpp"

namespace abi = sonde::abi;

// The probe sites: never inlined, so every event is a call of the symbol the
// trace server probes; the empty asm keeps the body from being treated as side-effect free.
extern "C" {
// The asm uses every argument, so callers in this file pass them all (an unused argument
// could otherwise be left unset by a caller that sees the body).
#define SONDE_USE_ARGUMENTS(a, b, c, d, e, f, g, h, i)                                  \
  asm volatile(""                                                                       \
               :                                                                        \
               : "r"(a), "r"(b), "r"(c), "r"(d), "r"(e), "r"(f), "g"(g), "g"(h), "g"(i) \
               : "memory")
[[gnu::noinline, gnu::used]] void trace_sched_switch(uint64_t a, uint64_t b, uint64_t c, uint64_t d,
                                                     uint64_t e, uint64_t f, uint64_t g, uint64_t h,
                                                     uint64_t i) {
  SONDE_USE_ARGUMENTS(a, b, c, d, e, f, g, h, i);
}
[[gnu::noinline, gnu::used]] void trace_sched_wakeup(uint64_t a, uint64_t b, uint64_t c, uint64_t d,
                                                     uint64_t e, uint64_t f, uint64_t g, uint64_t h,
                                                     uint64_t i) {
  SONDE_USE_ARGUMENTS(a, b, c, d, e, f, g, h, i);
}
[[gnu::noinline, gnu::used]] void trace_sched_waking(uint64_t a, uint64_t b, uint64_t c, uint64_t d,
                                                     uint64_t e, uint64_t f, uint64_t g, uint64_t h,
                                                     uint64_t i) {
  SONDE_USE_ARGUMENTS(a, b, c, d, e, f, g, h, i);
}
[[gnu::noinline, gnu::used]] void trace_sched_wakeup_new(uint64_t a, uint64_t b, uint64_t c,
                                                         uint64_t d, uint64_t e, uint64_t f,
                                                         uint64_t g, uint64_t h, uint64_t i) {
  SONDE_USE_ARGUMENTS(a, b, c, d, e, f, g, h, i);
}
#undef SONDE_USE_ARGUMENTS
[[gnu::noinline, gnu::used]] void trace_sched_stat_runtime(uint64_t ids, uint64_t comm0,
                                                           uint64_t comm1, uint64_t runtime,
                                                           uint64_t vruntime, uint64_t task) {
  asm volatile(""
               :
               : "r"(ids), "r"(comm0), "r"(comm1), "r"(runtime), "r"(vruntime), "r"(task)
               : "memory");
}
[[gnu::noinline, gnu::used]] void trace_sched_migrate_task(uint64_t ids, uint64_t comm0,
                                                           uint64_t comm1, uint64_t orig_cpu,
                                                           uint64_t dest_cpu, uint64_t task) {
  asm volatile(""
               :
               : "r"(ids), "r"(comm0), "r"(comm1), "r"(orig_cpu), "r"(dest_cpu), "r"(task)
               : "memory");
}
[[gnu::noinline, gnu::used]] void trace_cpu_clock_tick(uint64_t ids, uint64_t comm0, uint64_t comm1,
                                                       uint64_t ip, uint64_t sp,
                                                       uint64_t in_kernel) {
  asm volatile(""
               :
               : "r"(ids), "r"(comm0), "r"(comm1), "r"(ip), "r"(sp), "r"(in_kernel)
               : "memory");
}
}

namespace kernel {

namespace {

// The CPU's task stops being it: the time since it became it is its CPU time (and Linux's
// sched_stat_runtime, as update_curr reports it).
void charge_task(PerCpu& cpu, uint64_t now) {
  if (Tcb* task = cpu.traced_thread) {
    uint64_t runtime = now - cpu.traced_since;
    task->task_ns += runtime;
    const abi::TraceIdentity& t = task->trace;
    if (t.ids != 0 && runtime != 0) {
      trace_sched_stat_runtime(t.ids, t.comm[0], t.comm[1], runtime, task->task_ns, t.task);
    }
  }
  cpu.traced_since = now;
}

// The state Linux would report for the CPU's last task as it leaves the CPU.
uint64_t leaving_state(const PerCpu& cpu) {
  if (cpu.traced_gone) return kTaskZombie;
  const Tcb* thread = cpu.traced_thread;
  if (thread == nullptr) return kTaskRunning;  // the idle task
  switch (thread->state) {
    case ThreadState::kRunning: return kPreempted;
    case ThreadState::kInactive: return kTaskStopped;
    default: return kTaskSleeping;
  }
}

void wakeup(Tcb* tcb, const PerCpu& waker) {
  const abi::TraceIdentity& t = tcb->trace;
  const abi::TraceIdentity& w = waker.traced;
  if (tcb->trace_new) {
    trace_sched_wakeup_new(t.ids, t.comm[0], t.comm[1], tcb->cpu, w.ids, w.comm[0], w.comm[1],
                           t.task, w.task);
  } else {
    // As Linux's try_to_wake_up: sched_waking in the waker as it starts, sched_wakeup once the
    // task is runnable (here both at once: making it runnable is one step).
    trace_sched_waking(t.ids, t.comm[0], t.comm[1], tcb->cpu, w.ids, w.comm[0], w.comm[1], t.task,
                       w.task);
    trace_sched_wakeup(t.ids, t.comm[0], t.comm[1], tcb->cpu, w.ids, w.comm[0], w.comm[1], t.task,
                       w.task);
  }
  tcb->trace_new = false;
  tcb->trace_switched_out = false;
}

// The CPU's last task leaves for `next` (ids 0: idle).
void switch_from_last(PerCpu& cpu, const abi::TraceIdentity& next) {
  uint64_t state = leaving_state(cpu);
  const abi::TraceIdentity& prev = cpu.traced;
  trace_sched_switch(prev.ids, prev.comm[0], prev.comm[1], next.ids, next.comm[0], next.comm[1],
                     state, prev.task, next.task);
  if (cpu.traced_thread != nullptr && state != kPreempted) {
    cpu.traced_thread->trace_switched_out = true;
  }
}

}  // namespace

void sched_trace_switch_in(PerCpu& cpu, Tcb* next) {
  if (next->trace_new || next->trace_switched_out) wakeup(next, cpu);
  switch_from_last(cpu, next->trace);
  uint64_t now = clock_now_ns();
  charge_task(cpu, now);
  // A task that last ran on another CPU is not that CPU's any more: it is here now.
  for (unsigned i = 0; i < cpus_online(); ++i) {
    PerCpu& other = cpu_at(i);
    if (&other == &cpu || other.traced_thread != next) continue;
    charge_task(other, now);
    other.traced = abi::TraceIdentity{};
    other.traced_thread = nullptr;
  }
  cpu.traced = next->trace;
  cpu.traced_thread = next;
  cpu.traced_gone = false;
}

void sched_trace_idle(PerCpu& cpu) {
  if (cpu.traced.ids == 0) return;
  switch_from_last(cpu, abi::TraceIdentity{});
  charge_task(cpu, clock_now_ns());
  cpu.traced = abi::TraceIdentity{};
  cpu.traced_thread = nullptr;
  cpu.traced_gone = false;
}

void sched_trace_runnable(Tcb* tcb) {
  if (tcb->trace.ids != 0 && (tcb->trace_new || tcb->trace_switched_out)) {
    wakeup(tcb, this_cpu());
  }
}

void sched_trace_migrated(const Tcb* tcb, unsigned from, unsigned to) {
  // A thread placed before it first runs (a fork's child, an exec's new TCB) is not migrated,
  // as Linux's new tasks get their CPU without the event.
  const abi::TraceIdentity& t = tcb->trace;
  if (t.ids == 0 || from == to || tcb->state == ThreadState::kInactive) return;
  trace_sched_migrate_task(t.ids, t.comm[0], t.comm[1], from, to, t.task);
}

void sched_trace_destroyed(Tcb* tcb) {
  for (unsigned i = 0; i < cpus_online(); ++i) {
    PerCpu& cpu = cpu_at(i);
    if (cpu.traced_thread != tcb) continue;
    cpu.traced_thread = nullptr;
    cpu.traced_gone = true;
  }
}

void sched_trace_set_identity(Tcb* tcb, const abi::TraceIdentity& identity, bool continues) {
  bool was_task = tcb->trace.ids != 0;
  tcb->trace = identity;
  if (identity.ids == 0) {
    tcb->trace_new = tcb->trace_switched_out = false;
    for (unsigned i = 0; i < cpus_online(); ++i) {  // no Linux task any more: CPUs forget it
      PerCpu& cpu = cpu_at(i);
      if (cpu.traced_thread != tcb) continue;
      charge_task(cpu, clock_now_ns());
      cpu.traced = abi::TraceIdentity{};
      cpu.traced_thread = nullptr;
    }
    return;
  }
  // A thread that never ran as this task starts as a new one (its first run is
  // sched_wakeup_new); a running task renamed (exec, prctl) keeps going.
  if (!was_task && !continues && tcb->state == ThreadState::kInactive) tcb->trace_new = true;
  for (unsigned i = 0; i < cpus_online(); ++i) {
    PerCpu& cpu = cpu_at(i);
    if (continues && cpu.traced.ids == identity.ids && cpu.traced_thread != tcb) {
      // The task goes on in this thread (an exec's new one): from now its time is this one's.
      if (cpu.traced_thread != nullptr) charge_task(cpu, clock_now_ns());
      cpu.traced_since = clock_now_ns();
      cpu.traced_thread = tcb;
      cpu.traced_gone = false;
    }
    if (cpu.traced_thread == tcb) cpu.traced = identity;
  }
}

void sched_trace_clock_tick(const PerCpu& cpu) {
  const Tcb* task = cpu.traced_thread;
  const Tcb* current = cpu.current;
  if (task != nullptr && current == task) {  // it ran: the tick came from user mode
    trace_cpu_clock_tick(cpu.traced.ids, cpu.traced.comm[0], cpu.traced.comm[1], task->regs.rip,
                         task->regs.rsp, 0);
    return;
  }
  if (task != nullptr && task->state == ThreadState::kRunning) return;  // preempted: not its time
  // Served (a server runs for it) or idle: "kernel" time, where the interrupted thread was.
  const abi::TraceIdentity& who = task != nullptr ? cpu.traced : abi::TraceIdentity{};
  trace_cpu_clock_tick(who.ids, who.comm[0], who.comm[1],
                       current != nullptr ? current->regs.rip : 0,
                       current != nullptr ? current->regs.rsp : 0, 1);
}

uint64_t sched_trace_task_ns(const Tcb* tcb) {
  uint64_t ns = tcb->task_ns;
  for (unsigned i = 0; i < cpus_online(); ++i) {
    const PerCpu& cpu = cpu_at(i);
    if (cpu.traced_thread == tcb) ns += clock_now_ns() - cpu.traced_since;
  }
  return ns;
}

}  // namespace kernel
