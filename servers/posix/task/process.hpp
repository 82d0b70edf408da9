// SPDX-License-Identifier: MIT
// Linux processes and their threads as the server keeps them, and the table of them.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/linux_types.h"
#include "mm/address_space.hpp"
#include "mm/file_maps.hpp"
#include "rt/result.hpp"
#include "sys/ipc.hpp"
#include "task/credentials.hpp"
#include "task/usage.hpp"
#include "vfs/file.hpp"
#include "vfs/inode.hpp"

namespace posix {

// /proc/sys/kernel/pid_max (Linux's default for a machine of up to 32 CPUs) and the numbers
// below RESERVED_PIDS that pid allocation skips once it wraps around.
inline constexpr int kPidMax = 32768;
inline constexpr int kReservedPids = 300;

namespace abi = sonde::abi;

// Linux's struct k_sigaction as rt_sigaction passes it.
struct SigAction {
  uint64_t handler;  // SIG_DFL 0, SIG_IGN 1
  uint64_t flags;
  uint64_t restorer;
  uint64_t mask;
};
inline constexpr int kSignals = 64;

enum class ProcessState : uint8_t { kRunning, kZombie };

struct Process;

// What a pending signal's handler finds in its siginfo besides the number (the fields Linux's
// senders fill): si_code, the sender's pid and real uid (kill, tgkill, SIGPIPE; SIGCHLD: the
// child's), and SIGCHLD's si_status or a queued signal's si_value. A standard signal keeps its
// first sender's while pending.
struct SignalInfo {
  int32_t code = 0x80;  // SI_KERNEL
  int32_t pid = 0;
  uint32_t uid = 0;
  int64_t value = 0;  // SIGCHLD: si_status; rt_sigqueueinfo: si_value (both at offset 24)
};

// Real-time signals (32 and up) queue, each sent one with its own siginfo, taken in the order
// sent, as Linux's; standard signals coalesce while pending. GAP: a full queue loses the
// siginfo of what comes next (the signal stays pending) where Linux would answer a sigqueue
// with EAGAIN past RLIMIT_SIGPENDING.
inline constexpr int kSigRtMin = 32;
inline constexpr uint32_t kQueuedSignals = 32;  // per thread and per process
struct QueuedSignal {
  int32_t signal;
  SignalInfo info;
};
struct SignalQueue {
  QueuedSignal entries[kQueuedSignals];
  uint32_t count;
};

// What a blocked call waits for, so wake_blocked retries it only when that may have changed:
// anything (kAny: after every message the server serves), a child's change of state (kChildren:
// wait4), a wakeup from the trace server (kTrace: poll, select and epoll over trace-server
// files alone, a blocking trace_pipe read), the console (kConsole: a read of it, retried after
// its input interrupt or an ioctl on it), or a pipe (kPipe: a read of an empty one or a write
// to a full one, retried after any pipe's data or ends changed). A signal for the thread, or its
// sleep_deadline passing, retries a call whatever it waits for.
enum class WaitReason : uint8_t { kAny, kChildren, kTrace, kConsole, kPipe };

// One thread of a Linux process (Linux's task; the process is its thread group). Each has its
// own TCB in the process's VSpace and its own badged cap of the server's endpoint: the badge
// is the thread id (find_thread). The thread group leader's tid is the pid and its cap is the
// process's fault_cap, which Breakpoint objects are bound to too (their hits still come through
// the hitting thread's own cap: kBindToThread). Threads that clone makes get their own caps;
// tids and pids come from one counter, as Linux's.
struct Thread {
  Process* process;
  int tid;
  uint64_t tcb;
  // A thread other than the leader is a Linux task of its own: its task_struct (pid = tid,
  // the rest the group's, kernel/task_struct.hpp); the leader's is the process's.
  struct task_struct linux_task;
  // sched_setaffinity: the mask it allows (0: every CPU, the default), the CPU its TCB is bound
  // to (TCB SetAffinity; a new TCB, at exec, gets it too), and the CPU its last fault message
  // named (what getcpu and probes on its behalf report).
  uint64_t affinity;
  uint32_t home_cpu;
  uint32_t cpu;
  uint64_t fault_cap;  // the badged endpoint cap its TCB faults to (the leader's: the process's)
  uint64_t clear_child_tid;  // CLONE_CHILD_CLEARTID, set_tid_address: zeroed and woken at exit
  uint64_t sleep_deadline;   // nanosleep, poll, futex: clock_ns() when the wait ends (0: none)
  // An open of a FIFO waiting for the other end: its file (already counted as an end, as Linux's
  // waiting fifo_open), and the other end's opens when it began (vfs/fifo.cpp).
  File* fifo_open;
  uint64_t fifo_seen;
  uint64_t signal_mask;
  uint64_t pending_signals;  // sent to this thread (tgkill, tkill); the process's are shared
  SignalInfo pending_info[kSignals];  // index n-1: pending signal n's
  SignalQueue queued;                 // pending real-time signals, each with its siginfo
  uint64_t suspend_mask;              // rt_sigsuspend: the mask to restore after the handler
  bool in_suspend;
  bool interrupted;  // a signal ended the blocked call (EINTR or restart)
  // A system call waiting for something (console input, a child, a pipe, a futex): its
  // registers and the Reply that answers it.
  bool blocked;
  bool entered;  // the blocked call was dispatched once (not held unserved while stopped)
  WaitReason wait_reason;
  // What the call had seen when it blocked: child_events() for kChildren, trace_events() (read
  // before the call asked the trace server anything) for kTrace.
  uint64_t wait_mark;
  uint64_t reply;
  abi::UserRegisters saved;
  // futex: the word it waits on (in the process's memory) and the FUTEX_WAIT_BITSET bits.
  bool futex_waiting;
  bool futex_woken;
  uint64_t futex_address;
  uint32_t futex_bitset;
  uint64_t futex_order;  // when it began waiting (wakes go in this order, as Linux's queue)
  // Suspended by the server (signal/interrupt.cpp) because its process is stopped (while it
  // ran in user mode, or as its call was answered): resumed at SIGCONT.
  bool parked;
  bool parked_answer;  // it was parked instead of answered: it starts with `saved`
  // sigaltstack: where SA_ONSTACK handlers run (flags 2, SS_DISABLE, when none).
  uint64_t altstack_sp;
  uint64_t altstack_size;
  int32_t altstack_flags;
  // vfork, clone(CLONE_VFORK): the child whose exec or end this thread's call waits for (0:
  // none). The wait is killable only: other signals wait for its end (Linux's TASK_KILLABLE).
  int vfork_child;
  // Its page faults and blocking calls, and the CPU time of its earlier TCBs (an exec gives
  // it a new one); thread_usage adds its TCB's.
  TaskUsage usage;
  Thread* next;  // the next thread of the same process
};

struct Process {
  int pid, ppid, pgid, sid;
  ProcessState state;
  int wait_status;     // Linux's wait status word, once a zombie
  Thread* threads;     // its live threads (none once a zombie)
  uint64_t fault_cap;  // the endpoint cap badged with the pid (its leader's, its Breakpoints')
  mm::AddressSpace* memory;
  FdTable* files;
  Inode* cwd;
  Inode* exe;  // the executable's file (/proc/<pid>/exe)
  uint32_t umask;
  // Its user and group ids (Linux keeps them per thread; glibc and musl set every thread's
  // alike, so one set per process is what their programs see). Inherited at fork, changed by
  // execve of a set-user-ID or set-group-ID file.
  Credentials credentials;
  // Linux's dumpable flag (suid_dumpable 0): cleared when the effective or file system ids
  // change, set again by prctl(PR_SET_DUMPABLE) or an execve that keeps the real ids; while
  // clear, /proc/<pid> belongs to root.
  bool dumpable;
  int nice;                 // setpriority(PRIO_PROCESS): -20..19, inherited at fork
  uint64_t alarm_deadline;  // alarm(): clock_ns() when SIGALRM is due (0: none; kept by execve)
  uint64_t alarm_interval;  // setitimer(ITIMER_REAL)'s it_interval in ns (0: once)
  SigAction actions[kSignals + 1];
  uint64_t pending_signals;           // bit n-1: signal n (sent to the process) waits for a thread
  SignalInfo pending_info[kSignals];  // index n-1: pending (or held: stopped) signal n's
  SignalQueue queued;                 // pending real-time signals, each with its siginfo
  // Job control: a stopped process's threads are suspended and its system calls wait (are not
  // served) until SIGCONT.
  // What wait4 has still to report: the stop signal (WUNTRACED), a continue (WCONTINUED).
  bool stopped;
  uint64_t held_signals;  // sent while stopped (SIGKILL aside): they act at SIGCONT, as Linux's
  int stop_report;
  bool continue_report;
  char comm[16];
  char cmdline[512];  // argv, NUL-separated, as /proc/<pid>/cmdline shows it
  size_t cmdline_length;
  uint64_t start_ns;  // when it was made (clock_ns), for /proc/<pid>/stat
  // CPU time (usage.hpp): of its threads that ended, and of its children that it reaped
  // (with theirs: Linux's cutime and cstime).
  TaskUsage ended_threads_usage;
  TaskUsage children_usage;
  // The high-water mark of the memory it had before (Linux's signal->maxrss): the largest
  // resident set of the address spaces it left (an exec's old one, in pages).
  uint64_t max_rss_pages;
  // Its resource limits (getrlimit's {soft, hard} by RLIMIT_*): init's are Linux's boot
  // defaults (kernel/sys.cpp), a child's its parent's at fork, kept across exec.
  struct RLimit {
    uint64_t current, maximum;
  };
  static constexpr int kLimits = 16;
  RLimit limits[kLimits];
  bool executed;  // an execve succeeded since the fork (Linux's PF_FORKNOEXEC cleared)
  // The thread (tid) whose vfork waits for this process to exec or end (Linux's vfork_done);
  // 0 when none, or once released.
  int vfork_waiter;
  // Its memory is the parent's (clone(CLONE_VM) without CLONE_THREAD), until it execs: no
  // uprobes are armed for it (their int3s would go into the parent's code).
  bool borrowed_memory;
  // A capability check passed for it since the fork (Linux's PF_SUPERPRIV: capable() sets it,
  // fork clears it, execve keeps it): bpf()'s (CAP_BPF), perf_event_open's (CAP_PERFMON) and
  // those of posix::capable (below); the file and id rules' own checks do not count (GAP).
  bool used_privilege;
  // What tracing programs read as Linux's (kernel/task_struct.hpp): its task_struct, and the
  // mm_struct the task_struct points to while it has an address space.
  struct task_struct linux_task;
  struct mm_struct linux_mm;
  // What its mappings map (/proc/<pid>/maps).
  mm::FileMaps file_maps;
  struct ProcessUprobes* uprobes;  // its armed uprobes (tracing/uprobes.hpp), or nullptr
  Process* next;
};

// The signals `thread` may take now: its own and its process's, less its mask.
inline uint64_t deliverable_signals(const Thread* thread) {
  return (thread->pending_signals | thread->process->pending_signals) & ~thread->signal_mask;
}

// The context one system call runs in.
struct SyscallContext {
  Process* process;
  Thread* thread;                // the thread that made the call
  abi::UserRegisters registers;  // as the thread left them; handlers may change them
  bool replace_registers;        // reply with all of `registers` (execve, arch_prctl)
  // A blocked call tried again (wake_blocked): Linux enters a system call once, however long
  // it sleeps, so its sys_enter tracepoint does not fire again.
  bool retried = false;
  // Set by a handler that returns kDeferred: what the call waits for (kAny unless it knows).
  WaitReason wait = WaitReason::kAny;
  uint64_t arg(int i) const {
    switch (i) {
      case 0: return registers.rdi;
      case 1: return registers.rsi;
      case 2: return registers.rdx;
      case 3: return registers.r10;
      case 4: return registers.r8;
      default: return registers.r9;
    }
  }
};

// Results of a handler that are not a value for rax.
inline constexpr int64_t kDeferred = INT64_MIN;     // answered later (the thread waits)
inline constexpr int64_t kNoReply = INT64_MIN + 1;  // the thread is gone (exit, execve's old)

// The server's resources processes are made from.
struct TaskResources {
  uint64_t endpoint;     // where every process thread faults to (badge = tid)
  uint64_t empty_cnode;  // the CSpace of Linux threads: they hold no caps
};
void init_tasks(const TaskResources& resources, FileTree& tree);
FileTree& file_tree();
// Process::exe becomes `file` (or nullptr), which it holds (Inode::holds) while it runs it.
void set_exe(Process* process, Inode* file);
// Process::cwd becomes `directory` (or nullptr), which it holds.
void set_cwd(Process* process, Inode* directory);

Process* find_process(int pid);
// Linux's capable() for the process a system call serves: Credentials::capable on its ids
// (through cap_capable), and a check that passes marks it (PF_SUPERPRIV).
bool capable(Process& process, int cap);
// The live thread with id `tid` (of any process), or nullptr.
Thread* find_thread(int tid);
// The process whose system call runs now (Linux's `current`).
extern Process* current;
Process* first_process();
// Linux's boot-time resource limits, init's (kernel/sys.cpp).
void default_limits(Process::RLimit (&limits)[Process::kLimits]);
// The pid given out last (/proc/loadavg's last field).
int last_pid();

// Makes a process running `path` with `argv`/`envp` (host-side arrays), as the first one.
rt::Result<Process*> spawn_init(const char* path, const char* const* argv, const char* const* envp);

// Ends `process` with wait status `status` (exit code << 8, or the signal number).
void finish_process(Process* process, int status);

// Job control (task/process_group.cpp). A process group is orphaned when no live member has a
// parent in another group of the same session: its members' SIGTSTP, SIGTTIN and SIGTTOU with
// the default action are discarded.
bool process_group_orphaned(int pgid);
// The groups an exit of `process` may leave orphaned (before it, while its parent and children
// are still linked): its own, when its parent is in another group of its session, and each of
// its children's that is another group of its session.
struct OrphanCandidates {
  static constexpr int kMax = 32;
  int groups[kMax];
  int count = 0;
};
OrphanCandidates groups_linked_through(const Process* process);
// After the exit: each of those groups that is orphaned now and has a stopped member gets
// SIGHUP, then SIGCONT (POSIX; Linux's kill_orphaned_pgrp).
void hang_up_orphaned_groups(const OrphanCandidates& candidates);

// fork: a copy of `parent` whose one thread is a copy of `thread` (with `registers`). With
// `share_memory` (clone(CLONE_VM) without CLONE_THREAD: vfork, posix_spawn) the child uses the
// parent's address space itself, not a copy-on-write copy, until it execs or exits.
rt::Result<Process*> fork_process(Process* parent, const Thread* thread,
                                  const abi::UserRegisters& registers, bool share_memory = false,
                                  uint64_t clone_flags = 0);
// The process stops using its address space (exit, exec, a failed fork); the last user
// destroys it.
void release_memory(Process* process);
// The process exec'd or ended: the vfork that waits for it (its parent's thread) may return.
void release_vfork_waiter(Process* process);
// clone(CLONE_THREAD): a new thread of `process` in its VSpace, started with `registers`, with
// `from`'s signal mask.
rt::Result<Thread*> clone_thread(Process* process, const Thread* from,
                                 const abi::UserRegisters& registers, uint64_t clone_flags = 0);
// A new TCB for `thread` in its process's current VSpace, started with `registers`; the old
// one goes (execve).
rt::Result<void> start_thread(Thread* thread, const abi::UserRegisters& registers);
// Tells the kernel who the process's threads are to Linux tracing (tid, pid, comm, its
// task_struct): its scheduling tracepoints report them. After a start, an exec or a rename.
void publish_trace_identity(Process* process);
// execve: every thread of the process but `survivor` ends; `survivor` becomes the leader
// (its tid the pid, its cap the process's).
void exec_kill_other_threads(Thread* survivor);
// exit(2) of one thread: its clear_child_tid is zeroed and woken; the last one ends the
// process with `status`.
void exit_thread(Thread* thread, int status);
// Frees a zombie whose status was collected.
void reap_process(Process* zombie);
// kill(2)'s work (signal/signal.cpp). `code` is the si_code
// (SI_USER for kill), `group` whether it goes to the whole process (signal_generate shows both).
int64_t send_signal(Process* from, int64_t pid, int signal, int code = 0, bool group = true);
// Sends `signal` to one process from the server itself (SIGCHLD, SIGALRM), si_code `code`
// (SI_KERNEL unless told).
void raise_signal(Process* target, int signal, int code = 0x80);
void raise_signal(Process* target, int signal, const SignalInfo& info);
// tgkill and tkill: `signal` to one thread (tgid 0: any process).
int64_t send_thread_signal(Process* from, int tgid, int tid, int signal,
                           const SignalInfo* info = nullptr);
// rt_sigqueueinfo's work: `signal` with the caller's `info` to process `pid`.
int64_t queue_signal(Process* from, int64_t pid, int signal, const SignalInfo& info);
// ^C, ^\ and ^Z from the console go to the foreground process group.
void console_signal(int signal);
// Before a system call returns: runs a pending signal's handler (Linux's frame on the user
// stack; `result` is what rax would have held). Returns the new result.
int64_t deliver_signals(SyscallContext& context, int64_t result);

// The next signal `thread` takes (its own first, then its process's), removed from what is
// pending; 0 when none may be taken.
int take_signal(Thread* thread, SignalInfo* info = nullptr);
// Whether `signal`'s action in `process` is a handler (not SIG_DFL or SIG_IGN).
bool signal_has_handler(const Process* process, int signal);
// Writes Linux's signal frame for `signal`'s handler over `registers` (the interrupted state,
// rax as it returns) on the thread's stack, saves and resets its FPU state, sets its mask, and
// turns `registers` into the handler's entry. False when the frame cannot be written (the
// caller ends the process with SIGSEGV, as Linux).
// A fault's signal: si_code and si_addr.
struct FaultSignal {
  int32_t code = 0;
  uint64_t address = 0;
};
bool setup_signal_frame(Thread* thread, int signal, abi::UserRegisters& registers,
                        const FaultSignal* fault = nullptr, const SignalInfo* info = nullptr);
// A page fault's or exception's signal to `thread`, stopped by it with `registers`: true when
// its handler is to run (the frame written, `registers` the handler's entry, as after
// setup_signal_frame); false when the signal is blocked or has no handler, or the frame cannot
// be written: the caller ends the process with it, as Linux's force_sig_fault.
bool deliver_fault_signal(Thread* thread, int signal, const FaultSignal& fault,
                          abi::UserRegisters& registers);
// Signals for threads running in user mode (signal/interrupt.cpp): after each message, every
// such thread (never one waiting for the server's answer, nor the thread `serving_tid` whose
// call is being answered) of a stopped process is suspended, those of a continued one resumed,
// and one with a signal to take is suspended and sent to its handler.
void interrupt_user_threads(int serving_tid);

// The wall clock's start from the CMOS clock (kernel/sys.cpp).
void init_wall_clock(uint64_t rtc_ports);

// Sleeps: the earliest deadline of a sleeping process, and the thread that wakes the server
// then (task/timer.cpp).
void init_timer(uint64_t endpoint, uint64_t badge);
void arm_timer();
// The kernel timer went off (the timer thread's call): the next arm_timer sets it again;
// processes whose alarm is due get SIGALRM.
void timer_expired();

// Retries the blocked system calls (after input, an exit, pipe traffic, a futex wake) that may
// go on now: each as its WaitReason allows.
void wake_blocked();
// Marks `thread` blocked in its call, which returned kDeferred with `context.wait`;
// `trace_seen` is trace_events() before the call was dispatched.
void block_thread(Thread* thread, const SyscallContext& context, uint64_t trace_seen);
// Counts changes of children's states (an end, a stop, a continue, a reaping, a new parent):
// what a blocked wait4 or waitid can be waiting for.
uint64_t child_events();
void note_child_event();
// Counts what a call blocked on trace-server files alone can be waiting for: the trace server's
// wakeups (tracing/trace_wakeup.cpp) and changes of epoll interest lists (another thread's
// epoll_ctl may add a file that is ready, or one that is not the trace server's). Read before
// every system call is dispatched, so inline.
extern uint64_t trace_event_count;
inline uint64_t trace_events() { return trace_event_count; }
void note_trace_event();
// Counts what can make the console readable (input, a change of its settings).
void note_console_event();
// Counts what can let a blocked pipe read or write go on: data in or out, an end closed.
void note_pipe_event();
// Counts the threads destroyed so far: a caller compares it around a call to know cheaply
// whether the calling thread may be gone.
uint64_t threads_destroyed();

// futex (task/futex.cpp): wakes up to `count` waiters on `address` in `memory` whose bitset
// meets `bitset`; returns how many.
int futex_wake(mm::AddressSpace* memory, uint64_t address, int count, uint32_t bitset);
// A thread's futex wait ends without a wake (a signal, the thread's end).
void futex_cancel(Thread* thread);

// Defined by the system call table; the main loop runs it for every ForeignSyscall.
int64_t dispatch_syscall(SyscallContext& context);
bool syscall_wakes_nobody(uint64_t number);
// A blocked call that a signal ends: its sys_exit event, with the result Linux's tracepoint
// shows for that call (the kernel-internal restart code, -ERESTARTSYS and kin, since Linux
// traces the exit before it handles the signal).
void trace_interrupted_exit(SyscallContext& context);

}  // namespace posix
