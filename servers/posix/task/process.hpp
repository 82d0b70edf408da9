// SPDX-License-Identifier: MIT
// Linux processes as the server keeps them (one thread each for now), and the table of them.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/linux_types.h"
#include "mm/address_space.hpp"
#include "mm/file_maps.hpp"
#include "rt/result.hpp"
#include "sys/ipc.hpp"
#include "vfs/file.hpp"
#include "vfs/inode.hpp"

namespace posix {

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

struct Process {
  int pid, ppid, pgid, sid;
  ProcessState state;
  int wait_status;     // Linux's wait status word, once a zombie
  uint64_t tcb;        // its thread
  uint64_t fault_cap;  // the badged endpoint cap the thread faults to
  mm::AddressSpace* memory;
  FdTable* files;
  Inode* cwd;
  Inode* exe;  // the executable's file (/proc/<pid>/exe)
  uint32_t umask;
  uint64_t clear_child_tid;
  uint64_t sleep_deadline;  // nanosleep: clock_ns() when the sleep ends (0: not sleeping)
  uint64_t alarm_deadline;  // alarm(): clock_ns() when SIGALRM is due (0: none; kept by execve)
  uint64_t alarm_interval;  // setitimer(ITIMER_REAL)'s it_interval in ns (0: once)
  SigAction actions[kSignals + 1];
  uint64_t signal_mask;
  uint64_t pending_signals;  // bit n-1: signal n waits for delivery to a handler
  uint64_t suspend_mask;     // rt_sigsuspend: the mask to restore after the handler
  bool in_suspend;
  bool interrupted;  // a signal ended the blocked call (EINTR or restart)
  // Job control: a stopped process's next system call waits (is not served) until SIGCONT.
  // What wait4 has still to report: the stop signal (WUNTRACED), a continue (WCONTINUED).
  bool stopped;
  uint64_t held_signals;  // sent while stopped (SIGKILL aside): they act at SIGCONT, as Linux's
  int stop_report;
  bool continue_report;
  char comm[16];
  char cmdline[512];  // argv, NUL-separated, as /proc/<pid>/cmdline shows it
  size_t cmdline_length;
  uint64_t start_ns;  // when it was made (clock_ns), for /proc/<pid>/stat
  bool executed;      // an execve succeeded since the fork (Linux's PF_FORKNOEXEC cleared)
  // What tracing programs read as Linux's (kernel/task_struct.hpp): its task_struct, and the
  // mm_struct the task_struct points to while it has an address space.
  struct task_struct linux_task;
  struct mm_struct linux_mm;
  // What its mappings map (/proc/<pid>/maps).
  mm::FileMaps file_maps;
  // A system call waiting for something (console input, a child, a pipe): its registers
  // and the Reply that answers it.
  bool blocked;
  uint64_t reply;
  abi::UserRegisters saved;
  struct ProcessUprobes* uprobes;  // its armed uprobes (tracing/uprobes.hpp), or nullptr
  Process* next;
};

// The context one system call runs in.
struct SyscallContext {
  Process* process;
  abi::UserRegisters registers;  // as the thread left them; handlers may change them
  bool replace_registers;        // reply with all of `registers` (execve, arch_prctl)
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
  uint64_t endpoint;     // where every process thread faults to (badge = pid)
  uint64_t empty_cnode;  // the CSpace of Linux threads: they hold no caps
};
void init_tasks(const TaskResources& resources, FileTree& tree);
FileTree& file_tree();

Process* find_process(int pid);
// The process whose system call runs now (Linux's `current`).
extern Process* current;
Process* first_process();

// Makes a process running `path` with `argv`/`envp` (host-side arrays), as the first one.
rt::Result<Process*> spawn_init(const char* path, const char* const* argv, const char* const* envp);

// Ends `process` with wait status `status` (exit code << 8, or the signal number).
void finish_process(Process* process, int status);

rt::Result<Process*> fork_process(Process* parent, const abi::UserRegisters& registers);
// A new thread for `process` in its current VSpace, started with `registers`; the old one goes.
rt::Result<void> start_thread(Process* process, const abi::UserRegisters& registers);
// Frees a zombie whose status was collected.
void reap_process(Process* zombie);
// kill(2)'s work: default actions only for now (signal/signal.cpp). `code` is the si_code
// (SI_USER for kill, SI_TKILL for tkill and tgkill), `group` whether it goes to the whole
// process (signal_generate shows both).
int64_t send_signal(Process* from, int64_t pid, int signal, int code = 0, bool group = true);
// Sends `signal` to one process from the server itself (SIGCHLD, SIGALRM), si_code `code`
// (SI_KERNEL unless told).
void raise_signal(Process* target, int signal, int code = 0x80);
// ^C, ^\ and ^Z from the console go to the foreground process group.
void console_signal(int signal);
// Before a system call returns: runs a pending signal's handler (Linux's frame on the user
// stack; `result` is what rax would have held). Returns the new result.
int64_t deliver_signals(SyscallContext& context, int64_t result);

// The wall clock's start from the CMOS clock (kernel/sys.cpp).
void init_wall_clock(uint64_t rtc_ports);

// Sleeps: the earliest deadline of a sleeping process, and the thread that wakes the server
// then (task/timer.cpp).
void init_timer(uint64_t endpoint, uint64_t badge);
void arm_timer();
// The kernel timer went off (the timer thread's call): the next arm_timer sets it again;
// processes whose alarm is due get SIGALRM.
void timer_expired();

// Retries every blocked system call (after input, an exit, pipe traffic).
void wake_blocked();

// Defined by the system call table; the main loop runs it for every ForeignSyscall.
int64_t dispatch_syscall(SyscallContext& context);

}  // namespace posix
