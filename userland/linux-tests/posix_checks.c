// SPDX-License-Identifier: MIT
// Linux behaviour the POSIX server must match, checked from a static musl program: return
// values and errno for files, directories, descriptors, pipes, processes, memory and signals.
// It runs on the host's Linux first (where every check must pass), then on Sonde.
// This file holds main, the system's identity, /proc and the small calls; the other areas are
// in posix_checks_files.c and posix_checks_process.c.
#define _GNU_SOURCE  // as the other parts
#include "posix_checks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"

// The directory the checks make their files in.
char dir[64];

static void system_calls(void) {
  struct utsname u;
  CHECK("uname",
        uname(&u) == 0 && strcmp(u.sysname, "Linux") == 0 && strcmp(u.machine, "x86_64") == 0);
  struct timespec a, b;
  CHECK("clock_gettime is monotonic",
        clock_gettime(CLOCK_MONOTONIC, &a) == 0 && clock_gettime(CLOCK_MONOTONIC, &b) == 0 &&
            (b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec)));
  struct timespec sleep = {0, 50000000};
  CHECK("nanosleep sleeps",
        clock_gettime(CLOCK_MONOTONIC, &a) == 0 && nanosleep(&sleep, NULL) == 0 &&
            clock_gettime(CLOCK_MONOTONIC, &b) == 0 &&
            (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) >= 50000000L);
  CHECK("getuid is root", getuid() == 0 && geteuid() == 0);
  // capget as libcap uses it: an unknown version learns the kernel's (v3, 0x20080522).
  uint32_t header[2] = {0, 0}, data[6];
  CHECK("capget of an unknown version without data",
        syscall(SYS_capget, header, NULL) == 0 && header[0] == 0x20080522);
  header[0] = 0;
  CHECK_ERRNO("capget of an unknown version with data", syscall(SYS_capget, header, data), EINVAL);
  header[0] = 0x20080522;
  data[5] = 0x5a5a5a5a;
  CHECK("capget v3 of the caller", syscall(SYS_capget, header, data) == 0 && data[2] == 0);
  header[1] = 0x7ffffff0;
  CHECK_ERRNO("capget of a missing pid", syscall(SYS_capget, header, data), ESRCH);
  CHECK("PR_CAPBSET_READ of CAP_CHOWN", prctl(PR_CAPBSET_READ, 0, 0, 0, 0) == 1);
  CHECK_ERRNO("PR_CAPBSET_READ past the last capability", prctl(PR_CAPBSET_READ, 64, 0, 0, 0),
              EINVAL);
}

// A whole file into `buffer` (NUL-terminated); its length, or -1.
static long read_all(const char* path, char* buffer, size_t capacity) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  size_t used = 0;
  for (;;) {
    ssize_t n = read(fd, buffer + used, capacity - 1 - used);
    if (n <= 0) break;
    used += (size_t)n;
  }
  close(fd);
  buffer[used] = '\0';
  return (long)used;
}

static char maps[65536];

// The line of /proc/self/maps holding `address` (copied into `line`, without its newline).
static int maps_line(uintptr_t address, char* line, size_t capacity) {
  for (char* at = maps; *at != '\0';) {
    char* end = strchr(at, '\n');
    size_t length = end != NULL ? (size_t)(end - at) : strlen(at);
    unsigned long start, stop;
    if (sscanf(at, "%lx-%lx", &start, &stop) == 2 && address >= start && address < stop) {
      if (length >= capacity) length = capacity - 1;
      memcpy(line, at, length);
      line[length] = '\0';
      return 1;
    }
    at += length + (end != NULL);
  }
  return 0;
}

// What a maps line says, and where its path starts (NULL: none).
struct map_fields {
  unsigned long start, end, offset, inode;
  char perms[8];
  unsigned major, minor;
  const char* path;
};
static int parse_map(const char* line, struct map_fields* f) {
  int prefix = 0;
  if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu %n", &f->start, &f->end, f->perms, &f->offset,
             &f->major, &f->minor, &f->inode, &prefix) != 7) {
    return 0;
  }
  f->path = line[prefix] != '\0' ? line + prefix : NULL;
  return 1;
}

