// SPDX-License-Identifier: MIT
// System-wide calls: uname, time (from the kernel's clock page), limits, random, reboot.
#include <string.h>

#include "kernel/random.hpp"
#include "kernel/sched_tracepoints.hpp"
#include "kernel/syscalls.hpp"
#include "kernel/task_struct.hpp"
#include "sys/clock.hpp"
#include "task/loadavg.hpp"
#include "task/replies.hpp"
#include "tracing/trace_service.hpp"

// Linux's do_nanosleep, defined at the end of this file.
extern "C" int do_nanosleep(struct hrtimer_sleeper* t, enum hrtimer_mode mode);

namespace posix {

namespace {

// The wall clock: the CMOS real-time clock read once at start, then the clock page.
int64_t boot_epoch_seconds = 1767225600;  // 2026-01-01 00:00 UTC if the RTC cannot be read
char hostname[65] = "sonde";

using RLimit = Process::RLimit;
constexpr uint64_t kInfinity = ~uint64_t{0};
// Linux's at boot (INIT_RLIMITS), init's: every process inherits them at fork.
constexpr RLimit kDefaultLimits[Process::kLimits] = {
    {kInfinity, kInfinity},
    {kInfinity, kInfinity},
    {kInfinity, kInfinity},  // cpu fsize data
    {8 << 20, kInfinity},
    {0, kInfinity},
    {kInfinity, kInfinity},  // stack core rss
    {4096, 4096},
    {1024, FdTable::kMax},  // INR_OPEN_CUR, INR_OPEN_MAX
    {8 << 20, 8 << 20},     // nproc nofile memlock
    {kInfinity, kInfinity},
    {kInfinity, kInfinity},
    {kInfinity, kInfinity},  // as locks sigpending
    {819200, 819200},
    {0, 0},
    {0, 0},                   // msgqueue nice rtprio
    {kInfinity, kInfinity}};  // rttime

constexpr uint64_t kRlimitNofile = 7;

// A hard limit of RLIMIT_NOFILE past Linux's fs.nr_open (1048576) is EPERM. GAP: a table holds
// FdTable::kMax descriptors whatever the limit says above that (EMFILE past them).
constexpr uint64_t kNrOpen = 1048576;
bool nofile_too_high(uint64_t resource, const RLimit& wanted) {
  return resource == kRlimitNofile && wanted.maximum > kNrOpen;
}

uint64_t now_ns() { return sys::clock_ns(); }

uint64_t cmos(uint64_t ports, uint64_t reg) {
  uint64_t select[] = {0x70, reg};
  (void)sys::invoke(ports, abi::Label::kIoPortsOut8, select);
  sys::MessageRegisters out;
  uint64_t port[] = {0x71};
  if (sys::invoke(ports, abi::Label::kIoPortsIn8, port, 1, &out) != abi::Error::kNone) return 0;
  return out.word[0] & 0xff;
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

}  // namespace

void init_wall_clock(uint64_t rtc_ports) {
  // Wait out an update in progress, then read; BCD unless status B says binary.
  for (int i = 0; i < 100000 && (cmos(rtc_ports, 0x0a) & 0x80) != 0; ++i) {
  }
  uint64_t second = cmos(rtc_ports, 0x00), minute = cmos(rtc_ports, 0x02);
  uint64_t hour = cmos(rtc_ports, 0x04), day = cmos(rtc_ports, 0x07);
  uint64_t month = cmos(rtc_ports, 0x08), year = cmos(rtc_ports, 0x09);
  uint64_t status_b = cmos(rtc_ports, 0x0b);
  auto bcd = [](uint64_t v) { return (v & 0x0f) + (v >> 4) * 10; };
  bool pm = (hour & 0x80) != 0;
  hour &= 0x7f;
  if ((status_b & 0x04) == 0) {
    second = bcd(second);
    minute = bcd(minute);
    hour = bcd(hour);
    day = bcd(day);
    month = bcd(month);
    year = bcd(year);
  }
  if ((status_b & 0x02) == 0 && pm) hour = (hour % 12) + 12;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return;  // no RTC: keep the fixed date
  }
  int64_t seconds = days_from_civil(2000 + static_cast<int64_t>(year), static_cast<int64_t>(month),
                                    static_cast<int64_t>(day)) *
                        86400 +
                    static_cast<int64_t>(hour * 3600 + minute * 60 + second);
  boot_epoch_seconds = seconds - static_cast<int64_t>(now_ns() / 1000000000);
}

int64_t sys_uname(SyscallContext& c) {
  char buffer[6 * 65] = {};
  const char* fields[6] = {"Linux", hostname, "6.1.0", "#1 SMP Sonde", "x86_64", "(none)"};
  for (int i = 0; i < 6; ++i) {
    size_t length = strlen(fields[i]);
    memcpy(buffer + i * 65, fields[i], length < 64 ? length : 64);
  }
  return to_rax(user(c).copy_out(c.arg(0), buffer, sizeof(buffer)));
}

int64_t sys_sethostname(SyscallContext& c) {
  if (!capable(*c.process, kCapSysAdmin)) return -rt::kEPERM;
  uint64_t length = c.arg(1);
  if (length > 64) return -rt::kEINVAL;
  char name[65] = {};
  if (auto r = user(c).copy_in(name, c.arg(0), length); !r.ok()) return -rt::kEFAULT;
  memcpy(hostname, name, sizeof(hostname));
  return 0;
}

namespace {

// The CPU-time clocks (Linux's posix-cpu-timers): CLOCK_PROCESS_CPUTIME_ID (2) and
// CLOCK_THREAD_CPUTIME_ID (3), and the clock ids clock_getcpuclockid and
// pthread_getcpuclockid make: ~pid << 3 | thread bit (4) | which (0 PROF: user + system,
// 1 VIRT: user, 2 SCHED: the scheduler's ns). pid 0 is the caller; a thread's clock is its
// thread group's only (EINVAL otherwise, as a pid that is no process).
constexpr int kCpuClockVirt = 1, kCpuClockSched = 2;  // PROF is 0

bool is_cpu_clock(int64_t clock) { return clock == 2 || clock == 3 || clock < 0; }

rt::Result<uint64_t> cpu_clock_ns(SyscallContext& c, int64_t clock) {
  if (clock == 2) return process_usage(*c.process).ns;
  if (clock == 3) return thread_usage(*c.thread).ns;
  int which = static_cast<int>(clock & 3);
  bool per_thread = (clock & 4) != 0;
  if (which == 3) return rt::err(rt::kEINVAL);  // CPUCLOCK_MAX; with the thread bit: CLOCKFD
  auto pid = static_cast<int>(~(clock >> 3));
  TaskUsage time;
  if (per_thread) {
    Thread* thread = pid == 0 ? c.thread : find_thread(pid);
    if (thread == nullptr || thread->process != c.process) return rt::err(rt::kEINVAL);
    time = thread_usage(*thread);
  } else {
    Process* process = pid == 0 ? c.process : find_process(pid);
    if (process == nullptr || process->state == ProcessState::kZombie) return rt::err(rt::kEINVAL);
    time = process_usage(*process);
  }
  if (which == kCpuClockVirt) return split_cpu_time(time).user_ns;
  return time.ns;  // SCHED, and PROF (user + system)
}

}  // namespace

int64_t sys_clock_gettime(SyscallContext& c) {
  auto clock = static_cast<int64_t>(static_cast<int32_t>(c.arg(0)));
  uint64_t ns = now_ns();
  int64_t spec[2];
  if (is_cpu_clock(clock)) {
    auto time = cpu_clock_ns(c, clock);
    if (!time.ok()) return -time.error().code;
    ns = time.value();
    spec[0] = static_cast<int64_t>(ns / 1000000000);
  } else {
    switch (clock) {
      case 0:
      case 5:
      case 11:  // REALTIME, REALTIME_COARSE, TAI
        spec[0] = boot_epoch_seconds + static_cast<int64_t>(ns / 1000000000);
        break;
      case 1:
      case 4:
      case 6:
      case 7:  // MONOTONIC*, BOOTTIME
        spec[0] = static_cast<int64_t>(ns / 1000000000);
        break;
      default: return -rt::kEINVAL;
    }
  }
  spec[1] = static_cast<int64_t>(ns % 1000000000);
  return to_rax(user(c).copy_out(c.arg(1), spec, sizeof(spec)));
}

int64_t sys_clock_getres(SyscallContext& c) {
  auto clock = static_cast<int64_t>(static_cast<int32_t>(c.arg(0)));
  int64_t spec[2] = {0, 1};
  if (is_cpu_clock(clock)) {
    // posix_cpu_clock_getres: a tick (Debian's HZ 250: 4 ms) but 1 ns for the SCHED clocks.
    if (auto valid = cpu_clock_ns(c, clock); !valid.ok()) return -valid.error().code;
    if (clock < 0 && (clock & 3) != kCpuClockSched) spec[1] = 4000000;
  } else if (clock > 11) {
    return -rt::kEINVAL;
  }
  if (c.arg(1) == 0) return 0;
  return to_rax(user(c).copy_out(c.arg(1), spec, sizeof(spec)));
}

int64_t sys_gettimeofday(SyscallContext& c) {
  uint64_t ns = now_ns();
  if (c.arg(0) != 0) {
    int64_t tv[2] = {boot_epoch_seconds + static_cast<int64_t>(ns / 1000000000),
                     static_cast<int64_t>(ns % 1000000000 / 1000)};
    if (auto r = user(c).copy_out(c.arg(0), tv, sizeof(tv)); !r.ok()) return -rt::kEFAULT;
  }
  if (c.arg(1) != 0) {
    int32_t tz[2] = {0, 0};
    if (auto r = user(c).copy_out(c.arg(1), tz, sizeof(tz)); !r.ok()) return -rt::kEFAULT;
  }
  return 0;
}

int64_t wall_clock_seconds() {
  return boot_epoch_seconds + static_cast<int64_t>(now_ns() / 1000000000);
}

int64_t sys_time(SyscallContext& c) {
  int64_t seconds = boot_epoch_seconds + static_cast<int64_t>(now_ns() / 1000000000);
  if (c.arg(0) != 0) {
    if (auto r = user(c).copy_out(c.arg(0), &seconds, 8); !r.ok()) return -rt::kEFAULT;
  }
  return seconds;
}

uint64_t deadline_of(const int64_t (&spec)[2], bool absolute, bool realtime) {
  uint64_t length = static_cast<uint64_t>(spec[0]) * 1000000000 + static_cast<uint64_t>(spec[1]);
  if (!absolute) return now_ns() + length;
  uint64_t base = realtime ? static_cast<uint64_t>(boot_epoch_seconds) * 1000000000 : 0;
  length = length > base ? length - base : 0;
  return length > 0 ? length : 1;
}

namespace {
// The call is retried when the timer fires: the sleep starts on the first try only, as Linux's
// hrtimer_nanosleep starts it, with a sleeper on the stack handed to do_nanosleep.
int64_t sleep_until(SyscallContext& c, const int64_t (&spec)[2], bool absolute, bool realtime) {
  if (spec[0] < 0 || spec[1] < 0 || spec[1] >= 1000000000) return -rt::kEINVAL;
  Thread* p = c.thread;
  if (p->sleep_deadline == 0) {
    // hrtimer_set_expires_range_ns: the request as it came (relative, or the absolute
    // deadline); do_nanosleep starts the timer, which makes a relative one absolute.
    hrtimer_sleeper sleeper = {};
    uint64_t length = static_cast<uint64_t>(spec[0]) * 1000000000 + static_cast<uint64_t>(spec[1]);
    auto expires = static_cast<ktime_t>(absolute ? deadline_of(spec, true, realtime) : length);
    sleeper.timer.node.expires = expires;
    sleeper.timer._softexpires = expires;
    sleeper.task = task_struct_of(p);
    if (do_nanosleep(&sleeper, absolute ? HRTIMER_MODE_ABS : HRTIMER_MODE_REL) != 0)
      return -rt::kEINVAL;
  }
  if (now_ns() >= p->sleep_deadline) {
    p->sleep_deadline = 0;
    return 0;
  }
  arm_timer();
  return kDeferred;
}
}  // namespace

int64_t sys_nanosleep(SyscallContext& c) {
  int64_t spec[2];
  if (auto r = user(c).copy_in(spec, c.arg(0), 16); !r.ok()) return -rt::kEFAULT;
  return sleep_until(c, spec, false, false);
}
// alarm(seconds): SIGALRM that many seconds from now (0 cancels); the seconds the previous
// alarm had left, rounded up (at least 1 while one was pending), as Linux.
int64_t sys_alarm(SyscallContext& c) {
  Process* p = c.process;
  uint64_t now = sys::clock_ns();
  uint64_t left = 0;
  if (p->alarm_deadline > now) left = (p->alarm_deadline - now + 999999999) / 1000000000;
  if (p->alarm_deadline != 0 && left == 0) left = 1;
  uint64_t seconds = static_cast<uint32_t>(c.arg(0));
  p->alarm_deadline = seconds == 0 ? 0 : now + seconds * 1000000000;
  p->alarm_interval = 0;
  arm_timer();
  return static_cast<int64_t>(left);
}

// setitimer/getitimer for ITIMER_REAL (the timer alarm() also sets; musl's alarm() is
// setitimer). struct itimerval: {interval {sec, usec}, value {sec, usec}}.
// GAP: ITIMER_VIRTUAL and ITIMER_PROF (CPU-time timers) are EINVAL: no per-process CPU time yet.
namespace {
void current_itimer(const Process* p, int64_t out[4]) {
  uint64_t now = sys::clock_ns();
  uint64_t left = p->alarm_deadline > now ? p->alarm_deadline - now : 0;
  if (p->alarm_deadline != 0 && left == 0) left = 1000;  // due: at least a microsecond
  out[0] = static_cast<int64_t>(p->alarm_interval / 1000000000);
  out[1] = static_cast<int64_t>(p->alarm_interval % 1000000000 / 1000);
  out[2] = static_cast<int64_t>(left / 1000000000);
  out[3] = static_cast<int64_t>((left % 1000000000 + 999) / 1000);
}
}  // namespace

int64_t sys_getitimer(SyscallContext& c) {
  if (c.arg(0) != 0) return -rt::kEINVAL;
  int64_t value[4];
  current_itimer(c.process, value);
  return to_rax(user(c).copy_out(c.arg(1), value, sizeof(value)));
}

int64_t sys_setitimer(SyscallContext& c) {
  if (c.arg(0) != 0) return -rt::kEINVAL;
  int64_t value[4] = {};
  if (c.arg(1) != 0 && !user(c).copy_in(value, c.arg(1), sizeof(value)).ok()) return -rt::kEFAULT;
  for (int i = 0; i < 4; ++i) {
    if (value[i] < 0 || ((i & 1) != 0 && value[i] >= 1000000)) return -rt::kEINVAL;
  }
  if (c.arg(2) != 0) {
    int64_t old[4];
    current_itimer(c.process, old);
    if (!user(c).copy_out(c.arg(2), old, sizeof(old)).ok()) return -rt::kEFAULT;
  }
  uint64_t due =
      static_cast<uint64_t>(value[2]) * 1000000000 + static_cast<uint64_t>(value[3]) * 1000;
  c.process->alarm_deadline = due == 0 ? 0 : sys::clock_ns() + due;
  c.process->alarm_interval = due == 0 ? 0
                                       : static_cast<uint64_t>(value[0]) * 1000000000 +
                                             static_cast<uint64_t>(value[1]) * 1000;
  arm_timer();
  return 0;
}

int64_t sys_clock_nanosleep(SyscallContext& c) {
  int64_t spec[2];
  constexpr uint64_t kAbsolute = 1;
  uint64_t clock = c.arg(0);
  if (clock > 11 || clock == 2 || clock == 3) return -rt::kEINVAL;
  if ((c.arg(1) & ~kAbsolute) != 0) return -rt::kEINVAL;
  if (auto r = user(c).copy_in(spec, c.arg(2), 16); !r.ok()) return -rt::kEFAULT;
  return sleep_until(c, spec, (c.arg(1) & kAbsolute) != 0, clock == 0 || clock == 5 || clock == 11);
}

int64_t sys_prctl(SyscallContext& c) {
  constexpr uint64_t kSetName = 15, kGetName = 16, kCapBsetRead = 23;
  constexpr uint64_t kGetDumpable = 3, kSetDumpable = 4;
  switch (c.arg(0)) {
    case kGetDumpable: return c.process->dumpable ? 1 : 0;
    case kSetDumpable:
      if (c.arg(1) > 1) return -rt::kEINVAL;  // SUID_DUMP_ROOT (2) is not for prctl
      c.process->dumpable = c.arg(1) == 1;
      return 0;
    case kCapBsetRead:  // every capability up to CAP_LAST_CAP is in the bounding set
      return c.arg(1) <= static_cast<uint64_t>(kCapLastCap) ? 1 : -rt::kEINVAL;
    case kSetName: {
      char name[16] = {};
      auto copied = user(c).copy_string(name, c.arg(1), sizeof(name));
      if (!copied.ok() && copied.error().code != rt::kENAMETOOLONG) return -rt::kEFAULT;
      name[15] = '\0';
      rename_task(*c.process, c.thread, name, false);
      update_task_struct(*c.process);
      publish_trace_identity(c.process);
      // Tracing sees the new name at once, as Linux's current->comm.
      if (published_current_task() == c.process) publish_current_task(c.process);
      return 0;
    }
    case kGetName:
      return to_rax(user(c).copy_out(c.arg(1), c.process->comm, sizeof(c.process->comm)));
    default: return -rt::kEINVAL;  // GAP: other prctl options
  }
}

int64_t sys_getrandom(SyscallContext& c) {
  uint64_t length = c.arg(1);
  if ((c.arg(2) & ~uint64_t{7}) != 0) return -rt::kEINVAL;
  if (length > (32u << 20)) length = 32u << 20;
  uint8_t bytes[256];
  for (uint64_t done = 0; done < length;) {
    uint64_t n = length - done < sizeof(bytes) ? length - done : sizeof(bytes);
    fill_random(bytes, n);
    if (auto r = user(c).copy_out(c.arg(0) + done, bytes, n); !r.ok()) return -rt::kEFAULT;
    done += n;
  }
  return static_cast<int64_t>(length);
}

void default_limits(RLimit (&limits)[Process::kLimits]) {
  for (int i = 0; i < Process::kLimits; ++i) limits[i] = kDefaultLimits[i];
}

// prlimit64(pid, resource, new, old): the limits of process `pid` (0: the caller's). GAP: only
// RLIMIT_NOFILE and RLIMIT_NICE are enforced; another user's process is not refused (Linux
// wants its ids to match, or CAP_SYS_RESOURCE).
int64_t sys_prlimit64(SyscallContext& c) {
  uint64_t resource = c.arg(1);
  if (resource >= Process::kLimits) return -rt::kEINVAL;
  Process* target = c.arg(0) != 0 ? find_process(static_cast<int>(c.arg(0))) : c.process;
  if (target == nullptr) return -rt::kESRCH;
  RLimit old = target->limits[resource];
  if (c.arg(2) != 0) {
    RLimit wanted;
    if (auto r = user(c).copy_in(&wanted, c.arg(2), sizeof(wanted)); !r.ok()) return -rt::kEFAULT;
    if (wanted.current > wanted.maximum) return -rt::kEINVAL;
    // CAP_SYS_RESOURCE to raise a hard limit.
    if (wanted.maximum > old.maximum && !capable(*c.process, kCapSysResource)) return -rt::kEPERM;
    if (nofile_too_high(resource, wanted)) return -rt::kEPERM;
    target->limits[resource] = wanted;
  }
  if (c.arg(3) != 0) {
    if (auto r = user(c).copy_out(c.arg(3), &old, sizeof(old)); !r.ok()) return -rt::kEFAULT;
  }
  return 0;
}
int nofile_limit() {
  // The process the call serves (Linux's rlimit(RLIMIT_NOFILE) of current).
  uint64_t current = posix::current != nullptr ? posix::current->limits[kRlimitNofile].current
                                               : kDefaultLimits[kRlimitNofile].current;
  return current < static_cast<uint64_t>(FdTable::kMax) ? static_cast<int>(current) : FdTable::kMax;
}

int64_t sys_getrlimit(SyscallContext& c) {
  if (c.arg(0) >= Process::kLimits) return -rt::kEINVAL;
  return to_rax(user(c).copy_out(c.arg(1), &c.process->limits[c.arg(0)], sizeof(RLimit)));
}
int64_t sys_setrlimit(SyscallContext& c) {
  if (c.arg(0) >= Process::kLimits) return -rt::kEINVAL;
  RLimit wanted;
  if (auto r = user(c).copy_in(&wanted, c.arg(1), sizeof(wanted)); !r.ok()) return -rt::kEFAULT;
  if (wanted.current > wanted.maximum) return -rt::kEINVAL;
  RLimit& limit = c.process->limits[c.arg(0)];
  if (wanted.maximum > limit.maximum && !capable(*c.process, kCapSysResource)) {
    return -rt::kEPERM;  // CAP_SYS_RESOURCE to raise a hard limit
  }
  if (nofile_too_high(c.arg(0), wanted)) return -rt::kEPERM;
  limit = wanted;
  return 0;
}

// getrusage(who, usage): RUSAGE_SELF (0) the process, RUSAGE_CHILDREN (-1) its reaped
// children, RUSAGE_THREAD (1) the calling thread; EINVAL for another `who`.
int64_t sys_getrusage(SyscallContext& c) {
  auto who = static_cast<int32_t>(c.arg(0));
  TaskUsage time;
  switch (who) {
    case 0: time = process_usage(*c.process); break;
    case -1: time = c.process->children_usage; break;
    case 1:  // the thread's times; maxrss is its memory's high-water mark
      time = thread_usage(*c.thread);
      if (c.process->memory != nullptr)
        time.max_rss_kb = c.process->memory->peak_resident_pages() * 4;
      break;
    default: return -rt::kEINVAL;
  }
  Rusage usage = rusage_of(time);
  return to_rax(user(c).copy_out(c.arg(1), &usage, sizeof(usage)));
}

// times(buffer): the process's and its reaped children's user and system time in clock ticks;
// the result is the clock ticks since boot (Linux's jiffies_64_to_clock_t of jiffies, which
// start 5 minutes before 0: INITIAL_JIFFIES, so the count wraps early; Sonde's starts at 0).
int64_t sys_times(SyscallContext& c) {
  int64_t ticks = static_cast<int64_t>(clock_ticks(now_ns()));
  if (c.arg(0) != 0) {
    CpuSplit self = split_cpu_time(process_usage(*c.process));
    CpuSplit children = split_cpu_time(c.process->children_usage);
    int64_t tms[4] = {static_cast<int64_t>(clock_ticks(self.user_ns)),
                      static_cast<int64_t>(clock_ticks(self.system_ns)),
                      static_cast<int64_t>(clock_ticks(children.user_ns)),
                      static_cast<int64_t>(clock_ticks(children.system_ns))};
    if (auto r = user(c).copy_out(c.arg(0), tms, sizeof(tms)); !r.ok()) return -rt::kEFAULT;
  }
  return ticks;
}

int64_t sys_sysinfo(SyscallContext& c) {
  struct {
    int64_t uptime;
    uint64_t loads[3];
    uint64_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
    uint16_t procs, pad;
    uint32_t pad2;
    uint64_t totalhigh, freehigh;
    uint32_t mem_unit;
    char reserved[4];
  } info = {};
  info.uptime = static_cast<int64_t>(now_ns() / 1000000000);
  sysinfo_loads(info.loads);
  info.totalram = platform::memory_bytes();
  info.freeram = platform::free_memory_bytes();
  int count = 0;
  for (Process* p = first_process(); p != nullptr; p = p->next) ++count;
  info.procs = static_cast<uint16_t>(count);
  info.mem_unit = 1;
  return to_rax(user(c).copy_out(c.arg(0), &info, sizeof(info)));
}

namespace {

// The CPUs threads run on, as a mask (cpumask_size() is 8 bytes here: up to 64 CPUs).
uint64_t online_cpus() {
  uint32_t count = platform::cpu_count();
  return count >= 64 ? ~uint64_t{0} : (uint64_t{1} << count) - 1;
}

// The thread sched_{get,set}affinity name: the caller for pid 0, else the thread with that id.
Thread* affinity_target(SyscallContext& c) {
  auto pid = static_cast<int32_t>(c.arg(0));
  if (pid == 0) return c.thread;
  Thread* thread = pid > 0 ? find_thread(pid) : nullptr;
  return thread != nullptr && thread->process->state == ProcessState::kRunning ? thread : nullptr;
}

}  // namespace

// sched_getaffinity(pid, len, mask): the thread's allowed CPUs that are online; EINVAL for a
// length not a whole number of longs or too short for the CPUs; returns the bytes written.
int64_t sys_sched_getaffinity(SyscallContext& c) {
  uint64_t length = c.arg(1);
  if (length < 8 || (length & 7) != 0) return -rt::kEINVAL;
  Thread* thread = affinity_target(c);
  if (thread == nullptr) return -rt::kESRCH;
  uint64_t mask = (thread->affinity != 0 ? thread->affinity : ~uint64_t{0}) & online_cpus();
  if (auto r = user(c).copy_out(c.arg(2), &mask, 8); !r.ok()) return -rt::kEFAULT;
  return 8;
}

// sched_setaffinity(pid, len, mask): the thread may run on the mask's online CPUs. Its TCB is
// bound to one CPU (the kernel does not migrate threads): the one it is on when the mask allows
// it, else the mask's lowest. A mask shorter than 8 bytes is zero-extended, bytes past 8 are
// ignored; EINVAL when no online CPU is left, EFAULT for an unreadable mask, ESRCH for no such
// thread.
int64_t sys_sched_setaffinity(SyscallContext& c) {
  uint64_t length = c.arg(1) < 8 ? c.arg(1) : 8;
  uint64_t requested = 0;
  if (length > 0) {
    if (auto r = user(c).copy_in(&requested, c.arg(2), length); !r.ok()) return -rt::kEFAULT;
  }
  Thread* thread = affinity_target(c);
  if (thread == nullptr) return -rt::kESRCH;
  uint64_t allowed = requested & online_cpus();
  if (allowed == 0) return -rt::kEINVAL;
  if ((allowed & (uint64_t{1} << thread->home_cpu)) == 0) {
    auto cpu = static_cast<uint32_t>(__builtin_ctzll(allowed));
    uint64_t words[] = {cpu};
    if (thread->tcb != 0 &&
        sys::invoke(thread->tcb, abi::Label::kTcbSetAffinity, words) != abi::Error::kNone) {
      return -rt::kEINVAL;
    }
    thread->home_cpu = cpu;
  }
  thread->affinity = requested;
  return 0;
}

namespace {

constexpr int kPrioProcess = 0, kPrioPgrp = 1, kPrioUser = 2;

// The processes getpriority/setpriority name (`who` 0: the caller's own pid, pgrp or uid); at
// most `capacity` of them, their count, or -1 for an unknown `which`.
int priority_targets(SyscallContext& c, int which, int64_t who, Process** out, int capacity) {
  if (which < kPrioProcess || which > kPrioUser) return -1;
  int count = 0;
  for (Process* p = first_process(); p != nullptr && count < capacity; p = p->next) {
    if (p->state != ProcessState::kRunning) continue;
    bool named = which == kPrioProcess ? p->pid == (who == 0 ? c.process->pid : who)
                 : which == kPrioPgrp
                     ? p->pgid == (who == 0 ? c.process->pgid : who)
                     : p->credentials.uid == (who == 0 ? c.process->credentials.uid : who);
    if (named) out[count++] = p;
  }
  return count;
}

}  // namespace

// getpriority(which, who): the raw system call's 20 - nice of the named process with the
// highest priority (glibc turns it into the nice value); EINVAL for an unknown `which`, ESRCH
// when nothing is named.
int64_t sys_getpriority(SyscallContext& c) {
  Process* targets[256];
  int count =
      priority_targets(c, static_cast<int>(c.arg(0)), static_cast<int32_t>(c.arg(1)), targets, 256);
  if (count < 0) return -rt::kEINVAL;
  if (count == 0) return -rt::kESRCH;
  int best = 19;
  for (int i = 0; i < count; ++i) best = targets[i]->nice < best ? targets[i]->nice : best;
  return 20 - best;
}

// setpriority(which, who, nice): nice cut to -20..19 for every named process (root may lower
// it); EINVAL, ESRCH as getpriority.
int64_t sys_setpriority(SyscallContext& c) {
  Process* targets[256];
  int count =
      priority_targets(c, static_cast<int>(c.arg(0)), static_cast<int32_t>(c.arg(1)), targets, 256);
  if (count < 0) return -rt::kEINVAL;
  if (count == 0) return -rt::kESRCH;
  int64_t nice = static_cast<int32_t>(c.arg(2));
  nice = nice < -20 ? -20 : nice > 19 ? 19 : nice;
  // set_one_prio: another user's process needs CAP_SYS_NICE (EPERM), and so does a lower nice
  // value beyond RLIMIT_NICE (can_nice: EACCES); the last refusal is the answer, success if
  // any was set.
  constexpr int kRlimitNice = 13;
  const Credentials& who = c.process->credentials;
  int64_t result = -rt::kESRCH;
  for (int i = 0; i < count; ++i) {
    const Credentials& owner = targets[i]->credentials;
    if (owner.uid != who.euid && owner.euid != who.euid && !capable(*c.process, kCapSysNice)) {
      result = -rt::kEPERM;
    } else if (nice<targets[i]->nice&& static_cast<uint64_t>(20 - nice)> c.process
                   ->limits[kRlimitNice]
                   .current &&
               !capable(*c.process, kCapSysNice)) {
      result = -rt::kEACCES;
    } else {
      targets[i]->nice = static_cast<int>(nice);
      if (result == -rt::kESRCH) result = 0;
    }
  }
  return result;
}

// sched_getscheduler(pid) and sched_getparam(pid, param): every process is SCHED_OTHER with
// priority 0; EINVAL for a negative pid (or a NULL param), ESRCH for one that names nothing.
int64_t sys_sched_getscheduler(SyscallContext& c) {
  int64_t pid = static_cast<int32_t>(c.arg(0));
  if (pid < 0) return -rt::kEINVAL;
  if (pid != 0 && find_process(static_cast<int>(pid)) == nullptr) return -rt::kESRCH;
  return 0;  // SCHED_OTHER
}
int64_t sys_sched_getparam(SyscallContext& c) {
  int64_t pid = static_cast<int32_t>(c.arg(0));
  if (pid < 0 || c.arg(1) == 0) return -rt::kEINVAL;
  if (pid != 0 && find_process(static_cast<int>(pid)) == nullptr) return -rt::kESRCH;
  int32_t priority = 0;
  return user(c).copy_out(c.arg(1), &priority, 4).ok() ? 0 : -rt::kEFAULT;
}

// getcpu(cpu, node, cache): the CPU the caller's call came from (its fault message's), node 0.
int64_t sys_getcpu(SyscallContext& c) {
  uint32_t cpu = c.thread != nullptr ? c.thread->cpu : 0;
  uint32_t zero = 0;
  if (c.arg(0) != 0 && !user(c).copy_out(c.arg(0), &cpu, 4).ok()) return -rt::kEFAULT;
  if (c.arg(1) != 0 && !user(c).copy_out(c.arg(1), &zero, 4).ok()) return -rt::kEFAULT;
  return 0;
}

int64_t sys_capget(SyscallContext& c) {
  constexpr uint32_t kVersion1 = 0x19980330, kVersion2 = 0x20071026, kVersion3 = 0x20080522;
  uint32_t header[2];  // version, pid
  if (auto r = user(c).copy_in(header, c.arg(0), 8); !r.ok()) return -rt::kEFAULT;
  if (header[0] != kVersion1 && header[0] != kVersion2 && header[0] != kVersion3) {
    // An unknown version learns the kernel's (libcap asks this way, with no data).
    if (!user(c).copy_out(c.arg(0), &kVersion3, 4).ok()) return -rt::kEFAULT;
    return c.arg(1) == 0 ? 0 : -rt::kEINVAL;
  }
  if (c.arg(1) == 0) return 0;
  auto pid = static_cast<int32_t>(header[1]);
  if (pid < 0) return -rt::kEINVAL;
  if (pid != 0 && find_process(pid) == nullptr) return -rt::kESRCH;
  // The sets cap_capable decides by (task/capability.cpp): effective, permitted, inheritable
  // (none). Version 1 has one of each, 2 and 3 two words of each.
  const Credentials& ids = pid == 0 ? c.process->credentials : find_process(pid)->credentials;
  struct cred record = linux_cred_of(ids);
  uint32_t layout[6];
  for (int i = 0; i < 2; ++i) {
    layout[3 * i] = record.cap_effective.cap[i];
    layout[3 * i + 1] = record.cap_permitted.cap[i];
    layout[3 * i + 2] = record.cap_inheritable.cap[i];
  }
  size_t bytes = header[0] == kVersion1 ? 12 : sizeof(layout);
  return to_rax(user(c).copy_out(c.arg(1), layout, bytes));
}

int64_t sys_reboot(SyscallContext& c) {
  constexpr uint64_t kMagic1 = 0xfee1dead;
  if (!capable(*c.process, kCapSysBoot)) return -rt::kEPERM;
  if (c.arg(0) != kMagic1) return -rt::kEINVAL;
  power_off(0);
}

}  // namespace posix

