// SPDX-License-Identifier: MIT
// Every system call handler the table (kernel/syscall_table.cpp) names, by area, and helpers
// they share for user memory.
#pragma once

#include <stdint.h>

#include "rt/result.hpp"
#include "task/process.hpp"

namespace posix {

using Handler = int64_t (*)(SyscallContext&);

// A Result's value for rax: the value, or minus its errno.
inline int64_t to_rax(const rt::Result<int64_t>& result) {
  return result.ok() ? result.value() : -static_cast<int64_t>(result.error().code);
}
inline int64_t to_rax(const rt::Result<void>& result) {
  return result.ok() ? 0 : -static_cast<int64_t>(result.error().code);
}

inline mm::AddressSpace& user(SyscallContext& c) { return *c.process->memory; }
// A path argument: EFAULT, ENAMETOOLONG, ENOENT (empty) as Linux.
rt::Result<void> copy_path(SyscallContext& c, uint64_t address, char (&out)[kPathMax]);

// clang-format off
#define POSIX_SYSCALLS(X) \
  X(read) X(write) X(open) X(close) X(stat) X(fstat) X(lstat) X(poll) X(lseek) X(mmap) \
  X(mprotect) X(munmap) X(brk) X(rt_sigaction) X(rt_sigprocmask) X(ioctl) X(pread64) \
  X(pwrite64) X(readv) X(writev) X(access) X(pipe) X(sched_yield) X(mremap) X(msync) X(madvise) X(dup) X(dup2) \
  X(nanosleep) X(getitimer) X(alarm) X(setitimer) X(getpid) X(clone) X(fork) X(vfork) X(execve) X(exit) X(wait4) X(kill) X(uname) \
  X(fcntl) X(ftruncate) X(getcwd) X(chdir) X(fchdir) X(rename) X(mkdir) X(rmdir) X(unlink) \
  X(symlink) X(readlink) X(chmod) X(fchmod) X(chown) X(fchown) X(lchown) X(umask) \
  X(gettimeofday) X(getrlimit) X(getrusage) X(sysinfo) X(times) X(getuid) X(getgid) X(setuid) \
  X(setgid) X(geteuid) X(getegid) X(setpgid) X(getppid) X(getpgrp) X(setsid) X(getgroups) \
  X(setgroups) X(setresuid) X(getresuid) X(setresgid) X(getresgid) X(getpgid) X(getsid) \
  X(sigaltstack) X(arch_prctl) X(setrlimit) X(sync) X(sethostname) X(gettid) X(tkill) X(time) \
  X(futex) X(getdents64) X(set_tid_address) X(clock_gettime) X(clock_getres) X(clock_nanosleep) \
  X(exit_group) X(tgkill) X(openat) X(mkdirat) X(mknod) X(mknodat) X(newfstatat) X(unlinkat) X(renameat) \
  X(symlinkat) X(readlinkat) X(fchmodat) X(faccessat) X(set_robust_list) X(dup3) X(pipe2) \
  X(prlimit64) X(getrandom) X(faccessat2) X(ppoll) X(select) X(pselect6) X(statx) X(creat) X(utimes) X(syncfs) X(fadvise64) X(getpriority) X(setpriority) X(sched_getscheduler) X(sched_getparam) X(reboot) X(sched_setaffinity) X(sched_getaffinity) X(getcpu) \
  X(capget) X(fsync) X(fdatasync) X(utimensat) X(truncate) X(statfs) X(fstatfs) X(rt_sigreturn) \
  X(rt_sigsuspend) X(renameat2) X(link) X(linkat) X(fchownat) X(close_range) X(prctl) X(mount) \
  X(umount2) X(bpf) X(perf_event_open) X(epoll_create) X(epoll_create1) X(epoll_ctl) \
  X(epoll_wait) X(epoll_pwait) X(epoll_pwait2) X(sendfile) X(clone3) \
  X(pause) X(rt_sigpending) X(rt_sigqueueinfo) X(rt_tgsigqueueinfo) X(setreuid) X(setregid) X(setfsuid) X(setfsgid) \
  X(eventfd) X(eventfd2) X(waitid) X(sync_file_range) \
  X(setxattr) X(lsetxattr) X(fsetxattr) X(getxattr) X(lgetxattr) X(fgetxattr) X(listxattr) \
  X(llistxattr) X(flistxattr) X(removexattr) X(lremovexattr) X(fremovexattr)
// clang-format on

#define POSIX_DECLARE(name) int64_t sys_##name(SyscallContext& c);
POSIX_SYSCALLS(POSIX_DECLARE)
#undef POSIX_DECLARE

// CLOCK_REALTIME in whole seconds (file times).
int64_t wall_clock_seconds();
// When a timed wait for a valid timespec `spec` ends, in clock_ns() time: `spec` from now, or
// the time `spec` on CLOCK_REALTIME or CLOCK_MONOTONIC (at least 1: 0 means no deadline).
uint64_t deadline_of(const int64_t (&spec)[2], bool absolute, bool realtime);

// The ENOSYS fallback's counts, per number (for /proc/sonde/enosys and the log).
uint64_t enosys_count(uint64_t number);

}  // namespace posix
