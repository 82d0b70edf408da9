// SPDX-License-Identifier: MIT
// Linux task_structs for tracing programs, filled from the process table.
#include "kernel/task_struct.hpp"

#include <stddef.h>
#include <string.h>

#include "mm/address_space.hpp"
#include "sys/server_start.hpp"

extern "C" {
struct mnt_namespace init_mnt_ns = {
    .ns = {.stashed = nullptr, .ops = nullptr, .inum = 4026531841u, .count = 1}};
struct nsproxy init_nsproxy = {.count = 1, .mnt_ns = &init_mnt_ns};
struct task_struct init_task = {
    .__state = 0,
    .flags = 0,
    .prio = 120,
    .mm = nullptr,
    .active_mm = nullptr,
    .exit_state = 0,
    .exit_code = 0,
    .exit_signal = 0,
    .pid = 0,
    .tgid = 0,
    .real_parent = &init_task,
    .parent = &init_task,
    .group_leader = &init_task,
    .start_time = 0,
    .comm = "swapper/0",
    .nsproxy = &init_nsproxy,
};
}

// The trace server shows sched_switch's prev->__state as it was at the switch by its offset
// (servers/trace/probes/sched_tracepoints.cpp), and finds a task's waiting registers by theirs.
static_assert(offsetof(struct task_struct, __state) == 0);
static_assert(offsetof(struct task_struct, sonde_user_regs) == sys::kTaskUserRegistersOffset);
static_assert(offsetof(struct task_struct, sonde_user_pages) == sys::kTaskUserPagesOffset);

namespace posix {

namespace {
constexpr int kSigChld = 17;
constexpr int kExitZombie = 0x20;     // EXIT_ZOMBIE
constexpr unsigned kTaskDead = 0x80;  // TASK_DEAD
}  // namespace

struct task_struct* task_struct_of(Process* process) {
  return process != nullptr ? &process->linux_task : &init_task;
}

struct task_struct* task_struct_of(Thread* thread) {
  if (thread == nullptr) return &init_task;
  return thread->tid == thread->process->pid ? &thread->process->linux_task : &thread->linux_task;
}

void update_task_struct(Process& process) {
  struct task_struct& task = process.linux_task;
  bool zombie = process.state == ProcessState::kZombie;
  task.__state = zombie ? kTaskDead : 0;
  task.prio = 120;
  task.pid = process.pid;
  task.tgid = process.pid;
  Process* parent = process.ppid != 0 ? find_process(process.ppid) : nullptr;
  task.real_parent = task_struct_of(parent);
  task.parent = task.real_parent;
  task.group_leader = &task;
  task.mm = zombie || process.memory == nullptr ? nullptr : &process.linux_mm;
  task.active_mm = task.mm;
  task.flags = (process.executed ? 0 : PF_FORKNOEXEC) |
               (process.used_privilege ? PF_SUPERPRIV : 0) | (zombie ? PF_EXITING : 0);
  task.exit_state = zombie ? kExitZombie : 0;
  task.exit_code = zombie ? process.wait_status : 0;
  task.exit_signal = kSigChld;
  task.start_time = process.start_ns;
  task.nsproxy = &init_nsproxy;
  static_assert(sizeof(task.comm) == sizeof(process.comm));
  memcpy(task.comm, process.comm, sizeof(task.comm));
  // The other threads: the group's fields, their own pid, the leader as group_leader (an
  // exiting group's threads are gone before its task is a zombie).
  for (Thread* t = process.threads; t != nullptr; t = t->next) {
    if (t->tid == process.pid) continue;
    const void* waiting = t->linux_task.sonde_user_regs;  // the thread's own, not the leader's
    unsigned long pages = t->linux_task.sonde_user_pages;
    t->linux_task = task;
    t->linux_task.pid = t->tid;
    t->linux_task.sonde_user_regs = waiting;
    t->linux_task.sonde_user_pages = pages;
  }
}

void publish_waiting_registers(Thread& thread, bool waiting) {
  struct task_struct* task = task_struct_of(&thread);
  Process& process = *thread.process;
  task->sonde_user_regs = waiting ? &thread.saved : nullptr;
  task->sonde_user_pages = waiting && process.memory != nullptr
                               ? reinterpret_cast<unsigned long>(process.memory->page_map())
                               : 0;
}

}  // namespace posix
