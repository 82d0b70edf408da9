// SPDX-License-Identifier: MIT
// The sched and signal tracepoint hooks: empty on purpose; the trace server probes them.
#include "kernel/sched_tracepoints.hpp"

#include "kernel/task_struct.hpp"
#include "mm/address_space.hpp"
#include "tracing/trace_service.hpp"
#include "vfs/inode.hpp"

extern "C" __attribute__((noinline, used)) void trace_sched_process_exec(
    const char* filename, int pid, int old_pid, struct task_struct* task,
    struct linux_binprm* bprm) {
  // Keeps the call and the arguments in their registers for the probe.
  asm volatile("" : : "r"(filename), "r"(pid), "r"(old_pid), "r"(task), "r"(bprm) : "memory");
}

extern "C" __attribute__((noinline, used)) void trace_sched_process_exit(const char* comm, int pid,
                                                                         int prio,
                                                                         struct task_struct* task) {
  asm volatile("" : : "r"(comm), "r"(pid), "r"(prio), "r"(task) : "memory");
}

extern "C" __attribute__((noinline, used)) void trace_sched_process_free(const char* comm, int pid,
                                                                         int prio,
                                                                         struct task_struct* task) {
  asm volatile("" : : "r"(comm), "r"(pid), "r"(prio), "r"(task) : "memory");
}

extern "C" __attribute__((noinline, used)) void trace_sched_process_wait(const char* comm, int pid,
                                                                         int prio) {
  asm volatile("" : : "r"(comm), "r"(pid), "r"(prio) : "memory");
}

extern "C" __attribute__((noinline, used)) void trace_sched_process_fork(
    const char* parent_comm, int parent_pid, const char* child_comm, int child_pid,
    struct task_struct* parent, struct task_struct* child) {
  asm volatile(""
               :
               : "r"(parent_comm), "r"(parent_pid), "r"(child_comm), "r"(child_pid), "r"(parent),
                 "r"(child)
               : "memory");
}

// The seventh argument (the task) is on the stack, above the return address.
extern "C" __attribute__((noinline, used)) void trace_signal_generate(
    int sig, const struct kernel_siginfo* info, const char* comm, int pid, int group, int result,
    struct task_struct* task) {
  asm volatile(""
               :
               : "r"(sig), "r"(info), "r"(comm), "r"(pid), "r"(group), "r"(result), "m"(task)
               : "memory");
}

extern "C" __attribute__((noinline, used)) void trace_task_rename(int pid, const char* oldcomm,
                                                                  const char* newcomm,
                                                                  short oom_score_adj,
                                                                  struct task_struct* task,
                                                                  int exec) {
  asm volatile(""
               :
               : "r"(pid), "r"(oldcomm), "r"(newcomm), "r"(oom_score_adj), "r"(task), "r"(exec)
               : "memory");
}

extern "C" __attribute__((noinline, used)) void trace_task_forked(unsigned long ids,
                                                                  unsigned long parent_ids) {
  asm volatile("" : : "r"(ids), "r"(parent_ids) : "memory");
}

extern "C" __attribute__((noinline, used)) void trace_task_exited(unsigned long ids,
                                                                  unsigned long parent_ids) {
  asm volatile("" : : "r"(ids), "r"(parent_ids) : "memory");
}

// The seventh argument (the inode number) is on the stack, above the return address.
extern "C" __attribute__((noinline, used)) void trace_vma_mapped(
    unsigned long ids, unsigned long address, unsigned long length, unsigned long pgoff,
    unsigned long prot_flags, const char* path, unsigned long inode) {
  asm volatile(""
               :
               : "r"(ids), "r"(address), "r"(length), "r"(pgoff), "r"(prot_flags), "r"(path),
                 "m"(inode)
               : "memory");
}

extern "C" __attribute__((noinline, used)) void trace_page_fault_user(unsigned long address,
                                                                      unsigned long ip,
                                                                      unsigned long error_code,
                                                                      unsigned long handled) {
  asm volatile("" : : "r"(address), "r"(ip), "r"(error_code), "r"(handled) : "memory");
}

