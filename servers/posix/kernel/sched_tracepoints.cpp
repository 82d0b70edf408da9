// SPDX-License-Identifier: MIT
// The sched and signal tracepoint hooks: empty on purpose; the trace server probes them.
#include "kernel/sched_tracepoints.hpp"

#include "kernel/task_struct.hpp"
#include "tracing/trace_service.hpp"

extern "C" __attribute__((noinline, used)) void trace_sched_process_exec(const char* filename,
                                                                         int pid, int old_pid) {
  // Keeps the call and the arguments in their registers for the probe.
  asm volatile("" : : "r"(filename), "r"(pid), "r"(old_pid) : "memory");
}

extern "C" __attribute__((noinline, used)) void trace_sched_process_exit(const char* comm, int pid,
                                                                         int prio) {
  asm volatile("" : : "r"(comm), "r"(pid), "r"(prio) : "memory");
}

extern "C" __attribute__((noinline, used)) void trace_sched_process_free(const char* comm, int pid,
                                                                         int prio) {
  asm volatile("" : : "r"(comm), "r"(pid), "r"(prio) : "memory");
}

extern "C" __attribute__((noinline, used)) void trace_sched_process_wait(const char* comm, int pid,
                                                                         int prio) {
  asm volatile("" : : "r"(comm), "r"(pid), "r"(prio) : "memory");
}

extern "C" __attribute__((noinline, used)) void trace_sched_process_fork(const char* parent_comm,
                                                                         int parent_pid,
                                                                         const char* child_comm,
                                                                         int child_pid) {
  asm volatile(""
               :
               : "r"(parent_comm), "r"(parent_pid), "r"(child_comm), "r"(child_pid)
               : "memory");
}

extern "C" __attribute__((noinline, used)) void trace_signal_generate(
    int sig, const struct kernel_siginfo* info, const char* comm, int pid, int group, int result) {
  asm volatile("" : : "r"(sig), "r"(info), "r"(comm), "r"(pid), "r"(group), "r"(result) : "memory");
}

namespace posix {

namespace {
constexpr int kPrio = 120;  // every task is SCHED_NORMAL at nice 0 (task_struct.cpp)
}  // namespace

void sched_process_exec(Process& process, const char* filename) {
  // The new comm is what the trace server shows from now on, as Linux's current->comm.
  if (&process == current) publish_current_task(current);
  trace_sched_process_exec(filename, process.pid, process.pid);
}

void sched_process_exit(Process& process) {
  update_task_struct(process);  // exit_code and flags for programs reading the task
  trace_sched_process_exit(process.comm, process.pid, kPrio);
}

void sched_process_free(Process& process) {
  trace_sched_process_free(process.comm, process.pid, kPrio);
}

void sched_process_wait(Process& waiter, int pid) {
  trace_sched_process_wait(waiter.comm, pid, kPrio);
}

void sched_process_fork(Process& parent, Process& child) {
  trace_sched_process_fork(parent.comm, parent.pid, child.comm, child.pid);
}

void signal_generate(int sig, int code, Process& target, bool group, int result) {
  kernel_siginfo info{sig, 0, code};
  trace_signal_generate(sig, &info, target.comm, target.pid, group ? 1 : 0, result);
}

}  // namespace posix
