// SPDX-License-Identifier: MIT
// What Linux tasks used, as getrusage, times and /proc/<pid>/stat report it, summed per thread,
// process and reaped children: CPU time from the kernel's per-thread counts (TCB ReadCpuTime),
// split into user and system time as Linux's cputime_adjust splits it (the scheduler's exact
// nanoseconds, in the ratio of the timer ticks that found the task running itself or served
// by the servers), and the server's own counts of page faults and blocking waits.
#pragma once

#include <stdint.h>

namespace posix {

struct TaskUsage {
  uint64_t ns = 0;  // on a CPU as the task (running, or in a system call being served)
  uint64_t user_ticks = 0;
  uint64_t system_ticks = 0;
  // Page faults the server resolved (all minor: every file is in memory, as in Linux's page
  // cache; Linux's major faults read from a disk), and system calls that blocked (voluntary
  // context switches: the task slept).
  uint64_t minor_faults = 0;
  uint64_t voluntary_switches = 0;
  // ru_maxrss in KiB: the largest resident set (a sum takes the larger, as Linux's cmaxrss
  // keeps the largest child's).
  uint64_t max_rss_kb = 0;

  TaskUsage& operator+=(const TaskUsage& other) {
    ns += other.ns;
    user_ticks += other.user_ticks;
    system_ticks += other.system_ticks;
    minor_faults += other.minor_faults;
    voluntary_switches += other.voluntary_switches;
    if (other.max_rss_kb > max_rss_kb) max_rss_kb = other.max_rss_kb;
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
inline CpuSplit split_cpu_time(const TaskUsage& time) {
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

// Linux's struct rusage on x86-64: user and system time as timevals, then 14 longs. GAP: the
// I/O counts and involuntary switches (preemptions, which the kernel alone sees) are 0;
// maxrss, faults and voluntary switches as TaskUsage counts them.
struct Rusage {
  int64_t utime_sec, utime_usec, stime_sec, stime_usec;
  int64_t maxrss, ixrss, idrss, isrss, minflt, majflt, nswap, inblock, oublock, msgsnd, msgrcv,
      nsignals, nvcsw, nivcsw;
};
static_assert(sizeof(Rusage) == 144);

// getrusage's and wait4's: the split times, microseconds truncated as ns_to_kernel_old_timeval.
inline Rusage rusage_of(const TaskUsage& time) {
  CpuSplit split = split_cpu_time(time);
  Rusage usage{};
  usage.utime_sec = static_cast<int64_t>(split.user_ns / 1000000000);
  usage.utime_usec = static_cast<int64_t>(split.user_ns % 1000000000 / 1000);
  usage.stime_sec = static_cast<int64_t>(split.system_ns / 1000000000);
  usage.stime_usec = static_cast<int64_t>(split.system_ns % 1000000000 / 1000);
  usage.maxrss = static_cast<int64_t>(time.max_rss_kb);
  usage.minflt = static_cast<int64_t>(time.minor_faults);
  usage.nvcsw = static_cast<int64_t>(time.voluntary_switches);
  return usage;
}

struct Process;
struct Thread;

// The thread's CPU time: its earlier TCBs' (before an exec) and its TCB's now.
TaskUsage thread_usage(const Thread& thread);
// The process's: its live threads' and its ended threads', and the high-water mark of its
// memory now and before (ru_maxrss).
TaskUsage process_usage(const Process& process);
// Before the thread's TCB goes (its end, or an exec's new TCB): what it counted is kept, in
// the process (`ended`) or in the thread (its next TCB's base).
void keep_thread_usage(Thread& thread, bool ended);
// A child is reaped by its parent (wait4, waitid): its time and its reaped children's count as
// the parent's children's (Linux's cutime/cstime), what wait4's rusage reports.
TaskUsage reaped_usage(const Process& child);

// What every task has used on each CPU since boot (/proc/stat's cpu lines, /proc/uptime's idle
// time): the threads that ended, each on the CPU its TCB was bound to, and the live ones now.
// Voluntary switches of them all are /proc/stat's ctxt.
inline constexpr uint32_t kMaxStatCpus = 64;
struct CpuUse {
  uint64_t user_ns;
  uint64_t system_ns;
};
void cpu_use(CpuUse (&per_cpu)[kMaxStatCpus], uint64_t& switches);

}  // namespace posix
