// SPDX-License-Identifier: MIT
// CPU time as Linux programs read it: getrusage (self, children, thread), times, wait4's
// rusage, the CPU-time clocks (process, thread, another process's, bad ids) and the utime and
// stime fields of /proc/<pid>/stat. Times vary from run to run: the checks assert what must
// hold on any Linux (a spinning process's user time grows by most of the wall time it spun,
// system calls give system time, a reaped child's time is its parent's children's, bad
// arguments get Linux's errno), so the output is the same on the host, Sonde and Linux 6.1.
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checks.h"

static uint64_t timeval_ns(struct timeval t) {
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_usec * 1000ull;
}

static uint64_t clock_ns(clockid_t clock) {
  struct timespec t;
  if (clock_gettime(clock, &t) != 0) return 0;
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static volatile uint64_t sink;

// Spins in user mode for `ms` milliseconds of wall time, reading the clock seldom: a guest
// Linux on the HPET clocksource reads it with a system call.
static void spin(uint64_t ms) {
  uint64_t end = now_ns() + ms * 1000000ull;
  while (now_ns() < end) {
    for (int i = 0; i < 100000; ++i) sink += (uint64_t)i;
  }
}

// Makes system calls for `ms` milliseconds of wall time.
static void syscalls(uint64_t ms) {
  uint64_t end = now_ns() + ms * 1000000ull;
  char buffer[256];
  int fd[2];
  if (pipe(fd) != 0) return;
  while (now_ns() < end) {
    for (int i = 0; i < 20; ++i) {
      if (write(fd[1], buffer, sizeof buffer) < 0 || read(fd[0], buffer, sizeof buffer) < 0) break;
    }
  }
  close(fd[0]);
  close(fd[1]);
}

// The fields of /proc/self/stat from minflt (10) to cstime (17): minflt, cminflt, majflt,
// cmajflt, utime, stime, cutime, cstime.
static int stat_times(long times[8]) {
  FILE* file = fopen("/proc/self/stat", "r");
  if (file == NULL) return -1;
  char line[1024];
  char* got = fgets(line, sizeof line, file);
  fclose(file);
  if (got == NULL) return -1;
  char* after_comm = strrchr(line, ')');
  if (after_comm == NULL) return -1;
  // Field 3 (state) follows ") "; minflt is the 7th field after it.
  char state;
  long skip[6];
  int n = sscanf(after_comm + 2, "%c %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld",
                 &state, &skip[0], &skip[1], &skip[2], &skip[3], &skip[4], &skip[5], &times[0],
                 &times[1], &times[2], &times[3], &times[4], &times[5], &times[6], &times[7]);
  return n == 15 ? 0 : -1;
}

static volatile int thread_spun;
static void* thread_spinner(void* argument) {
  (void)argument;
  spin(100);
  thread_spun = 1;
  return (void*)(uintptr_t)clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

int main(void) {
  // Nothing reaped yet: the children's times are zero.
  struct rusage children;
  CHECK("getrusage(RUSAGE_CHILDREN) before any child",
        getrusage(RUSAGE_CHILDREN, &children) == 0 && children.ru_utime.tv_sec == 0 &&
            children.ru_utime.tv_usec == 0 && children.ru_stime.tv_sec == 0 &&
            children.ru_stime.tv_usec == 0);

  // Spinning: the process's user time grows by much of the wall time (a CPU for itself in the
  // guests; on the host other tests share two CPUs: a sixth is the bound).
  struct rusage before, after;
  uint64_t cpu_before = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
  CHECK("getrusage(RUSAGE_SELF)", getrusage(RUSAGE_SELF, &before) == 0);
  spin(300);
  CHECK("getrusage(RUSAGE_SELF) again", getrusage(RUSAGE_SELF, &after) == 0);
  uint64_t cpu_after = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
  uint64_t user = timeval_ns(after.ru_utime) - timeval_ns(before.ru_utime);
  CHECK("spinning 300 ms is user time", user >= 50000000ull && user <= 400000000ull);
  CHECK("CLOCK_PROCESS_CPUTIME_ID follows it",
        cpu_after - cpu_before >= 50000000ull && cpu_after - cpu_before <= 400000000ull);
  CHECK("microseconds below a million",
        after.ru_utime.tv_usec < 1000000 && after.ru_stime.tv_usec < 1000000);

  // System calls: system time grows.
  CHECK("getrusage before system calls", getrusage(RUSAGE_SELF, &before) == 0);
  syscalls(300);
  CHECK("getrusage after system calls", getrusage(RUSAGE_SELF, &after) == 0);
  uint64_t total = timeval_ns(after.ru_utime) + timeval_ns(after.ru_stime) -
                   timeval_ns(before.ru_utime) - timeval_ns(before.ru_stime);
  CHECK("300 ms of system calls is CPU time", total >= 50000000ull && total <= 400000000ull);
  CHECK("with system time in it", timeval_ns(after.ru_stime) > timeval_ns(before.ru_stime));

  // A thread's own time; the process's holds it.
  struct rusage self_thread;
  CHECK("getrusage(RUSAGE_THREAD)", getrusage(RUSAGE_THREAD, &self_thread) == 0);
  CHECK("the thread's time is at most the process's",
        timeval_ns(self_thread.ru_utime) + timeval_ns(self_thread.ru_stime) <=
            timeval_ns(after.ru_utime) + timeval_ns(after.ru_stime) + 20000000ull);
  pthread_t thread;
  void* thread_time = NULL;
  uint64_t process_before = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
  CHECK("a thread spins 100 ms", pthread_create(&thread, NULL, thread_spinner, NULL) == 0 &&
                                     pthread_join(thread, &thread_time) == 0 && thread_spun);
  uint64_t spun = (uint64_t)(uintptr_t)thread_time;
  CHECK("its CLOCK_THREAD_CPUTIME_ID counted it", spun >= 15000000ull && spun <= 200000000ull);
  CHECK("the ended thread's time stays the process's",
        clock_ns(CLOCK_PROCESS_CPUTIME_ID) - process_before >= spun);

  // A child that spins: wait4 reports its time, then it counts as the children's.
  pid_t child = fork();
  if (child == 0) {
    spin(200);
    _exit(0);
  }
  clockid_t child_clock;
  CHECK("clock_getcpuclockid(child)", clock_getcpuclockid(child, &child_clock) == 0);
  struct timespec child_now;
  CHECK("the child's CPU clock reads", clock_gettime(child_clock, &child_now) == 0);
  int status;
  struct rusage reaped;
  memset(&reaped, 0xff, sizeof reaped);
  CHECK("wait4 with rusage", wait4(child, &status, 0, &reaped) == child && WIFEXITED(status));
  uint64_t child_user = timeval_ns(reaped.ru_utime);
  CHECK("wait4's rusage has the child's user time",
        child_user >= 30000000ull && child_user <= 300000000ull);
  CHECK("getrusage(RUSAGE_CHILDREN) has it now",
        getrusage(RUSAGE_CHILDREN, &children) == 0 && timeval_ns(children.ru_utime) == child_user &&
            timeval_ns(children.ru_stime) == timeval_ns(reaped.ru_stime));
  struct tms tms;
  clock_t ticks = times(&tms);
  long hz = sysconf(_SC_CLK_TCK);
  CHECK("USER_HZ is 100", hz == 100);
  CHECK("times() counts clock ticks",
        ticks != (clock_t)-1 && tms.tms_utime >= 5 && tms.tms_cutime >= 3 && tms.tms_cutime <= 30);
  long stat[8];
  CHECK("/proc/self/stat utime, stime, cutime, cstime",
        stat_times(stat) == 0 && stat[4] >= 5 && stat[6] >= 3 && stat[6] <= 30);
  // (Major faults are the host's business: its page cache may have to read the program.)
  CHECK("/proc/self/stat minflt and cminflt", stat[0] > 0 && stat[1] > 0);
  CHECK("a reaped child has no CPU clock",
        clock_gettime(child_clock, &child_now) == -1 && errno == EINVAL);

  // Page faults: touching 64 fresh anonymous pages faults (minor faults: nothing is read from
  // a disk); sleeping in a system call is a voluntary context switch.
  CHECK("getrusage before faults", getrusage(RUSAGE_SELF, &before) == 0);
  char* pages = mmap(NULL, 64 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK("mmap 64 pages", pages != MAP_FAILED);
  for (int i = 0; pages != MAP_FAILED && i < 64; ++i) pages[i * 4096] = 1;
  struct timespec nap = {0, 20000000};
  nanosleep(&nap, NULL);
  CHECK("getrusage after faults", getrusage(RUSAGE_SELF, &after) == 0);
  CHECK("64 touched pages are minor faults", after.ru_minflt - before.ru_minflt >= 16);
  CHECK("a sleep is a voluntary switch", after.ru_nvcsw > before.ru_nvcsw);
  // Errors.
  CHECK_ERRNO("getrusage(5)", getrusage(5, &before), EINVAL);
  CHECK_ERRNO("getrusage to a bad address", syscall(SYS_getrusage, RUSAGE_SELF, (void*)8), EFAULT);
  CHECK_ERRNO("times to a bad address", syscall(SYS_times, (void*)8), EFAULT);
  struct timespec t;
  // ((~pid) << 3) | thread bit | which: which 3 is no clock, and with the thread bit a clock fd.
  CHECK_ERRNO("CPU clock kind 3", clock_gettime((clockid_t)((~0u << 3) | 3), &t), EINVAL);
  CHECK_ERRNO("a clock fd that is no clock", clock_gettime((clockid_t)((~0u << 3) | 7), &t),
              EINVAL);
  CHECK_ERRNO("the CPU clock of a pid nobody has",
              clock_gettime((clockid_t)((~(unsigned)4000000u << 3) | 2), &t), EINVAL);
  CHECK("the calling thread's SCHED clock (pid 0, thread bit)",
        clock_gettime((clockid_t)((~0u << 3) | 4 | 2), &t) == 0 && (t.tv_sec > 0 || t.tv_nsec > 0));
  CHECK("clock_getres(CLOCK_PROCESS_CPUTIME_ID) is 1 ns",
        clock_getres(CLOCK_PROCESS_CPUTIME_ID, &t) == 0 && t.tv_sec == 0 && t.tv_nsec == 1);

  printf("cpu_time_checks: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
