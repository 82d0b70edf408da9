// SPDX-License-Identifier: MIT
// The system call table: Linux x86-64 numbers, names, entry points (__x64_sys_*) and handlers,
// and the ENOSYS fallback.
#include "kernel/syscall_tracepoints.hpp"
#include "kernel/syscalls.hpp"
#include "tty/console.hpp"
#include "vfs/vfs.hpp"

// Numbers from Linux's arch/x86/entry/syscalls/syscall_64.tbl.
#define SONDE_SYSCALLS(ENTRY)    \
  ENTRY(0, read)                 \
  ENTRY(1, write)                \
  ENTRY(2, open)                 \
  ENTRY(3, close)                \
  ENTRY(4, stat)                 \
  ENTRY(5, fstat)                \
  ENTRY(6, lstat)                \
  ENTRY(7, poll)                 \
  ENTRY(8, lseek)                \
  ENTRY(9, mmap)                 \
  ENTRY(10, mprotect)            \
  ENTRY(11, munmap)              \
  ENTRY(12, brk)                 \
  ENTRY(13, rt_sigaction)        \
  ENTRY(14, rt_sigprocmask)      \
  ENTRY(15, rt_sigreturn)        \
  ENTRY(16, ioctl)               \
  ENTRY(17, pread64)             \
  ENTRY(18, pwrite64)            \
  ENTRY(19, readv)               \
  ENTRY(20, writev)              \
  ENTRY(21, access)              \
  ENTRY(22, pipe)                \
  ENTRY(23, select)              \
  ENTRY(24, sched_yield)         \
  ENTRY(25, mremap)              \
  ENTRY(26, msync)               \
  ENTRY(28, madvise)             \
  ENTRY(32, dup)                 \
  ENTRY(33, dup2)                \
  ENTRY(34, pause)               \
  ENTRY(35, nanosleep)           \
  ENTRY(36, getitimer)           \
  ENTRY(37, alarm)               \
  ENTRY(38, setitimer)           \
  ENTRY(39, getpid)              \
  ENTRY(40, sendfile)            \
  ENTRY(56, clone)               \
  ENTRY(57, fork)                \
  ENTRY(58, vfork)               \
  ENTRY(59, execve)              \
  ENTRY(60, exit)                \
  ENTRY(61, wait4)               \
  ENTRY(62, kill)                \
  ENTRY(63, uname)               \
  ENTRY(72, fcntl)               \
  ENTRY(74, fsync)               \
  ENTRY(75, fdatasync)           \
  ENTRY(76, truncate)            \
  ENTRY(77, ftruncate)           \
  ENTRY(79, getcwd)              \
  ENTRY(80, chdir)               \
  ENTRY(81, fchdir)              \
  ENTRY(82, rename)              \
  ENTRY(83, mkdir)               \
  ENTRY(84, rmdir)               \
  ENTRY(85, creat)               \
  ENTRY(86, link)                \
  ENTRY(87, unlink)              \
  ENTRY(88, symlink)             \
  ENTRY(89, readlink)            \
  ENTRY(90, chmod)               \
  ENTRY(91, fchmod)              \
  ENTRY(92, chown)               \
  ENTRY(93, fchown)              \
  ENTRY(94, lchown)              \
  ENTRY(95, umask)               \
  ENTRY(96, gettimeofday)        \
  ENTRY(97, getrlimit)           \
  ENTRY(98, getrusage)           \
  ENTRY(99, sysinfo)             \
  ENTRY(100, times)              \
  ENTRY(102, getuid)             \
  ENTRY(104, getgid)             \
  ENTRY(105, setuid)             \
  ENTRY(106, setgid)             \
  ENTRY(107, geteuid)            \
  ENTRY(108, getegid)            \
  ENTRY(109, setpgid)            \
  ENTRY(110, getppid)            \
  ENTRY(111, getpgrp)            \
  ENTRY(112, setsid)             \
  ENTRY(113, setreuid)           \
  ENTRY(114, setregid)           \
  ENTRY(115, getgroups)          \
  ENTRY(116, setgroups)          \
  ENTRY(117, setresuid)          \
  ENTRY(118, getresuid)          \
  ENTRY(119, setresgid)          \
  ENTRY(120, getresgid)          \
  ENTRY(121, getpgid)            \
  ENTRY(122, setfsuid)           \
  ENTRY(123, setfsgid)           \
  ENTRY(124, getsid)             \
  ENTRY(125, capget)             \
  ENTRY(127, rt_sigpending)      \
  ENTRY(130, rt_sigsuspend)      \
  ENTRY(131, sigaltstack)        \
  ENTRY(140, getpriority)        \
  ENTRY(141, setpriority)        \
  ENTRY(143, sched_getparam)     \
  ENTRY(145, sched_getscheduler) \
  ENTRY(157, prctl)              \
  ENTRY(133, mknod)              \
  ENTRY(137, statfs)             \
  ENTRY(138, fstatfs)            \
  ENTRY(158, arch_prctl)         \
  ENTRY(160, setrlimit)          \
  ENTRY(162, sync)               \
  ENTRY(165, mount)              \
  ENTRY(166, umount2)            \
  ENTRY(169, reboot)             \
  ENTRY(170, sethostname)        \
  ENTRY(186, gettid)             \
  ENTRY(200, tkill)              \
  ENTRY(201, time)               \
  ENTRY(202, futex)              \
  ENTRY(203, sched_setaffinity)  \
  ENTRY(204, sched_getaffinity)  \
  ENTRY(213, epoll_create)       \
  ENTRY(217, getdents64)         \
  ENTRY(218, set_tid_address)    \
  ENTRY(221, fadvise64)          \
  ENTRY(228, clock_gettime)      \
  ENTRY(229, clock_getres)       \
  ENTRY(230, clock_nanosleep)    \
  ENTRY(231, exit_group)         \
  ENTRY(232, epoll_wait)         \
  ENTRY(233, epoll_ctl)          \
  ENTRY(234, tgkill)             \
  ENTRY(235, utimes)             \
  ENTRY(257, openat)             \
  ENTRY(258, mkdirat)            \
  ENTRY(259, mknodat)            \
  ENTRY(260, fchownat)           \
  ENTRY(262, newfstatat)         \
  ENTRY(263, unlinkat)           \
  ENTRY(264, renameat)           \
  ENTRY(265, linkat)             \
  ENTRY(266, symlinkat)          \
  ENTRY(267, readlinkat)         \
  ENTRY(268, fchmodat)           \
  ENTRY(269, faccessat)          \
  ENTRY(270, pselect6)           \
  ENTRY(271, ppoll)              \
  ENTRY(273, set_robust_list)    \
  ENTRY(280, utimensat)          \
  ENTRY(281, epoll_pwait)        \
  ENTRY(291, epoll_create1)      \
  ENTRY(292, dup3)               \
  ENTRY(293, pipe2)              \
  ENTRY(298, perf_event_open)    \
  ENTRY(302, prlimit64)          \
  ENTRY(306, syncfs)             \
  ENTRY(309, getcpu)             \
  ENTRY(316, renameat2)          \
  ENTRY(318, getrandom)          \
  ENTRY(321, bpf)                \
  ENTRY(332, statx)              \
  ENTRY(435, clone3)             \
  ENTRY(436, close_range)        \
  ENTRY(439, faccessat2)         \
  ENTRY(441, epoll_pwait2)

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

