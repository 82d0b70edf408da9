// SPDX-License-Identifier: MIT
// The sched and signal tracepoints (sched:sched_process_{exec,exit,free,wait,fork},
// signal:signal_generate): patchable functions the trace server breakpoints while one of the
// events is enabled or a tracepoint program is attached to it, called with the event's values
// where Linux fires it (servers/trace/probes/sched_tracepoints.cpp reads the arguments).
#pragma once

#include "task/process.hpp"

// Linux's struct kernel_siginfo head: what signal_generate's errno and code come from.
struct kernel_siginfo {
  int si_signo;
  int si_errno;
  int si_code;
};

// Each is a 5-byte entry NOP and a return while nobody traces them. Strings are the POSIX
// server's (a comm is its 16-byte buffer). The task_structs (and exec's linux_binprm) are what
// raw tracepoint programs get as Linux's arguments; the values before them make the records.
extern "C" void trace_sched_process_exec(const char* filename, int pid, int old_pid,
                                         struct task_struct* task, struct linux_binprm* bprm);
extern "C" void trace_sched_process_exit(const char* comm, int pid, int prio,
                                         struct task_struct* task);
extern "C" void trace_sched_process_free(const char* comm, int pid, int prio,
                                         struct task_struct* task);
extern "C" void trace_sched_process_wait(const char* comm, int pid, int prio);
extern "C" void trace_sched_process_fork(const char* parent_comm, int parent_pid,
                                         const char* child_comm, int child_pid,
                                         struct task_struct* parent, struct task_struct* child);
extern "C" void trace_signal_generate(int sig, const struct kernel_siginfo* info, const char* comm,
                                      int pid, int group, int result, struct task_struct* task);
// task:task_rename, where Linux's __set_task_comm fires it (exec, prctl PR_SET_NAME), before the
// name changes; `exec` (not in the record) tells the trace server's perf COMM records which.
extern "C" void trace_task_rename(int pid, const char* oldcomm, const char* newcomm,
                                  short oom_score_adj, struct task_struct* task, int exec);
// A Linux task starts (fork, clone) or ends: the trace server's PERF_RECORD_FORK and EXIT
// (perf_event_fork, perf_event_exit_task). ids: tid | tgid << 32 of the task and of its parent
// (the forking task; for an ending one, its real parent's group leader).
extern "C" void trace_task_forked(unsigned long ids, unsigned long parent_ids);
extern "C" void trace_task_exited(unsigned long ids, unsigned long parent_ids);
// An executable file mapping of a Linux task (exec's segments, mmap with PROT_EXEC): the trace
// server's PERF_RECORD_MMAP2 (perf_event_mmap). ids: tid | pid << 32; prot_flags: PROT_* |
// MAP_* << 8 | the device (major << 8 | minor) << 32; path: the file's, NUL-terminated.
extern "C" void trace_vma_mapped(unsigned long ids, unsigned long address, unsigned long length,
                                 unsigned long pgoff, unsigned long prot_flags, const char* path,
                                 unsigned long inode);
// exceptions:page_fault_user, and the trace server's page-fault counters: a page fault of a
// Linux task, taken by the server (the faulting task is current): where, the
// instruction, the x86 error code, and whether it was resolved (no signal). The trace server's
// software counters (page-faults, minor-faults) count its hits.
extern "C" void trace_page_fault_user(unsigned long address, unsigned long ip,
                                      unsigned long error_code, unsigned long handled);

namespace posix {

// `process` is renamed `name` (16 bytes, NUL-terminated) by `thread` (nullptr: its leader, an
// exec's) in a prctl or an exec: the tracepoint, then the new name (the caller publishes it).
void rename_task(Process& process, Thread* thread, const char* name, bool exec);
// `process`'s executable file mappings [start, end) (all of them: end 0), to trace_vma_mapped,
// by `tid`.
void announce_mappings(Process& process, int tid, uint64_t start = 0, uint64_t end = 0);

// signal_generate's result (Linux's enum trace_signal_result).
inline constexpr int kSignalDelivered = 0;
inline constexpr int kSignalIgnored = 1;
inline constexpr int kSignalAlreadyPending = 2;

// si_code values of the senders the POSIX server has.
inline constexpr int kSiUser = 0;       // kill(2), and the kernel's own SIGPIPE
inline constexpr int kSiKernel = 0x80;  // SIGSEGV, SIGALRM, the console's ^C
inline constexpr int kSiTkill = -6;     // tkill(2), tgkill(2)
inline constexpr int kCldExited = 1;    // SIGCHLD for a child that exited
inline constexpr int kCldKilled = 2;    // ... that a signal ended

// After a successful execve of `filename` (as the caller passed it): `process` has its new comm;
// `bprm` describes what was loaded.
void sched_process_exec(Process& process, const char* filename, struct linux_binprm* bprm);
// At the start of `process`'s end, its exit status recorded, published as the current task
// (finish_process does: Linux fires it in the exiting task).
void sched_process_exit(Process& process);
// When the process table lets go of `process`.
void sched_process_free(Process& process);
// wait4 by `waiter` for `pid` (Linux's pid_nr of the wait's struct pid: 0 for any child).
void sched_process_wait(Process& waiter, int pid);
// After fork made `child`, in the parent.
void sched_process_fork(Process& parent, Process& child);
// After clone made thread `child` of `parent`'s process, in `parent` (ids are the threads').
void sched_thread_fork(Thread& parent, Thread& child);
// A thread other than its process's leader ends (its own exit, its group's, an exec): its
// sched_process_exit, fired as that thread, and its sched_process_free.
void sched_thread_exit(Thread& thread);
// A signal sent to `target` (before it acts).
void signal_generate(int sig, int code, Process& target, bool group, int result);

}  // namespace posix