namespace posix {

namespace {
constexpr int kPrio = 120;  // every task is SCHED_NORMAL at nice 0 (task_struct.cpp)

unsigned long ids_of(int tid, int tgid) {
  return static_cast<unsigned long>(static_cast<unsigned>(tid)) |
         static_cast<unsigned long>(static_cast<unsigned>(tgid)) << 32;
}
}  // namespace

void sched_process_exec(Process& process, const char* filename, struct linux_binprm* bprm) {
  // The new comm is what the trace server shows from now on, as Linux's current->comm.
  if (&process == current) publish_current_task(current);
  trace_sched_process_exec(filename, process.pid, process.pid, task_struct_of(&process), bprm);
  // The new image's text, after its COMM (perf reads the maps of the task it names).
  announce_mappings(process, process.pid);
}

void announce_mappings(Process& process, int tid, uint64_t start, uint64_t end) {
  constexpr unsigned long kMapPrivate = 0x02, kMapShared = 0x01;
  constexpr unsigned long kDevice = 1;  // the file tree's st_dev, 00:01 (as /proc/<pid>/maps)
  if (process.memory == nullptr) return;
  const mm::FileMaps& maps = process.file_maps;
  for (size_t i = 0; i < maps.count(); ++i) {
    const mm::FileMapping& mapping = maps.at(i);
    if (mapping.inode == nullptr) continue;
    if (end != 0 && (mapping.end <= start || mapping.start >= end)) continue;
    const mm::Area* area = process.memory->find_area(mapping.start);
    if (area == nullptr || (area->prot & mm::kProtExec) == 0) continue;
    char path[256];
    if (file_tree().path_of(mapping.inode, path, sizeof(path)) == 0) continue;
    unsigned long ids = static_cast<unsigned long>(static_cast<unsigned>(tid)) |
                        static_cast<unsigned long>(process.pid) << 32;
    unsigned long flags = mapping.shared ? kMapShared : kMapPrivate;
    trace_vma_mapped(ids, mapping.start, mapping.end - mapping.start, mapping.offset,
                     area->prot | flags << 8 | kDevice << 32, path, mapping.inode->number);
  }
}

void sched_process_exit(Process& process) {
  update_task_struct(process);  // exit_code and flags for programs reading the task
  // Its EXIT first: the trace server's events still follow it (an heir leaves at the exit).
  trace_task_exited(ids_of(process.pid, process.pid), ids_of(process.ppid, process.ppid));
  trace_sched_process_exit(process.comm, process.pid, kPrio, task_struct_of(&process));
}

void sched_process_free(Process& process) {
  trace_sched_process_free(process.comm, process.pid, kPrio, task_struct_of(&process));
}

void sched_process_wait(Process& waiter, int pid) {
  trace_sched_process_wait(waiter.comm, pid, kPrio);
}

void sched_process_fork(Process& parent, Process& child) {
  trace_sched_process_fork(parent.comm, parent.pid, child.comm, child.pid, task_struct_of(&parent),
                           task_struct_of(&child));
  int forking = published_current_task() == &parent ? published_current_tid() : parent.pid;
  trace_task_forked(ids_of(child.pid, child.pid), ids_of(forking, parent.pid));
}

void sched_thread_fork(Thread& parent, Thread& child) {
  Process& process = *parent.process;
  trace_sched_process_fork(process.comm, parent.tid, process.comm, child.tid,
                           task_struct_of(&parent), task_struct_of(&child));
  trace_task_forked(ids_of(child.tid, process.pid), ids_of(parent.tid, process.pid));
}

void sched_thread_exit(Thread& thread) {
  Process& process = *thread.process;
  // As Linux's do_exit, in the exiting task; then back to whoever the server works for.
  Process* was = published_current_task();
  int was_tid = published_current_tid();
  use_current_task(&process, thread.tid);
  trace_task_exited(ids_of(thread.tid, process.pid), ids_of(process.ppid, process.ppid));
  trace_sched_process_exit(process.comm, thread.tid, kPrio, task_struct_of(&thread));
  use_current_task(was, was_tid);
  trace_sched_process_free(process.comm, thread.tid, kPrio, task_struct_of(&thread));
}

void signal_generate(int sig, int code, Process& target, bool group, int result) {
  kernel_siginfo info{sig, 0, code};
  trace_signal_generate(sig, &info, target.comm, target.pid, group ? 1 : 0, result,
                        task_struct_of(&target));
}

void rename_task(Process& process, Thread* thread, const char* name, bool exec) {
  int tid = thread != nullptr ? thread->tid : process.pid;
  struct task_struct* task = thread != nullptr ? task_struct_of(thread) : task_struct_of(&process);
  // Linux's oom_score_adj: 0 for every task here.
  trace_task_rename(tid, process.comm, name, 0, task, exec ? 1 : 0);
  __builtin_memcpy(process.comm, name, sizeof(process.comm));
}

}  // namespace posix
