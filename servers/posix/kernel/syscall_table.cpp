// SPDX-License-Identifier: MIT
// The system call table: Linux x86-64 numbers, names, entry points (__x64_sys_*) and handlers,
// and the ENOSYS fallback.
#include "kernel/syscall_list.h"
#include "kernel/syscall_tracepoints.hpp"
#include "kernel/syscalls.hpp"
#include "tty/console.hpp"
#include "vfs/vfs.hpp"

// Linux's system call entry points, `long __x64_sys_NAME(const struct pt_regs *regs)` (what
// kprobes on system calls and libbpf's ksyscall programs attach to): each calls the server's
// handler for the call being served. regs is the caller's pt_regs while a probe is on the
// function (dispatch_syscall makes them then), else null.
#define SONDE_SYSCALL_WRAPPER(number, name)                                                      \
  extern "C" __attribute__((noinline, used)) long __x64_sys_##name(const struct pt_regs* regs) { \
    asm volatile("" : : "r"(regs) : "memory");                                                   \
    return posix::sys_##name(*posix::current_context());                                         \
  }
SONDE_SYSCALLS(SONDE_SYSCALL_WRAPPER)
#undef SONDE_SYSCALL_WRAPPER

namespace posix {

namespace {

constexpr uint64_t kExecve = 59;

using SyscallWrapper = long (*)(const struct pt_regs*);

struct SyscallEntry {
  uint16_t number;
  const char* name;
  SyscallWrapper wrapper;
};

#define SONDE_TABLE_ENTRY(number, name) {number, #name, __x64_sys_##name},
constexpr SyscallEntry kTable[] = {SONDE_SYSCALLS(SONDE_TABLE_ENTRY)};
#undef SONDE_TABLE_ENTRY

constexpr uint64_t kMaxNumber = 512;
SyscallWrapper handlers[kMaxNumber];
const char* names[kMaxNumber];
uint64_t enosys[kMaxNumber];
bool built = false;

void build() {
  for (const SyscallEntry& e : kTable) {
    handlers[e.number] = e.wrapper;
    names[e.number] = e.name;
  }
  built = true;
}

// The one place unimplemented calls go: counted per number, logged the first time.
int64_t not_implemented(SyscallContext& c, uint64_t number) {
  uint64_t index = number < kMaxNumber ? number : kMaxNumber - 1;
  if (enosys[index]++ == 0) {
    tty::log("posix: pid %d (%s): system call %lu is not implemented (ENOSYS)\n", c.process->pid,
             c.process->comm, number);
  }
  return -rt::kENOSYS;
}

}  // namespace

uint64_t enosys_count(uint64_t number) { return number < kMaxNumber ? enosys[number] : 0; }

// Calls that only report (an id, the time, a file's status): they change nothing another
// thread may wait for, so after one of them the blocked calls need no retry (serve() skips
// wake_blocked; the system-call benchmarks' fast path).
bool syscall_wakes_nobody(uint64_t number) {
  switch (number) {
    case 4:    // stat
    case 5:    // fstat
    case 6:    // lstat
    case 8:    // lseek
    case 21:   // access
    case 39:   // getpid
    case 63:   // uname
    case 79:   // getcwd
    case 89:   // readlink
    case 96:   // gettimeofday
    case 97:   // getrlimit
    case 100:  // times
    case 102:  // getuid
    case 104:  // getgid
    case 107:  // geteuid
    case 108:  // getegid
    case 110:  // getppid
    case 111:  // getpgrp
    case 186:  // gettid
    case 201:  // time
    case 228:  // clock_gettime
    case 262:  // newfstatat
    case 267:  // readlinkat
    case 269:  // faccessat
    case 318:  // getrandom
    case 332:  // statx
    case 439:  // faccessat2
      return true;
    default: return false;
  }
}

namespace {

// What Linux's sys_exit shows for a call a signal ended while it slept: the restart code its
// implementation returned (arch_do_signal_or_restart turns it into EINTR or a restart later).
long interrupted_result(uint64_t number) {
  constexpr long kErestartSys = -512, kErestartNoHand = -514, kErestartRestartBlock = -516;
  switch (number) {
    case 7:    // poll
    case 23:   // select
    case 34:   // pause
    case 130:  // rt_sigsuspend
    case 270:  // pselect6
    case 271:  // ppoll
      return kErestartNoHand;
    case 35:   // nanosleep
    case 230:  // clock_nanosleep
      return kErestartRestartBlock;
    case 128:  // rt_sigtimedwait
    case 232:  // epoll_wait
    case 281:  // epoll_pwait
    case 441:  // epoll_pwait2
      return -rt::kEINTR;
    default: return kErestartSys;  // read, write, wait4, futex, ...
  }
}

}  // namespace

int64_t dispatch_syscall(SyscallContext& context) {
  if (!built) build();
  uint64_t number = context.registers.rax;
  SyscallContext* outer = current_context();
  set_current_context(&context);
  // The hooks get the caller's pt_regs only while the trace server probes them.
  struct pt_regs regs;
  bool regs_made = false;
  if (!context.retried && syscall_hook_wanted(true, number)) {
    syscall_pt_regs(context.registers, regs);
    regs_made = true;
    trace_sys_enter(&regs, static_cast<long>(number));
  }
  int64_t result;
  SyscallWrapper wrapper = number < kMaxNumber ? handlers[number] : nullptr;
  if (wrapper == nullptr) {
    result = not_implemented(context, number);
  } else if (hook_armed(reinterpret_cast<const void*>(wrapper))) {
    if (!regs_made) {
      syscall_pt_regs(context.registers, regs);
      regs_made = true;
    }
    result = wrapper(&regs);
  } else {
    result = wrapper(nullptr);
  }
  // A call answered later (a blocking read) has its exit event when a retry ends it (or
  // trace_interrupted_exit when a signal does); one that never returns (exit) has none.
  bool exits = result != kDeferred && result != kNoReply;
  // A successful execve returns 0 in the new image (its thread starts with rax 0), as Linux's
  // sys_exit_execve shows; the task is already the new program.
  bool execve_returns =
      result == kNoReply && number == kExecve && context.process->state == ProcessState::kRunning;
  if ((exits || execve_returns) && syscall_hook_wanted(false, number)) {
    // Made now if the entry hook was not armed: the number is still the call's.
    if (!regs_made) {
      syscall_pt_regs(context.registers, regs);
      regs.orig_ax = number;
    }
    // A call that ends in EINTR shows Linux's restart code for it (the signal is handled after
    // the tracepoint there).
    long ret = !exits ? 0 : result == -rt::kEINTR ? interrupted_result(number) : result;
    regs.ax = static_cast<unsigned long>(ret);
    trace_sys_exit(&regs, ret, static_cast<long>(number));
  }
  set_current_context(outer);
  return result;
}

void trace_interrupted_exit(SyscallContext& context) {
  uint64_t number = context.registers.rax;
  if (!syscall_hook_wanted(false, number)) return;
  SyscallContext* outer = current_context();
  set_current_context(&context);
  struct pt_regs regs;
  syscall_pt_regs(context.registers, regs);
  long ret = interrupted_result(number);
  regs.ax = static_cast<unsigned long>(ret);
  trace_sys_exit(&regs, ret, static_cast<long>(number));
  set_current_context(outer);
}

}  // namespace posix
