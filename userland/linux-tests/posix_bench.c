// SPDX-License-Identifier: MIT
// The POSIX server's costs as a Linux program sees them (tools/bench runs it on Sonde and on
// Debian's Linux 6.1 in the same QEMU): per operation, the wall time (CLOCK_MONOTONIC) and the
// time-stamp counter's ticks. Under QEMU's -icount the counter follows the guest's instruction
// count; the calibration line (a loop of a known number of instructions) converts ticks into
// instructions.
//
// usage: posix_bench [OPERATION...]   (all when none: getpid read4k open_close pipe_round_trip
//                                      fork_exit_wait execve_true)
// prints "calibration instructions_per_tick_x1000 N" and "op NAME ns_per_op N ticks_per_op N".
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t ticks(void) {
  uint32_t low, high;
  __asm__ volatile("lfence; rdtsc" : "=a"(low), "=d"(high));
  return ((uint64_t)high << 32) | low;
}

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void die(const char* what) {
  perror(what);
  exit(1);
}

// 2 * count instructions (dec, jnz), plus a few.
static void spin(uint64_t count) { __asm__ volatile("1: dec %0\n\tjnz 1b" : "+r"(count)); }

static void calibrate(void) {
  const uint64_t count = 20000000;
  uint64_t start = ticks();
  spin(count);
  uint64_t elapsed = ticks() - start;
  printf("calibration instructions_per_tick_x1000 %llu\n",
         (unsigned long long)(2 * count * 1000 / (elapsed ? elapsed : 1)));
}

static int zero_fd = -1;
static int to_child[2], to_parent[2];
static pid_t echo_child;

static void op_getpid(void) { syscall(SYS_getpid); }

static void op_read4k(void) {
  static char buffer[4096];
  if (read(zero_fd, buffer, sizeof buffer) != sizeof buffer) die("read /dev/zero");
}

static void op_open_close(void) {
  int fd = open("/tmp/posix_bench.file", O_RDONLY);
  if (fd < 0) die("open");
  close(fd);
}

static void op_pipe_round_trip(void) {
  char byte = 'x';
  if (write(to_child[1], &byte, 1) != 1 || read(to_parent[0], &byte, 1) != 1) die("pipe");
}

static void op_fork_exit_wait(void) {
  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) _exit(0);
  int status;
  if (waitpid(child, &status, 0) != child) die("waitpid");
}

static void op_execve_true(void) {
  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    char* argv[] = {"true", NULL};
    char* envp[] = {NULL};
    execve("/bin/busybox", argv, envp);
    _exit(127);
  }
  int status;
  if (waitpid(child, &status, 0) != child || status != 0) die("execve busybox true");
}

static void setup(void) {
  zero_fd = open("/dev/zero", O_RDONLY);
  if (zero_fd < 0) die("/dev/zero");
  int fd = open("/tmp/posix_bench.file", O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd < 0) die("create /tmp/posix_bench.file");
  close(fd);
  if (pipe(to_child) != 0 || pipe(to_parent) != 0) die("pipe");
  echo_child = fork();
  if (echo_child < 0) die("fork");
  if (echo_child == 0) {
    close(to_child[1]);
    close(to_parent[0]);
    char byte;
    while (read(to_child[0], &byte, 1) == 1) {
      if (write(to_parent[1], &byte, 1) != 1) break;
    }
    _exit(0);
  }
}

struct operation {
  const char* name;
  void (*run)(void);
  int count;
};

static const struct operation operations[] = {
    {"getpid", op_getpid, 20000},
    {"read4k", op_read4k, 5000},
    {"open_close", op_open_close, 5000},
    {"pipe_round_trip", op_pipe_round_trip, 2000},
    {"fork_exit_wait", op_fork_exit_wait, 100},
    {"execve_true", op_execve_true, 50},
};

static void measure(const struct operation* operation) {
  for (int i = 0; i < operation->count / 10 + 1; ++i) operation->run();  // warm up
  uint64_t start_ns = now_ns(), start_ticks = ticks();
  for (int i = 0; i < operation->count; ++i) operation->run();
  uint64_t elapsed_ticks = ticks() - start_ticks, elapsed_ns = now_ns() - start_ns;
  printf("op %s ns_per_op %llu ticks_per_op %llu\n", operation->name,
         (unsigned long long)(elapsed_ns / operation->count),
         (unsigned long long)(elapsed_ticks / operation->count));
  fflush(stdout);
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  setup();
  calibrate();
  size_t total = sizeof operations / sizeof operations[0];
  for (size_t i = 0; i < total; ++i) {
    int wanted = argc == 1;
    for (int a = 1; a < argc; ++a) wanted |= strcmp(argv[a], operations[i].name) == 0;
    if (wanted) measure(&operations[i]);
  }
  close(to_child[1]);
  int status;
  waitpid(echo_child, &status, 0);
  unlink("/tmp/posix_bench.file");
  return 0;
}
