// The scheduler: 256 priorities, round robin within one, preemption by the timer.
#include "kernel/thread.hpp"

#include "arch/x86_64/cpu.hpp"
#include "kernel/console.hpp"
#include "kernel/memory.hpp"
#include "kernel/panic.hpp"
#include "kernel/syscall.hpp"
#include "kernel/timer.hpp"
#include "sonde/abi/syscalls.hpp"

namespace kernel {
namespace {

constexpr uint32_t kTimeSliceTicks = 5;  // 50 ms at 100 Hz
constexpr uint64_t kPriorityCount = 256;
// A test kernel whose threads are all blocked for this long ends the run instead of
// waiting for the harness's timeout.
constexpr uint64_t kTestDeadlockTicks = 300;

struct RunQueue {
  Tcb* head = nullptr;
  Tcb* tail = nullptr;
};

RunQueue run_queues[kPriorityCount];
uint64_t ready_bitmap[kPriorityCount / 64];
Tcb* current = nullptr;
Tcb* fpu_owner = nullptr;  // whose FPU state the CPU holds
uint64_t loaded_page_table = 0;
bool announce_idle = false;

bool queued(const Tcb* tcb) {
  const RunQueue& queue = run_queues[tcb->priority];
  return tcb->previous != nullptr || queue.head == tcb;
}

void enqueue(Tcb* tcb) {
  RunQueue& queue = run_queues[tcb->priority];
  tcb->next = nullptr;
  tcb->previous = queue.tail;
  if (queue.tail != nullptr) {
    queue.tail->next = tcb;
  } else {
    queue.head = tcb;
  }
  queue.tail = tcb;
  ready_bitmap[tcb->priority / 64] |= uint64_t{1} << (tcb->priority % 64);
}

void dequeue(Tcb* tcb) {
  RunQueue& queue = run_queues[tcb->priority];
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
    ready_bitmap[tcb->priority / 64] &= ~(uint64_t{1} << (tcb->priority % 64));
  }
}

int highest_ready() {
  for (int word = kPriorityCount / 64 - 1; word >= 0; --word) {
    if (ready_bitmap[word] != 0) return word * 64 + 63 - __builtin_clzll(ready_bitmap[word]);
  }
  return -1;
}

// The thread to run next, or null when none is runnable. The current thread keeps the CPU
// unless a higher priority is ready or its slice ran out and an equal one is ready.
Tcb* choose() {
  int top = highest_ready();
  if (current != nullptr && current->state == ThreadState::kRunning) {
    bool expired = current->slice_expired;
    if (top < current->priority || (top == current->priority && !expired)) {
      if (expired) {
        current->slice_expired = false;
        current->ticks_left = kTimeSliceTicks;
      }
      return current;
    }
    current->slice_expired = false;
    current->ticks_left = kTimeSliceTicks;
    enqueue(current);
    top = highest_ready();
  }
  if (top < 0) return nullptr;
  Tcb* next = run_queues[top].head;
  dequeue(next);
  return next;
}

void switch_to(Tcb* next) {
  if (fpu_owner != next) {
    if (fpu_owner != nullptr) asm volatile("fxsave64 (%0)" : : "r"(fpu_owner->fpu) : "memory");
    asm volatile("fxrstor64 (%0)" : : "r"(next->fpu) : "memory");
    fpu_owner = next;
  }
  uint64_t table = thread_page_table(next);
  if (table != loaded_page_table) {
    arch::write_cr3(table);
    loaded_page_table = table;
  }
  arch::write_msr(arch::kMsrFsBase, next->fs_base);
  current = next;
}

}  // namespace

Tcb* current_thread() { return current; }

void thread_created(Tcb* tcb) {
  // fxsave layout: FCW at 0 (all x87 exceptions masked), MXCSR at 24 (all SSE ones masked).
  tcb->fpu[0] = 0x7f;
  tcb->fpu[1] = 0x03;
  tcb->fpu[24] = 0x80;
  tcb->fpu[25] = 0x1f;
  tcb->state = ThreadState::kInactive;
  tcb->ticks_left = kTimeSliceTicks;
  tcb->regs.cs = arch::kUserCode;
  tcb->regs.ss = arch::kUserData;
  tcb->regs.rflags = 0x202;
  thread_set_name(tcb, "thread");
}

void thread_destroyed(Tcb* tcb) {
  if (tcb->state == ThreadState::kRunning && tcb != current) dequeue(tcb);
  tcb->state = ThreadState::kInactive;
  if (current == tcb) current = nullptr;
  if (fpu_owner == tcb) fpu_owner = nullptr;
}

uint64_t thread_page_table(const Tcb* tcb) {
  if (tcb->vspace.empty()) return 0;
  return tcb->vspace.cap.object - kDirectMapBase;
}

void address_space_destroyed(uintptr_t pml4_virtual) {
  if (pml4_virtual - kDirectMapBase == loaded_page_table) {
    loaded_page_table = kernel_page_table_root();
    arch::write_cr3(loaded_page_table);
  }
}

void thread_make_runnable(Tcb* tcb) {
  if (tcb->state == ThreadState::kRunning) return;
  tcb->state = ThreadState::kRunning;
  if (tcb != current) enqueue(tcb);
}

void thread_block(Tcb* tcb, ThreadState state) {
  if (tcb->state == ThreadState::kRunning && tcb != current && queued(tcb)) dequeue(tcb);
  tcb->state = state;
}

void thread_set_priority(Tcb* tcb, uint8_t priority) {
  bool requeue = tcb->state == ThreadState::kRunning && tcb != current && queued(tcb);
  if (requeue) dequeue(tcb);
  tcb->priority = priority;
  if (requeue) enqueue(tcb);
}

void thread_yield(Tcb* tcb) { tcb->slice_expired = true; }

void scheduler_announce_idle() { announce_idle = true; }

void scheduler_tick() {
  if (current == nullptr || current->state != ThreadState::kRunning) return;
  if (current->ticks_left > 0) --current->ticks_left;
  if (current->ticks_left == 0) current->slice_expired = true;
}

void save_current(const arch::TrapFrame& frame) {
  if (current != nullptr) current->regs = frame;
}

void schedule_into(arch::TrapFrame& frame) {
  Tcb* next = choose();
  if (next == nullptr) {
    current = nullptr;
    uint64_t idle_since = timer_ticks();
    bool reported = false;
    while ((next = choose()) == nullptr) {
      if (test_kernel() && timer_ticks() - idle_since > kTestDeadlockTicks) {
        printk("kernel: test: every thread has been blocked for %lu ticks; ending the run\n",
               kTestDeadlockTicks);
        machine_exit(sonde::abi::kShutdownFailure);
      }
      if (!reported && announce_idle && !test_kernel()) {
        printk("kernel: no task left to run; idling\n");
        reported = true;
        announce_idle = false;
      }
      // The timer (and later device interrupts) are taken here, in kernel mode.
      arch::enable_interrupts();
      arch::halt();
      arch::disable_interrupts();
    }
  }
  if (next != current || thread_page_table(next) != loaded_page_table) switch_to(next);
  frame = next->regs;
}

void thread_set_name(Tcb* tcb, const char* name) {
  size_t i = 0;
  for (; name[i] != '\0' && i + 1 < sizeof(tcb->name); ++i) tcb->name[i] = name[i];
  tcb->name[i] = '\0';
}

}  // namespace kernel