// /proc/self/maps in Linux's format: the code, the stack, an anonymous mapping split by
// mprotect, a file mapping at an offset, the heap, address order.
static void proc_maps(void) {
  char exe[512];
  ssize_t exe_length = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  CHECK("readlink /proc/self/exe", exe_length > 0);
  exe[exe_length > 0 ? exe_length : 0] = '\0';
  struct stat exe_stat;
  CHECK("stat the executable", stat(exe, &exe_stat) == 0);
  // An anonymous mapping whose middle page is readable, and three pages of a file, the middle
  // one mapped.
  char* anonymous = mmap(NULL, 3 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK("mmap three pages", anonymous != MAP_FAILED);
  CHECK("mprotect the middle page", mprotect(anonymous + 4096, 4096, PROT_READ) == 0);
  char path[128];
  snprintf(path, sizeof(path), "%s/mapped", dir);
  int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
  static char page[4096];
  for (int i = 0; i < 3; ++i) {
    memset(page, 'a' + i, sizeof(page));
    CHECK("write a page of the file", write(fd, page, sizeof(page)) == sizeof(page));
  }
  struct stat file_stat;
  CHECK("fstat the mapped file", fstat(fd, &file_stat) == 0);
  char* mapped = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 4096);
  CHECK("mmap a file at an offset", mapped != MAP_FAILED && mapped[0] == 'b');
  close(fd);
  // The heap: brk moved up two pages (the program's malloc is given its old break back).
  uintptr_t heap = (uintptr_t)syscall(SYS_brk, 0);
  CHECK("brk up", (uintptr_t)syscall(SYS_brk, heap + 8192) == heap + 8192);
  long length = read_all("/proc/self/maps", maps, sizeof(maps));
  syscall(SYS_brk, heap);
  CHECK("read /proc/self/maps", length > 0 && maps[length - 1] == '\n');

  char line[1024];
  struct map_fields f;
  int found = maps_line((uintptr_t)&proc_maps, line, sizeof(line)) && parse_map(line, &f);
  CHECK("maps: the code's line", found);
  if (found) {
    CHECK("maps: the code is r-xp", strcmp(f.perms, "r-xp") == 0);
    CHECK("maps: the code's path is the executable", f.path != NULL && strcmp(f.path, exe) == 0);
    CHECK("maps: the path starts in column 74", f.path == line + 73 && line[72] == ' ');
    CHECK("maps: the code's inode and device are the executable's",
          f.inode == exe_stat.st_ino && f.major == major(exe_stat.st_dev) &&
              f.minor == minor(exe_stat.st_dev));
    CHECK("maps: the code's offset is page-aligned", (f.offset & 4095) == 0);
    char start[32];
    snprintf(start, sizeof(start), "%08lx-%08lx r-xp %08lx ", f.start, f.end, f.offset);
    CHECK("maps: the line's fields as %08lx-%08lx perms %08llx",
          strncmp(line, start, strlen(start)) == 0);
  }
  int local = 0;
  found = maps_line((uintptr_t)&local, line, sizeof(line)) && parse_map(line, &f);
  CHECK("maps: the stack's line", found);
  if (found) {
    CHECK("maps: the stack is rw-p [stack]", strcmp(f.perms, "rw-p") == 0 && f.path != NULL &&
                                                 strcmp(f.path, "[stack]") == 0 && f.inode == 0 &&
                                                 f.offset == 0);
  }
  found = maps_line((uintptr_t)anonymous + 4096, line, sizeof(line));
  char expected[160];
  snprintf(expected, sizeof(expected), "%08lx-%08lx r--p 00000000 00:00 0 ",
           (unsigned long)anonymous + 4096, (unsigned long)anonymous + 8192);
  CHECK("maps: an anonymous page mprotected on its own, without path",
        found && strcmp(line, expected) == 0);
  found = maps_line((uintptr_t)anonymous, line, sizeof(line)) && parse_map(line, &f);
  CHECK("maps: the PROT_NONE page before it is ---p",
        found && strcmp(f.perms, "---p") == 0 && f.end == (unsigned long)anonymous + 4096);
  found = maps_line((uintptr_t)mapped, line, sizeof(line)) && parse_map(line, &f);
  CHECK("maps: the file mapping's line", found);
  if (found) {
    CHECK("maps: the file mapping is r--p at offset 1000, one page",
          strcmp(f.perms, "r--p") == 0 && f.offset == 4096 && f.start == (uintptr_t)mapped &&
              f.end == (uintptr_t)mapped + 4096);
    CHECK("maps: the file mapping's path, inode and device",
          f.path != NULL && strcmp(f.path, path) == 0 && f.inode == file_stat.st_ino &&
              f.major == major(file_stat.st_dev) && f.minor == minor(file_stat.st_dev));
  }
  found = maps_line(heap, line, sizeof(line)) && parse_map(line, &f);
  CHECK("maps: the heap is rw-p [heap]",
        found && strcmp(f.perms, "rw-p") == 0 && f.path != NULL && strcmp(f.path, "[heap]") == 0);
  unsigned long previous_end = 0;
  int ordered = 1, lines = 0;
  for (char* at = maps; *at != '\0'; ++lines) {
    unsigned long start, end;
    if (sscanf(at, "%lx-%lx", &start, &end) != 2 || start < previous_end || end <= start) {
      ordered = 0;
    }
    previous_end = end;
    char* next = strchr(at, '\n');
    if (next == NULL) break;
    at = next + 1;
  }
  CHECK("maps: lines in address order", ordered && lines >= 5);
  char by_pid[64];
  snprintf(by_pid, sizeof(by_pid), "/proc/%d/maps", (int)getpid());
  static char again[65536];
  CHECK("maps: /proc/<pid>/maps reads like /proc/self/maps",
        read_all(by_pid, again, sizeof(again)) > 0 && strstr(again, exe) != NULL);
  munmap(mapped, 4096);
  munmap(anonymous, 3 * 4096);
  unlink(path);
}

