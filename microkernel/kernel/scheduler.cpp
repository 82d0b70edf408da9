// SPDX-License-Identifier: MIT
// The scheduler: 256 priorities, round robin within one, preemption by the timer.
#include "kernel/scheduler.hpp"

#include "arch/x86_64/cpu.hpp"
#include "kernel/config.hpp"
#include "kernel/console.hpp"
#include "kernel/fault.hpp"
#include "kernel/page_table.hpp"
#include "kernel/panic.hpp"
#include "kernel/smp.hpp"
#include "kernel/timer.hpp"
#include "sonde/abi/syscalls.hpp"

namespace kernel {
namespace {

// A test kernel whose threads are all blocked for this long ends the run instead of
// waiting for the harness's timeout.
constexpr uint64_t kTestDeadlockTicks = 300;
constexpr uint64_t kGeneralProtectionVector = 13;

PerCpu& home(const Tcb* tcb) { return cpu_at(tcb->cpu); }

bool queued(const Tcb* tcb) {
  const RunQueue& queue = home(tcb).run_queues[tcb->priority];
  return tcb->previous != nullptr || queue.head == tcb;
}

void enqueue(Tcb* tcb) {
  PerCpu& cpu = home(tcb);
  RunQueue& queue = cpu.run_queues[tcb->priority];
  tcb->next = nullptr;
  tcb->previous = queue.tail;
  if (queue.tail != nullptr) {
    queue.tail->next = tcb;
  } else {
    queue.head = tcb;
  }
  queue.tail = tcb;
  cpu.ready_bitmap[tcb->priority / 64] |= uint64_t{1} << (tcb->priority % 64);
  reschedule_cpu(tcb->cpu);
}

// Queues the thread at the front of its priority, behind the ones already there to resume their
// turn (thread_answered's, which keep their order).
void enqueue_front(Tcb* tcb) {
  PerCpu& cpu = home(tcb);
  RunQueue& queue = cpu.run_queues[tcb->priority];
  Tcb* after = nullptr;
  Tcb* before = queue.head;
  while (before != nullptr && before->resuming) {
    after = before;
    before = before->next;
  }
  tcb->previous = after;
  tcb->next = before;
  if (after != nullptr) {
    after->next = tcb;
  } else {
    queue.head = tcb;
  }
  if (before != nullptr) {
    before->previous = tcb;
  } else {
    queue.tail = tcb;
  }
  cpu.ready_bitmap[tcb->priority / 64] |= uint64_t{1} << (tcb->priority % 64);
  reschedule_cpu(tcb->cpu);
}

void dequeue(Tcb* tcb) {
  tcb->resuming = false;
  PerCpu& cpu = home(tcb);
  RunQueue& queue = cpu.run_queues[tcb->priority];
  if (tcb->previous != nullptr) {
    tcb->previous->next = tcb->next;
  } else {
    queue.head = tcb->next;
  }
  if (tcb->next != nullptr) {
    tcb->next->previous = tcb->previous;
  } else {
    queue.tail = tcb->previous;
  }
  tcb->next = tcb->previous = nullptr;
  if (queue.head == nullptr) {
    cpu.ready_bitmap[tcb->priority / 64] &= ~(uint64_t{1} << (tcb->priority % 64));
  }
}

int highest_ready(const PerCpu& cpu) {
  for (int word = kPriorityCount / 64 - 1; word >= 0; --word) {
    if (cpu.ready_bitmap[word] != 0)
      return word * 64 + 63 - __builtin_clzll(cpu.ready_bitmap[word]);
  }
  return -1;
}

// The thread this CPU runs next, or null when none is runnable here. The current thread keeps
// the CPU unless a higher priority is ready, its slice ran out and an equal one is ready, an
// equal one answered after a call goes on with its turn, or its affinity moved it to another
// CPU. One that loses the CPU with some of its slice left goes on with it next (at the front,
// as seL4's preempted threads); at the end of its slice it goes to the back with a new one.
Tcb* choose(PerCpu& cpu) {
  Tcb* current = cpu.current;
  int top = highest_ready(cpu);
  if (current != nullptr && current->state == ThreadState::kRunning) {
    bool expired = current->slice_expired;
    bool here = current->cpu == cpu.index;
    if (here && (top < current->priority ||
                 (top == current->priority && !expired && !cpu.run_queues[top].head->resuming))) {
      if (expired) {
        current->slice_expired = false;
        current->ticks_left = kTimeSliceTicks;
      }
      return current;
    }
    cpu.current = nullptr;  // so enqueue sees it as not running
    if (here && !expired) {
      enqueue_front(current);
    } else {
      current->slice_expired = false;
      current->ticks_left = kTimeSliceTicks;
      enqueue(current);
    }
    top = highest_ready(cpu);
  }
  if (top < 0) return nullptr;
  Tcb* next = cpu.run_queues[top].head;
  dequeue(next);
  return next;
}

bool all_cpus_idle() {
  for (unsigned i = 0; i < cpus_online(); ++i) {
    if (!cpu_at(i).idle) return false;
  }
  return true;
}

}  // namespace

Tcb* current_thread() { return this_cpu().current; }

int running_on(const Tcb* tcb) {
  for (unsigned i = 0; i < cpus_online(); ++i) {
    if (cpu_at(i).current == tcb) return static_cast<int>(i);
  }
  return -1;
}

void thread_make_runnable(Tcb* tcb) {
  if (tcb->state == ThreadState::kRunning) return;
  tcb->state = ThreadState::kRunning;
  if (running_on(tcb) < 0) {
    sched_trace_runnable(tcb);
    enqueue(tcb);
  }
}

void thread_answered(Tcb* tcb) {
  if (tcb->state == ThreadState::kRunning) return;
  tcb->state = ThreadState::kRunning;
  if (running_on(tcb) >= 0) return;
  sched_trace_runnable(tcb);
  bool turn_left = answered_turn_left(tcb);
  charge_call(tcb);
  if (turn_left) {
    tcb->resuming = true;
    enqueue_front(tcb);
  } else {
    enqueue(tcb);
  }
}

void thread_block(Tcb* tcb, ThreadState state) {
  if (tcb->state == ThreadState::kRunning) {
    int on = running_on(tcb);
    if (on < 0 && queued(tcb)) dequeue(tcb);
    if (on >= 0) reschedule_cpu(static_cast<unsigned>(on));
  }
  tcb->state = state;
}

void thread_set_priority(Tcb* tcb, uint8_t priority) {
  bool requeue = tcb->state == ThreadState::kRunning && running_on(tcb) < 0 && queued(tcb);
  if (requeue) dequeue(tcb);
  tcb->priority = priority;
  if (requeue) enqueue(tcb);
  int on = running_on(tcb);
  if (on >= 0) reschedule_cpu(static_cast<unsigned>(on));
}

void thread_set_cpu(Tcb* tcb, uint8_t cpu) {
  bool requeue = tcb->state == ThreadState::kRunning && running_on(tcb) < 0 && queued(tcb);
  if (requeue) dequeue(tcb);
  sched_trace_migrated(tcb, tcb->cpu, cpu);
  tcb->cpu = cpu;
  if (requeue) enqueue(tcb);
  int on = running_on(tcb);
  if (on >= 0) reschedule_cpu(static_cast<unsigned>(on));
}

void scheduler_remove(Tcb* tcb) {
  sched_trace_destroyed(tcb);
  int on = running_on(tcb);
  if (tcb->state == ThreadState::kRunning && on < 0 && queued(tcb)) dequeue(tcb);
  tcb->state = ThreadState::kInactive;
  if (on >= 0) {
    PerCpu& cpu = cpu_at(static_cast<unsigned>(on));
    cpu.current = nullptr;
    // That CPU saves its next entry from user mode into the TCB, which is about to go: give it
    // scratch space, and wait until it is past any entry that began with the old pointers.
    cpu.entry_frame = &cpu.scratch_frame;
    set_interrupt_stack(cpu, &cpu.scratch_frame);
    if (static_cast<unsigned>(on) != this_cpu().index) wait_for_entry(static_cast<unsigned>(on));
    reschedule_cpu(static_cast<unsigned>(on));
  }
  for (unsigned i = 0; i < cpus_online(); ++i) {
    if (cpu_at(i).fpu_owner == tcb) cpu_at(i).fpu_owner = nullptr;
  }
}

bool fpu_state_in_tcb(const Tcb* tcb) {
  // A CPU's FPU owner is its current thread or none (schedule() drops it before idling).
  for (unsigned i = 0; i < cpus_online(); ++i) {
    PerCpu& cpu = cpu_at(i);
    if (cpu.fpu_owner != tcb) continue;
    if (i != this_cpu().index) {
      // Another CPU holds it (it runs the thread, or ran it last and has not switched yet):
      // that CPU saves it to the TCB and gives it up.
      save_fpu_on(i);
      continue;
    }
    // The current thread here: a copy (its registers stay live).
    asm volatile("fxsave64 (%0)" : : "r"(cpu.fpu_owner->fpu) : "memory");
  }
  return true;
}

void thread_yield(Tcb* tcb) { tcb->slice_expired = true; }

void scheduler_announce_idle() { this_cpu().announce_idle = true; }

void scheduler_tick() {
  sched_trace_tick(this_cpu());
  Tcb* current = this_cpu().current;
  if (current == nullptr || current->state != ThreadState::kRunning) return;
  if (current->ticks_left > 0) --current->ticks_left;
  if (current->ticks_left == 0) current->slice_expired = true;
}

Tcb* schedule() {
  PerCpu& cpu = this_cpu();
  Tcb* next = choose(cpu);
  while (next != nullptr && thread_page_table(next) == 0) {
    printk("kernel: thread '%s' has no address space; suspended\n", next->name);
    next->state = ThreadState::kInactive;
    next = choose(cpu);
  }
  if (next == nullptr) {
    sched_trace_idle(cpu);
    cpu.current = nullptr;
    // The FPU state goes back to its TCB before idling: while the CPU idles (the kernel lock
    // free), others may read or write it (TCB ReadFpu/WriteFpu) or run the thread elsewhere.
    if (cpu.fpu_owner != nullptr) {
      asm volatile("fxsave64 (%0)" : : "r"(cpu.fpu_owner->fpu) : "memory");
      cpu.fpu_owner = nullptr;
    }
    uint64_t idle_since = timer_ticks();
    bool reported = false;
    while ((next = choose(cpu)) == nullptr) {
      if (test_kernel() && cpu.index == 0 && all_cpus_idle() &&
          timer_ticks() - idle_since > kTestDeadlockTicks) {
        printk("kernel: test: every thread has been blocked for %lu ticks; ending the run\n",
               kTestDeadlockTicks);
        machine_exit(sonde::abi::kShutdownFailure);
      }
      if (!reported && cpu.announce_idle && !test_kernel()) {
        printk("kernel: no task left to run; idling\n");
        reported = true;
        cpu.announce_idle = false;
      }
      // Interrupts (timer, reschedule requests, devices) are taken here, in kernel mode, with
      // the kernel lock free for the other CPUs.
      cpu.idle = 1;
      kernel_unlock();
      arch::enable_interrupts();
      arch::halt();
      arch::disable_interrupts();
      kernel_lock();
      cpu.idle = 0;
      if (!all_cpus_idle()) idle_since = timer_ticks();
    }
  }
  // Also when another CPU's request took the FPU state away (save_fpu_on): it is reloaded.
  if (next != cpu.current || thread_page_table(next) != cpu.loaded_page_table ||
      cpu.fpu_owner != next) {
    switch_to(cpu, next);
  }
  return next;
}

void kernel_exit() {
  // The common case first: the current thread goes on, as choose() would decide (still
  // running here, its slice not used up, nothing ready above it) and its address space is
  // loaded; the canonical check is the one below.
  PerCpu& cpu = this_cpu();
  Tcb* current = cpu.current;
  if (current != nullptr && current->state == ThreadState::kRunning && current->cpu == cpu.index &&
      !current->slice_expired && !ready_above(cpu, current->priority) &&
      (cpu.run_queues[current->priority].head == nullptr ||
       !cpu.run_queues[current->priority].head->resuming) &&
      thread_page_table(current) == cpu.loaded_page_table && cpu.loaded_page_table != 0 &&
      cpu.fpu_owner == current && page::is_canonical(current->regs.rsp)) {
    leave_to(cpu, current);
  }
  Tcb* next = schedule();
  // The return to user mode must never fault in the kernel. The kernel checks every stack
  // pointer it is given; one the thread set itself is checked here (iretq would fault on a
  // non-canonical one; sysretq would load it, for the thread to fault later): the thread gets
  // the #GP at once, as a fault to its handler, and another thread runs.
  while (!page::is_canonical(next->regs.rsp)) {
    deliver_fault(next, sonde::abi::FaultKind::kException, kGeneralProtectionVector, 0);
    next = schedule();
  }
  leave_to(this_cpu(), next);
}

}  // namespace kernel