int64_t dispatch_syscall(SyscallContext& context) {
  if (!built) build();
  uint64_t number = context.registers.rax;
  SyscallContext* outer = current_context();
  set_current_context(&context);
  // The hooks get the caller's pt_regs only while the trace server probes them.
  struct pt_regs regs;
  bool regs_made = false;
  if (!context.retried && hook_armed(reinterpret_cast<const void*>(&trace_sys_enter))) {
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
  // A call answered later (a blocking read) or never (exit) has no exit event here yet.
  // GAP: sys_exit for deferred calls when they complete.
  bool exits = result != kDeferred && result != kNoReply;
  // A successful execve returns 0 in the new image (its thread starts with rax 0), as Linux's
  // sys_exit_execve shows; the task is already the new program.
  bool execve_returns =
      result == kNoReply && number == kExecve && context.process->state == ProcessState::kRunning;
  if ((exits || execve_returns) && hook_armed(reinterpret_cast<const void*>(&trace_sys_exit))) {
    // Made now if the entry hook was not armed: the number is still the call's.
    if (!regs_made) {
      syscall_pt_regs(context.registers, regs);
      regs.orig_ax = number;
    }
    long ret = exits ? result : 0;
    regs.ax = static_cast<unsigned long>(ret);
    trace_sys_exit(&regs, ret, static_cast<long>(number));
  }
  set_current_context(outer);
  return result;
}

}  // namespace posix