// /proc/self/environ: the initial environment, NUL-separated; stat's memory layout fields.
static void proc_environ(char** argv, char** envp) {
  static char expected[65536], environ_file[65536];
  size_t used = 0;
  for (char** e = envp; *e != NULL && used + strlen(*e) + 1 < sizeof(expected); ++e) {
    memcpy(expected + used, *e, strlen(*e) + 1);
    used += strlen(*e) + 1;
  }
  long length = read_all("/proc/self/environ", environ_file, sizeof(environ_file));
  CHECK("environ: the initial environment, NUL-separated",
        length == (long)used && memcmp(expected, environ_file, used) == 0);
  static char stat_line[4096];
  CHECK("read /proc/self/stat", read_all("/proc/self/stat", stat_line, sizeof(stat_line)) > 0);
  // Fields after the command's closing parenthesis: 3 (state) onwards.
  unsigned long fields[53] = {0};
  char* at = strrchr(stat_line, ')');
  int count = 2;
  while (at != NULL && count < 52) {
    at = strchr(at + 1, ' ');
    if (at == NULL) break;
    fields[++count] = strtoul(at + 1, NULL, 10);
  }
  CHECK("stat: 52 fields", count == 52);
  CHECK("stat: startstack is where argc is", fields[28] == (unsigned long)argv - sizeof(long));
  CHECK("stat: arg_start is argv[0]", fields[48] == (unsigned long)argv[0]);
  CHECK(
      "stat: env_start is envp[0], env_end its end",
      envp[0] == NULL || (fields[50] == (unsigned long)envp[0] && fields[51] - fields[50] == used));
  CHECK("stat: startcode <= a function < endcode",
        fields[26] <= (unsigned long)&proc_environ && (unsigned long)&proc_environ < fields[27]);
}

// sysinfo's memory and /proc/meminfo's agree (both Linux's totalram), whatever the machine has.
static void memory_totals(void) {
  struct sysinfo info;
  CHECK("sysinfo", sysinfo(&info) == 0);
  FILE* meminfo = fopen("/proc/meminfo", "r");
  long total_kb = -1, free_kb = -1;
  char line[128];
  while (meminfo != NULL && fgets(line, sizeof line, meminfo) != NULL) {
    (void)sscanf(line, "MemTotal: %ld kB", &total_kb);
    (void)sscanf(line, "MemFree: %ld kB", &free_kb);
  }
  if (meminfo != NULL) fclose(meminfo);
  unsigned long long total = (unsigned long long)info.totalram * info.mem_unit;
  CHECK("MemTotal is sysinfo's totalram",
        total_kb > 0 && (unsigned long long)total_kb * 1024 == total);
  CHECK("MemFree is at most MemTotal", free_kb >= 0 && free_kb <= total_kb);
  // The machine's memory, not a fixed figure (the tests' machines have 512 MiB or more).
  CHECK("MemTotal is the machine's", total_kb > 300 * 1024);
  CHECK("freeram is at most totalram", info.freeram <= info.totalram);
}

// /proc/stat's first line ("cpu  user nice system idle ..."), the number of cpuN lines and the
// sums of their user and system columns, and its btime, ctxt and procs_running.
struct ProcStat {
  unsigned long long user, system, idle, cpu_user_sum, cpu_system_sum, btime, ctxt;
  long cpus, running;
};

static int read_proc_stat(struct ProcStat* out) {
  memset(out, 0, sizeof *out);
  FILE* stat = fopen("/proc/stat", "r");
  if (stat == NULL) return -1;
  char line[512];
  int have_total = 0;
  while (fgets(line, sizeof line, stat) != NULL) {
    unsigned long long user, nice, system, idle;
    int cpu;
    if (strncmp(line, "cpu ", 4) == 0 &&
        sscanf(line + 4, "%llu %llu %llu %llu", &user, &nice, &system, &idle) == 4) {
      out->user = user;
      out->system = system;
      out->idle = idle;
      have_total = 1;
    } else if (strncmp(line, "cpu", 3) == 0 && line[3] >= '0' && line[3] <= '9' &&
               sscanf(line, "cpu%d %llu %llu %llu", &cpu, &user, &nice, &system) == 4) {
      out->cpus++;
      out->cpu_user_sum += user;
      out->cpu_system_sum += system;
    }
    (void)sscanf(line, "btime %llu", &out->btime);
    (void)sscanf(line, "ctxt %llu", &out->ctxt);
    (void)sscanf(line, "procs_running %ld", &out->running);
  }
  fclose(stat);
  return have_total ? 0 : -1;
}