// Linux's do_nanosleep (kernel/time/hrtimer.c), under its name and prototype (kprobes and
// fentry programs attach to it: bpftrace's first example, `kprobe:do_nanosleep`): the sleep of
// `t->task` until `t->timer`'s expiry begins. As hrtimer_sleeper_start_expires, a relative
// expiry (HRTIMER_MODE_REL) becomes absolute (CLOCK_MONOTONIC ns) and the timer starts: the
// task's thread waits in its call until then (the server's timer ends the wait, or a signal
// does). EINVAL when the task is no thread of the server's.
extern "C" __attribute__((noinline)) int do_nanosleep(struct hrtimer_sleeper* t,
                                                      enum hrtimer_mode mode) {
  posix::Thread* thread = t->task != nullptr ? posix::find_thread(t->task->pid) : nullptr;
  if (thread == nullptr) return -rt::kEINVAL;
  auto expires = static_cast<uint64_t>(t->timer.node.expires);
  if ((mode & HRTIMER_MODE_REL) != 0) {
    expires += posix::now_ns();
    t->timer.is_rel = 1;
  }
  t->timer.node.expires = static_cast<ktime_t>(expires);
  t->timer._softexpires = static_cast<ktime_t>(expires);
  thread->sleep_deadline = expires > 0 ? expires : 1;
  posix::arm_timer();
  return 0;
}
