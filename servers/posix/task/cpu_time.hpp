// SPDX-License-Identifier: MIT
// CPU time of Linux tasks: what the kernel counts per thread (TCB ReadCpuTime) summed per thread,
// process and reaped children, and split into user and system time as Linux's cputime_adjust
// splits it: the scheduler's exact nanoseconds, in the ratio of the timer ticks that found the
// task running itself (user) or served by the servers (system).
#pragma once

#include <stdint.h>

namespace posix {

struct CpuTime {
  uint64_t ns = 0;  // on a CPU as the task (running, or in a system call being served)
  uint64_t user_ticks = 0;
  uint64_t system_ticks = 0;

  CpuTime& operator+=(const CpuTime& other) {
    ns += other.ns;
    user_ticks += other.user_ticks;
    system_ticks += other.system_ticks;
    return *this;
  }
};

struct CpuSplit {
  uint64_t user_ns;
  uint64_t system_ns;
};

// cputime_adjust: no system ticks, all user; no user ticks, all system; else the ns scaled by
// the ticks' ratio: ns * system / total as quotient and remainder (no overflow while the
// ticks stay below 2^31, 248 days of CPU at 100 Hz; past that, all user).
inline CpuSplit split_cpu_time(const CpuTime& time) {
  if (time.system_ticks == 0) return {time.ns, 0};
  if (time.user_ticks == 0) return {0, time.ns};
  uint64_t total = time.user_ticks + time.system_ticks;
  if (total >= uint64_t{1} << 31) return {time.ns, 0};
  uint64_t system =
      time.ns / total * time.system_ticks + time.ns % total * time.system_ticks / total;
  return {time.ns - system, system};
}

// Clock ticks (USER_HZ, 100 a second) of `ns`, as times() and /proc/<pid>/stat count them.
inline uint64_t clock_ticks(uint64_t ns) { return ns / 10000000; }

// Linux's struct rusage on x86-64: user and system time as timevals, then 14 longs. GAP: only
// the times are counted (the memory, fault, I/O and switch counts are 0).
struct Rusage {
  int64_t utime_sec, utime_usec, stime_sec, stime_usec;
  int64_t maxrss, ixrss, idrss, isrss, minflt, majflt, nswap, inblock, oublock, msgsnd, msgrcv,
      nsignals, nvcsw, nivcsw;
};
static_assert(sizeof(Rusage) == 144);

// getrusage's and wait4's: the split times, microseconds truncated as ns_to_kernel_old_timeval.
inline Rusage rusage_of(const CpuTime& time) {
  CpuSplit split = split_cpu_time(time);
  Rusage usage{};
  usage.utime_sec = static_cast<int64_t>(split.user_ns / 1000000000);
  usage.utime_usec = static_cast<int64_t>(split.user_ns % 1000000000 / 1000);
  usage.stime_sec = static_cast<int64_t>(split.system_ns / 1000000000);
  usage.stime_usec = static_cast<int64_t>(split.system_ns % 1000000000 / 1000);
  return usage;
}

struct Process;
struct Thread;

// The thread's CPU time: its earlier TCBs' (before an exec) and its TCB's now.
CpuTime thread_cpu_time(const Thread& thread);
// The process's: its live threads' and its ended threads'.
CpuTime process_cpu_time(const Process& process);
// Before the thread's TCB goes (its end, or an exec's new TCB): what it counted is kept, in
// the process (`ended`) or in the thread (its next TCB's base).
void keep_thread_cpu_time(Thread& thread, bool ended);
// A child is reaped by its parent (wait4, waitid): its time and its reaped children's count as
// the parent's children's (Linux's cutime/cstime), what wait4's rusage reports.
CpuTime reaped_cpu_time(const Process& child);

}  // namespace posix