// /proc/stat (top, vmstat and ps read it): a line per online CPU whose columns add up to the
// first line's, the boot time, CPU time that grows as this process spins.
static void proc_stat(void) {
  struct ProcStat before, after;
  CHECK("/proc/stat has its cpu line", read_proc_stat(&before) == 0);
  CHECK("a cpuN line per online CPU", before.cpus == sysconf(_SC_NPROCESSORS_ONLN));
  CHECK("the cpuN lines add up to the cpu line",
        before.user + before.cpus >= before.cpu_user_sum &&
            before.cpu_user_sum + before.cpus >= before.user &&
            before.system + before.cpus >= before.cpu_system_sum &&
            before.cpu_system_sum + before.cpus >= before.system);
  double uptime = 0, idle = -1;
  FILE* file = fopen("/proc/uptime", "r");
  CHECK("/proc/uptime", file != NULL && fscanf(file, "%lf %lf", &uptime, &idle) == 2);
  if (file != NULL) fclose(file);
  long long boot = (long long)time(NULL) - (long long)uptime;
  CHECK("btime is when the machine started",
        (long long)before.btime >= boot - 2 && (long long)before.btime <= boot + 2);
  CHECK("idle time is at most the uptime of every CPU",
        idle >= 0 && idle <= uptime * (double)before.cpus + 1);
  CHECK("this process is running", before.running >= 1);
  struct tms start, now;
  clock_t begin = times(&start);
  (void)begin;
  volatile unsigned long spin = 0;
  do {
    for (int i = 0; i < 100000; ++i) spin += (unsigned long)i;
    times(&now);
  } while (now.tms_utime + now.tms_stime - start.tms_utime - start.tms_stime < 30);
  CHECK("/proc/stat again", read_proc_stat(&after) == 0);
  CHECK("30 ticks of CPU show in it",
        after.user + after.system >= before.user + before.system + 25);
  CHECK("context switches only grow", after.ctxt >= before.ctxt && after.ctxt > 0);
}

// A field of /proc/self/status in kB ("VmRSS"), or -1.
static long status_kb(const char* field) {
  FILE* status = fopen("/proc/self/status", "r");
  long value = -1;
  char line[128];
  size_t length = strlen(field);
  while (status != NULL && fgets(line, sizeof line, status) != NULL) {
    if (strncmp(line, field, length) == 0 && line[length] == ':') value = atol(line + length + 1);
  }
  if (status != NULL) fclose(status);
  return value;
}

// /proc/self/stat's vsize (field 23, bytes) and rss (24, pages).
static void stat_memory(unsigned long* vsize, long* rss) {
  char text[1024] = "";
  FILE* stat = fopen("/proc/self/stat", "r");
  if (stat != NULL) {
    (void)!fgets(text, sizeof text, stat);
    fclose(stat);
  }
  *vsize = 0;
  *rss = -1;
  char* at = strrchr(text, ')');
  for (int field = 2; at != NULL && field < 23; ++field) at = strchr(at + 1, ' ');
  if (at != NULL) (void)sscanf(at + 1, "%lu %ld", vsize, rss);
}

