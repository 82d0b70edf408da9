// SPDX-License-Identifier: MIT
// Per-CPU state, the big kernel lock, and cross-CPU requests (reschedule, TLB flush).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "arch/x86_64/trap_frame.hpp"
#include "sonde/abi/ipc.hpp"

namespace kernel {

struct Tcb;
struct BootInfo;

inline constexpr unsigned kMaxCpus = 8;
inline constexpr unsigned kPriorityCount = 256;

struct RunQueue {
  Tcb* head = nullptr;
  Tcb* tail = nullptr;
};

// One per CPU, reached through the GS base while in the kernel. The first five words are
// used by interrupts.S (syscall entry), so their offsets are fixed.
struct PerCpu {
  PerCpu* self;               // %gs:0
  uint64_t kernel_stack_top;  // %gs:8
  uint64_t user_rsp;          // %gs:16, scratch for the syscall entry
  uint64_t index;             // %gs:24
  // %gs:32: where the syscall entry saves the registers: the TCB of the thread this CPU runs
  // (set at every exit), or scratch_frame once that thread is destroyed.
  arch::TrapFrame* entry_frame;
  // This CPU's TSS.rsp0 (unaligned: the TSS is packed), where interrupts from user mode push:
  // the end of the same frame. Written by set_interrupt_stack.
  void* interrupt_stack;
  uint32_t apic_id;
  volatile uint32_t online;
  volatile uint32_t idle;
  Tcb* current;
  Tcb* fpu_owner;
  uint64_t loaded_page_table;
  bool announce_idle;
  // A TLB request from another CPU: flush, or leave the address space `flush_leave` (being
  // destroyed) for the kernel's own page tables. The requester waits for `flush_pending` to
  // drop back to 0.
  volatile uint32_t flush_pending;
  volatile uint64_t flush_leave;
  // With a request: the FPU owner's registers go to its TCB and the CPU gives up ownership
  // (its current thread, if it was the owner, reloads them from the TCB at its next exit).
  volatile bool flush_fpu;
  // The Linux task this CPU last ran (sched_trace.hpp): its identity (ids 0: the idle task),
  // its thread (null once destroyed: traced_gone).
  sonde::abi::TraceIdentity traced;
  Tcb* traced_thread;
  bool traced_gone;
  uint64_t traced_since;  // clock ns when traced_thread became the CPU's task (its CPU time)
  RunQueue run_queues[kPriorityCount];
  uint64_t ready_bitmap[kPriorityCount / 64];
  alignas(16) arch::TrapFrame scratch_frame;  // 16-aligned end: the CPU aligns rsp0 so
};
static_assert(offsetof(PerCpu, kernel_stack_top) == 8);
static_assert(offsetof(PerCpu, user_rsp) == 16);
static_assert(offsetof(PerCpu, entry_frame) == 32);
static_assert(offsetof(PerCpu, current) == 64);  // syscall_entry's unknown-number path

inline void set_interrupt_stack(PerCpu& cpu, const arch::TrapFrame* frame) {
  auto end = reinterpret_cast<uint64_t>(frame + 1);
  __builtin_memcpy(cpu.interrupt_stack, &end, sizeof(end));
}

inline PerCpu& this_cpu() {
  PerCpu* cpu;
  asm volatile("mov %%gs:0, %0" : "=r"(cpu));
  return *cpu;
}
PerCpu& cpu_at(unsigned index);
unsigned cpus_online();

// Sets up CPU `index`'s per-CPU block and GS base (kernel GS) on the calling CPU.
void percpu_init(unsigned index, uint64_t kernel_stack_top);

// The big kernel lock (a ticket lock): every kernel entry holds it, except the TLB requests it
// serves while waiting for it (so a CPU holding it can wait for the others' flushes). Layout
// fixed by interrupts.S (exit_to_user releases it: owner at 8, then serving at 4).
struct TicketLock {
  volatile uint32_t next = 0;
  volatile uint32_t serving = 0;
  volatile int32_t owner = -1;  // CPU index holding it
};
static_assert(offsetof(TicketLock, serving) == 4);
static_assert(offsetof(TicketLock, owner) == 8);

}  // namespace kernel

extern "C" kernel::TicketLock kernel_big_lock;

namespace kernel {

// Spins until `ticket` is served (serving TLB requests meanwhile).
void kernel_lock_wait(uint32_t ticket);

inline void kernel_lock() {
  uint32_t ticket = __atomic_fetch_add(&kernel_big_lock.next, 1, __ATOMIC_ACQUIRE);
  if (__atomic_load_n(&kernel_big_lock.serving, __ATOMIC_ACQUIRE) != ticket) {
    kernel_lock_wait(ticket);
  }
  kernel_big_lock.owner = static_cast<int32_t>(this_cpu().index);
}
inline void kernel_unlock() {
  kernel_big_lock.owner = -1;
  __atomic_store_n(&kernel_big_lock.serving, kernel_big_lock.serving + 1, __ATOMIC_RELEASE);
}
inline bool kernel_lock_held_here() {
  return kernel_big_lock.owner == static_cast<int32_t>(this_cpu().index);
}

// Flushes the TLB of every other CPU that has `page_table` loaded (or makes them leave it when
// `leave` is true), and waits until they did. Call with the kernel lock held.
void shootdown(uint64_t page_table, bool leave);
// Serves a pending TLB request of this CPU (entry paths and the lock's wait loop call it).
void serve_tlb_request();

// CPU `index` (not this one) may be entering the kernel with a TCB's frame as its
// entry_frame: after this returns (it waits for the CPU to pass a TLB request), it writes only
// the entry_frame it has now. Call with the kernel lock held.
void wait_for_entry(unsigned index);
// The same request, and CPU `index` saves its FPU owner's state to the owner's TCB and drops
// it, so TCB ReadFpu/WriteFpu may use the TCB's copy (a thread last run there).
void save_fpu_on(unsigned index);

// Asks CPU `index` to run its scheduler soon (a thread became runnable there, or its current
// thread stopped).
void reschedule_cpu(unsigned index);

// Starts the application processors (INIT-SIPI-SIPI); returns the number of CPUs online.
unsigned start_application_processors(const BootInfo& boot);

}  // namespace kernel