// The resident set as Linux counts it: the pages a process touches show in /proc/self/status
// (VmRSS and its high-water mark VmHWM), /proc/self/stat's rss and getrusage's maxrss, and go
// when they are unmapped (Linux updates VmHWM lazily: whether it keeps the peak after an unmap
// differs between versions, so it is not checked); a reaped child's high-water mark is wait4's
// and RUSAGE_CHILDREN's.
static void resident_memory(void) {
  // Linux's RSS counts are approximate (per-task or per-CPU caches, flushed in batches): the
  // comparisons allow 2 MiB of slack against an 8 MiB block.
  enum { kBlock = 8 << 20, kChildBlock = 16 << 20, kSlackKb = 2048 };
  struct rusage self;
  CHECK("getrusage RUSAGE_SELF", getrusage(RUSAGE_SELF, &self) == 0);
  CHECK("maxrss counts the process", self.ru_maxrss > 0);
  char* block = mmap(NULL, kBlock, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK("an 8 MiB mapping", block != MAP_FAILED);
  if (block == MAP_FAILED) return;
  long before = status_kb("VmRSS");
  for (long i = 0; i < kBlock; i += 4096) block[i] = 1;
  long touched = status_kb("VmRSS");
  CHECK("VmRSS grows by the pages touched", before > 0 && touched - before >= 8192 - kSlackKb);
  CHECK("VmHWM is about VmRSS or more", status_kb("VmHWM") >= touched - kSlackKb);
  CHECK("VmSize holds the mapping", status_kb("VmSize") >= 8192 && status_kb("VmSize") >= touched);
  CHECK("VmPeak is at least VmSize", status_kb("VmPeak") >= status_kb("VmSize"));
  unsigned long vsize;
  long rss;
  stat_memory(&vsize, &rss);
  long size_kb = status_kb("VmSize");
  CHECK("stat's rss is about VmRSS", rss > 0 && labs(rss * 4 - touched) <= kSlackKb);
  CHECK("stat's vsize is about VmSize", labs((long)(vsize / 1024) - size_kb) <= 1024);
  CHECK("getrusage after touching", getrusage(RUSAGE_SELF, &self) == 0);
  CHECK("maxrss is about what is resident or more", self.ru_maxrss >= touched - kSlackKb);
  munmap(block, kBlock);
  CHECK("VmRSS falls when the pages go", status_kb("VmRSS") <= touched - 8192 + kSlackKb);
  pid_t child = fork();
  if (child == 0) {
    char* big = mmap(NULL, kChildBlock, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (big == MAP_FAILED) _exit(1);
    for (long i = 0; i < kChildBlock; i += 4096) big[i] = 1;
    _exit(0);
  }
  int status = -1;
  struct rusage reaped, children;
  CHECK("wait4 of the child that touched 16 MiB", wait4(child, &status, 0, &reaped) == child &&
                                                      WIFEXITED(status) &&
                                                      WEXITSTATUS(status) == 0);
  CHECK("wait4's maxrss is the child's", reaped.ru_maxrss >= 16384 - kSlackKb);
  CHECK("RUSAGE_CHILDREN's maxrss is the largest child's",
        getrusage(RUSAGE_CHILDREN, &children) == 0 && children.ru_maxrss >= 16384 - kSlackKb);
}

// RLIMIT_NOFILE bounds the descriptors a process gets (EMFILE past its soft limit, EBADF for
// dup2's target, EINVAL for F_DUPFD's minimum), and its hard limit (Linux's INR_OPEN_MAX, 4096,
// at boot) lets a tool that holds a descriptor per probe have thousands.
static void descriptor_limits(void) {
  enum { kMany = 2000 };
  static int held[kMany];
  struct rlimit old;
  CHECK("getrlimit RLIMIT_NOFILE", getrlimit(RLIMIT_NOFILE, &old) == 0);
  CHECK("RLIMIT_NOFILE's hard limit holds 4096 descriptors", old.rlim_max >= 4096);
  struct rlimit low = {64, old.rlim_max};
  CHECK("setrlimit RLIMIT_NOFILE to 64", setrlimit(RLIMIT_NOFILE, &low) == 0);
  int count = 0, fd;
  while (count < kMany && (fd = dup(0)) >= 0) held[count++] = fd;
  int error = errno, highest = count > 0 ? held[count - 1] : -1;
  CHECK("descriptors end at the soft limit with EMFILE", error == EMFILE && highest == 63);
  CHECK("dup2 to the soft limit is EBADF", dup2(0, 64) < 0 && errno == EBADF);
  CHECK("F_DUPFD from the soft limit is EINVAL", fcntl(0, F_DUPFD, 64) < 0 && errno == EINVAL);
  while (count > 0) close(held[--count]);
  struct rlimit high = {4096, old.rlim_max};
  CHECK("setrlimit RLIMIT_NOFILE to 4096", setrlimit(RLIMIT_NOFILE, &high) == 0);
  while (count < kMany && (fd = dup(0)) >= 0) held[count++] = fd;
  CHECK("2000 descriptors under the raised limit", count == kMany);
  while (count > 0) close(held[--count]);
  // Limits are each process's: a child inherits them at fork and changes its own.
  pid_t child = fork();
  if (child == 0) {
    struct rlimit inherited, mine = {32, old.rlim_max};
    int ok = getrlimit(RLIMIT_NOFILE, &inherited) == 0 && inherited.rlim_cur == 4096 &&
             setrlimit(RLIMIT_NOFILE, &mine) == 0;
    _exit(ok ? 0 : 1);
  }
  int status = -1;
  struct rlimit after;
  CHECK("a child inherits RLIMIT_NOFILE and sets its own",
        waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK("the parent's RLIMIT_NOFILE stays",
        getrlimit(RLIMIT_NOFILE, &after) == 0 && after.rlim_cur == 4096);
  CHECK("RLIMIT_NOFILE restored", setrlimit(RLIMIT_NOFILE, &old) == 0);
}

// creat, utimes, syncfs, fadvise64, sync_file_range, the priority and scheduler queries (raw system
// calls, as the C libraries name some of them differently).
static void small_calls(void) {
  char path[300];
  snprintf(path, sizeof path, "%s/created", dir);
  int fd = (int)syscall(85, path, 0640);  // creat
  CHECK("creat makes a file open for writing", fd >= 0 && write(fd, "abc", 3) == 3);
  CHECK("creat's fd is write-only", read(fd, path + 299, 1) == -1 && errno == EBADF);
  // x86-64 Linux adds O_LARGEFILE (0100000) to what open, openat and creat open (F_GETFL).
  CHECK("creat's file has O_LARGEFILE", (fcntl(fd, F_GETFL) & 0100000) != 0);
  int opened = open(path, O_RDONLY);
  CHECK("open's file has O_LARGEFILE", opened >= 0 && (fcntl(opened, F_GETFL) & 0100000) != 0);
  if (opened >= 0) close(opened);
  opened = open(path, O_RDONLY | 0x40000000);  // a bit no flag uses: dropped, not refused
  CHECK("open drops unknown flags", opened >= 0 && (fcntl(opened, F_GETFL) & 0x40000000) == 0);
  if (opened >= 0) close(opened);
  struct stat st;
  CHECK("creat's mode", stat(path, &st) == 0 && (st.st_mode & 0777) == 0640 && st.st_size == 3);
  close(fd);
  fd = (int)syscall(85, path, 0600);
  CHECK("creat truncates", fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0);
  CHECK("syncfs", syscall(306, fd) == 0);
  CHECK_ERRNO("syncfs of a closed fd", syscall(306, 999), EBADF);
  CHECK("fadvise64 DONTNEED", syscall(221, fd, 0, 4096, 4) == 0);
  CHECK_ERRNO("fadvise64 unknown advice", syscall(221, fd, 0, 4096, 99), EINVAL);
  CHECK_ERRNO("fadvise64 closed fd", syscall(221, 999, 0, 0, 0), EBADF);
  int pipe_fds[2];
  CHECK("pipe", pipe(pipe_fds) == 0);
  CHECK_ERRNO("fadvise64 on a pipe", syscall(221, pipe_fds[0], 0, 0, 0), ESPIPE);
  // sync_file_range(fd, offset, nbytes, flags): EBADF, then EINVAL, then ESPIPE, as Linux.
  CHECK("sync_file_range", syscall(277, fd, 0L, 0L, 7) == 0);
  CHECK_ERRNO("sync_file_range of a closed fd", syscall(277, 999, 0L, 0L, 8), EBADF);
  CHECK_ERRNO("sync_file_range unknown flags", syscall(277, fd, 0L, 0L, 8), EINVAL);
  CHECK_ERRNO("sync_file_range negative offset", syscall(277, fd, -1L, 0L, 0), EINVAL);
  CHECK_ERRNO("sync_file_range past the end", syscall(277, fd, 1L << 62, 3L << 61, 0), EINVAL);
  CHECK_ERRNO("sync_file_range on a pipe", syscall(277, pipe_fds[1], 0L, 0L, 0), ESPIPE);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  close(fd);
  struct timeval times[2] = {{1000000000, 5}, {1200000000, 999999}};
  CHECK("utimes sets the modification time",
        syscall(235, path, times) == 0 && stat(path, &st) == 0 && st.st_mtime == 1200000000);
  times[1].tv_usec = 1000000;
  CHECK_ERRNO("utimes with 10^6 microseconds", syscall(235, path, times), EINVAL);
  CHECK_ERRNO("utimes of a missing file", syscall(235, "/no/such/file", NULL), ENOENT);
  unlink(path);

  // getpriority's raw answer is 20 - nice; a child inherits the nice value.
  long raw = syscall(140, 0, 0);
  CHECK("getpriority of itself", raw >= 1 && raw <= 40);
  int nice_before = 20 - (int)raw;
  CHECK("setpriority to 5", syscall(141, 0, 0, 5) == 0 && syscall(140, 0, 0) == 15);
  pid_t child = fork();
  if (child == 0) _exit(syscall(140, 0, 0) == 15 ? 0 : 1);
  int status = 0;
  CHECK("a child inherits nice",
        waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK("setpriority clamps to 19",
        syscall(141, 0, getpid(), 100) == 0 && syscall(140, 0, getpid()) == 1);
  CHECK("setpriority back", syscall(141, 0, 0, nice_before) == 0);
  CHECK_ERRNO("getpriority of an unknown which", syscall(140, 7, 0), EINVAL);
  CHECK_ERRNO("getpriority of no such process", syscall(140, 0, 999999), ESRCH);
  CHECK("getpriority of the process group", syscall(140, 1, 0) >= 1);
  CHECK("sched_getscheduler: SCHED_OTHER", syscall(145, 0) == 0 && syscall(145, getpid()) == 0);
  CHECK_ERRNO("sched_getscheduler of a negative pid", syscall(145, -1), EINVAL);
  CHECK_ERRNO("sched_getscheduler of no such process", syscall(145, 999999), ESRCH);
  int priority = -1;
  CHECK("sched_getparam: priority 0", syscall(143, 0, &priority) == 0 && priority == 0);
  CHECK_ERRNO("sched_getparam with NULL", syscall(143, 0, NULL), EINVAL);

  // sched_setaffinity (raw: the kernel's answers) on the two CPUs the guest has: the caller
  // moves to CPU 1 and its child starts there; refused masks, pointers and pids. Skipped on a
  // host that does not let it use CPUs 0 and 1 (or has more CPUs than a 64-bit mask).
  uint64_t mask = 2, got = 0;
  unsigned cpu = 99;
  if (syscall(204, 0, 8, &got) != 8 || (got & 3) != 3) return;
  got = 0;
  CHECK("sched_setaffinity to CPU 1", syscall(203, 0, 8, &mask) == 0);
  CHECK("getcpu says CPU 1", syscall(309, &cpu, NULL, NULL) == 0 && cpu == 1);
  CHECK("sched_getaffinity says CPU 1", syscall(204, 0, 8, &got) == 8 && got == 2);
  child = fork();
  if (child == 0) _exit(syscall(309, &cpu, NULL, NULL) == 0 && cpu == 1 ? 0 : 1);
  CHECK("a child starts on its parent's CPU",
        waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  mask = 0;
  CHECK_ERRNO("sched_setaffinity to no CPU", syscall(203, 0, 8, &mask), EINVAL);
  mask = 1ull << 63;
  CHECK_ERRNO("sched_setaffinity to no online CPU", syscall(203, 0, 8, &mask), EINVAL);
  CHECK_ERRNO("sched_setaffinity with a bad pointer", syscall(203, 0, 8, (void*)8), EFAULT);
  mask = 1;
  CHECK_ERRNO("sched_setaffinity of no such process", syscall(203, 999999, 8, &mask), ESRCH);
  CHECK("sched_setaffinity back to CPU 0",
        syscall(203, getpid(), 8, &mask) == 0 && syscall(309, &cpu, NULL, NULL) == 0 && cpu == 0);
  mask = 3;
  CHECK("sched_setaffinity to both CPUs", syscall(203, 0, 8, &mask) == 0);
}

// eventfd: a counter that writes add to and reads take (all or, with EFD_SEMAPHORE, one),
// its limits and errors, poll and epoll readiness, a blocked read a child's write wakes, and
// what /proc shows of it.
static void eventfd_checks(void) {
  CHECK_ERRNO("eventfd2 with an unknown flag", syscall(SYS_eventfd2, 0, 4), EINVAL);
  int fd = (int)syscall(SYS_eventfd2, 3, EFD_NONBLOCK | EFD_CLOEXEC);
  CHECK("eventfd2", fd >= 0);
  CHECK("eventfd2: close-on-exec", fcntl(fd, F_GETFD) == FD_CLOEXEC);
  CHECK("eventfd2: O_RDWR | O_NONBLOCK", fcntl(fd, F_GETFL) == (O_RDWR | O_NONBLOCK));
  uint64_t value = 0;
  CHECK_ERRNO("eventfd read of 4 bytes", read(fd, &value, 4), EINVAL);
  CHECK("eventfd read takes the count", read(fd, &value, 8) == 8 && value == 3);
  CHECK_ERRNO("eventfd read of zero", read(fd, &value, 8), EAGAIN);
  value = 5;
  CHECK("eventfd write", write(fd, &value, 8) == 8);
  CHECK("eventfd write adds", write(fd, &value, 8) == 8);
  CHECK_ERRNO("eventfd write of 4 bytes", write(fd, &value, 4), EINVAL);
  value = ~0ull;
  CHECK_ERRNO("eventfd write of ULLONG_MAX", write(fd, &value, 8), EINVAL);
  value = ~0ull - 10;
  CHECK_ERRNO("eventfd write past the maximum", write(fd, &value, 8), EAGAIN);
  void* volatile bad = (void*)8;  // hidden from the compiler's bounds warnings
  CHECK_ERRNO("eventfd write from a bad pointer", write(fd, bad, 8), EFAULT);
  struct pollfd p = {fd, POLLIN | POLLOUT, 0};
  CHECK("eventfd poll: readable and writable",
        poll(&p, 1, 0) == 1 && p.revents == (POLLIN | POLLOUT));
  char path[64], link[64] = {0};
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  CHECK("eventfd /proc/self/fd",
        readlink(path, link, sizeof(link) - 1) > 0 && strcmp(link, "anon_inode:[eventfd]") == 0);
  snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
  char info[512] = {0};
  int info_fd = open(path, O_RDONLY);
  CHECK("eventfd fdinfo", info_fd >= 0 && read(info_fd, info, sizeof(info) - 1) > 0);
  close(info_fd);
  CHECK("eventfd fdinfo: the count", strstr(info, "\neventfd-count:                a\n") != NULL);
  CHECK("eventfd read of 10", read(fd, &value, 8) == 8 && value == 10);
  p.revents = 0;
  CHECK("eventfd poll: writable only", poll(&p, 1, 0) == 1 && p.revents == POLLOUT);
  // Edge-triggered epoll: each write that adds is an event, even while the count stays above 0.
  int ep = epoll_create1(0);
  struct epoll_event event = {EPOLLIN | EPOLLET, {.u64 = 7}};
  CHECK("epoll_ctl of an eventfd", epoll_ctl(ep, EPOLL_CTL_ADD, fd, &event) == 0);
  struct epoll_event got;
  CHECK("epoll: nothing yet", epoll_wait(ep, &got, 1, 0) == 0);
  value = 1;
  CHECK("eventfd write 1", write(fd, &value, 8) == 8);
  CHECK("epoll: the write", epoll_wait(ep, &got, 1, 0) == 1 && got.data.u64 == 7);
  CHECK("epoll: once", epoll_wait(ep, &got, 1, 0) == 0);
  CHECK("eventfd write 1 again", write(fd, &value, 8) == 8);
  CHECK("epoll: the second write", epoll_wait(ep, &got, 1, 0) == 1);
  close(ep);
  close(fd);
  // EFD_SEMAPHORE: each read takes one; a blocking read waits for a child's write.
  fd = eventfd(2, EFD_SEMAPHORE);
  CHECK("eventfd with EFD_SEMAPHORE", fd >= 0 && fcntl(fd, F_GETFL) == O_RDWR);
  CHECK("semaphore read 1", read(fd, &value, 8) == 8 && value == 1);
  CHECK("semaphore read 2", read(fd, &value, 8) == 8 && value == 1);
  pid_t child = fork();
  if (child == 0) {
    usleep(100000);
    uint64_t one = 4;
    _exit(write(fd, &one, 8) == 8 ? 0 : 1);
  }
  CHECK("semaphore: a blocked read woken by the child", read(fd, &value, 8) == 8 && value == 1);
  int status = -1;
  CHECK("semaphore: the child wrote", waitpid(child, &status, 0) == child && status == 0);
  CHECK("semaphore: three left",
        read(fd, &value, 8) == 8 && read(fd, &value, 8) == 8 && read(fd, &value, 8) == 8);
  close(fd);
}

// The limit on memory areas (vm.max_map_count): mmap past it is ENOMEM, and so are an
// mprotect and a munmap that would split an area; with room again they work. In a child,
// which exits with its failures (its areas go with it).
static void map_count_limit(void) {
  pid_t child = fork();
  if (child == 0) {
    long limit = 0;
    FILE* f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f == NULL || fscanf(f, "%ld", &limit) != 1) _exit(100);
    fclose(f);
    if (limit > 1000000) _exit(0);  // a host that raised it: too many to make here
    // Three-page areas, alternately read-only and writable so that neighbours never merge.
    char* areas[8] = {0};
    long made = 0;
    for (;; ++made) {
      int prot = (made & 1) ? PROT_READ | PROT_WRITE : PROT_READ;
      char* p = mmap(NULL, 3 * 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) break;
      if (made < 8) areas[made] = p;
    }
    int bad = 0;
    if (errno != ENOMEM) ++bad, printf("FAIL mmap past the limit: errno %d\n", errno);
    if (made < limit / 2 || made > limit + 1)
      ++bad, printf("FAIL %ld areas for a limit of %ld\n", made, limit);
    errno = 0;
    if (mprotect(areas[0] + 4096, 4096, PROT_NONE) != -1 || errno != ENOMEM)
      ++bad, printf("FAIL mprotect splitting an area at the limit: errno %d\n", errno);
    errno = 0;
    if (munmap(areas[1] + 4096, 4096) != -1 || errno != ENOMEM)
      ++bad, printf("FAIL munmap splitting an area at the limit: errno %d\n", errno);
    // Whole areas go at any count; then there is room to split one in three.
    for (int i = 2; i < 5; ++i) {
      if (munmap(areas[i], 3 * 4096) != 0) ++bad, printf("FAIL munmap of a whole area\n");
    }
    if (mprotect(areas[0] + 4096, 4096, PROT_NONE) != 0)
      ++bad, printf("FAIL mprotect splitting an area with room: errno %d\n", errno);
    if (areas[0][0] != 0 || areas[0][8192] != 0) ++bad, printf("FAIL the pieces around it\n");
    fflush(stdout);
    _exit(bad);
  }
  int status = -1;
  CHECK("map count limit: fork", child > 0);
  CHECK("map count limit: the child's checks",
        waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(int argc, char** argv, char** envp) {
  (void)argc;
  snprintf(dir, sizeof(dir), "/tmp/posix_checks.%d", (int)getpid());
  if (mkdir(dir, 0755) != 0) {
    perror("mkdir");
    return 2;
  }
  files();
  descriptors();
  processes();
  waitid_checks();
  memory_and_signals();
  system_calls();
  job_control();
  alarms();
  proc_environ(argv, envp);
  proc_maps();
  sendfile_checks();
  clone3_checks();
  proc_of_others();
  statx_checks();
  small_calls();
  memory_totals();
  proc_stat();
  resident_memory();
  descriptor_limits();
  map_count_limit();
  eventfd_checks();
  deleted_files();
  remove_while_reading();
  mapped_deleted_files();
  fifos();
  xattrs();
  rmdir(dir);
  add_files_counts(&passed, &failed);
  add_process_counts(&passed, &failed);
  printf("posix_checks: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
