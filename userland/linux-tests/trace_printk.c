// SPDX-License-Identifier: MIT
// bpf_trace_printk into trace_pipe: a raw tracepoint program run by BPF_PROG_TEST_RUN, its
// line read from /sys/kernel/tracing/trace_pipe (non-blocking, blocking, and interrupted by a
// signal). Runs on the host's Linux first (skipped where bpf() or tracefs is not there), then
// on Sonde and on Linux 6.1 in QEMU. trace_pipe has one reader at a time (Linux 6.5 and
// Debian's 6.1 refuse a second open with EBUSY), so each reader closes it before the next.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define TRACING "/sys/kernel/tracing/"
#define MESSAGE "tracefs says hi"  // 15 bytes and its NUL: two stack words

static long sys_bpf(int cmd, union bpf_attr* attr) {
  return syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

#define INSN(code, dst, src, off, imm) ((struct bpf_insn){(code), (dst), (src), (off), (imm)})

// r1 = "tracefs says hi" on the stack, r2 = 16, call bpf_trace_printk, return 0.
static int load_program(void) {
  uint64_t words[2];
  memcpy(words, MESSAGE, sizeof words);
  struct bpf_insn insns[] = {
      INSN(BPF_LD | BPF_DW | BPF_IMM, 1, 0, 0, (int32_t)words[0]),
      INSN(0, 0, 0, 0, (int32_t)(words[0] >> 32)),
      INSN(BPF_STX | BPF_DW | BPF_MEM, 10, 1, -16, 0),
      INSN(BPF_LD | BPF_DW | BPF_IMM, 1, 0, 0, (int32_t)words[1]),
      INSN(0, 0, 0, 0, (int32_t)(words[1] >> 32)),
      INSN(BPF_STX | BPF_DW | BPF_MEM, 10, 1, -8, 0),
      INSN(BPF_ALU64 | BPF_MOV | BPF_X, 1, 10, 0, 0),
      INSN(BPF_ALU64 | BPF_ADD | BPF_K, 1, 0, 0, -16),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, 16),
      INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_trace_printk),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
      INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_RAW_TRACEPOINT;
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.insn_cnt = sizeof insns / sizeof insns[0];
  attr.license = (uint64_t)(uintptr_t) "GPL";
  return (int)sys_bpf(BPF_PROG_LOAD, &attr);
}

static int test_run(int program) {
  uint64_t args[1] = {0};
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.test.prog_fd = (uint32_t)program;
  attr.test.ctx_in = (uint64_t)(uintptr_t)args;
  attr.test.ctx_size_in = sizeof args;
  if (sys_bpf(BPF_PROG_TEST_RUN, &attr) != 0) return -errno;
  return (int)attr.test.retval;
}

// The line holding MESSAGE with its pid and timestamp columns (and their padding) masked, on
// a line of its own after `who` (so the comparison with Linux masks its CPU and a comm Linux
// had not saved yet, "<...>", as for any trace line):
// "    trace_printk-PID [000] ...2. TIMESTAMP: bpf_trace_printk: tracefs says hi".
static void print_masked(const char* who, const char* text) {
  const char* found = strstr(text, "bpf_trace_printk: " MESSAGE);
  const char* start = found;
  while (start != NULL && start > text && start[-1] != '\n') --start;
  const char* bracket = start != NULL ? strchr(start, '[') : NULL;
  if (found == NULL || bracket == NULL || bracket > found || found - start < 3) {
    printf("%s: no line with the message in: %s\n", who, text);
    return;
  }
  const char* end = strchr(found, '\n');
  if (end == NULL) end = found + strlen(found);
  const char* pid = bracket;
  while (pid > start && (pid[-1] == ' ' || (pid[-1] >= '0' && pid[-1] <= '9'))) --pid;
  const char* time_end = found - 2;  // before ": "
  const char* time = time_end;
  while (time > bracket && (time[-1] == '.' || (time[-1] >= '0' && time[-1] <= '9'))) --time;
  while (time > bracket && time[-1] == ' ') --time;
  // One write, so a line is never cut by another process's output.
  char line[1024];
  int n = snprintf(line, sizeof line, "%s:\n%.*sPID %.*s TIMESTAMP%.*s\n", who, (int)(pid - start),
                   start, (int)(time - bracket), bracket, (int)(end - time_end), time_end);
  if (n > 0) write(1, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

// Reads what trace_pipe has until `fd` would block (non-blocking) or MESSAGE came.
static ssize_t read_until_message(int fd, char* buffer, size_t size) {
  size_t used = 0;
  while (used + 1 < size) {
    ssize_t n = read(fd, buffer + used, size - 1 - used);
    if (n <= 0) {
      if (used > 0) break;
      return n;
    }
    used += (size_t)n;
    buffer[used] = 0;
    if (strstr(buffer, MESSAGE) != NULL && buffer[used - 1] == '\n') break;
  }
  buffer[used] = 0;
  return (ssize_t)used;
}

static void on_signal(int signal) { (void)signal; }

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int program = load_program();
  if (program < 0 && (errno == EPERM || errno == ENOSYS)) {
    printf("trace_printk: bpf() not permitted here (errno %d): skipped\n", errno);
    return 77;
  }
  printf("program loaded: %s\n", program >= 0 ? "yes" : strerror(errno));
  int run = test_run(program);
  printf("test run: %d\n", run);
  if (program < 0 || run != 0) return 1;
  int pipe_fd = open(TRACING "trace_pipe", O_RDONLY | O_NONBLOCK);
  if (pipe_fd < 0) {
    printf("trace_printk: no " TRACING "trace_pipe here (errno %d): the rest is skipped\n", errno);
    return 77;
  }
  char buffer[65536];
  int enable = open(TRACING "events/bpf_trace/bpf_trace_printk/enable", O_RDONLY);
  ssize_t n = enable >= 0 ? read(enable, buffer, 16) : -1;
  printf("bpf_trace_printk event enabled: %.*s", n > 0 ? (int)n : 2, n > 0 ? buffer : "?\n");
  if (enable >= 0) close(enable);

  n = read_until_message(pipe_fd, buffer, sizeof buffer);
  if (n > 0) {
    print_masked("non-blocking read", buffer);
  } else {
    printf("non-blocking read: %s\n", n < 0 ? strerror(errno) : "end of file");
  }
  errno = 0;
  n = read(pipe_fd, buffer, sizeof buffer);
  printf("non-blocking read of an empty trace_pipe: %zd %s\n", n,
         errno == EAGAIN ? "EAGAIN" : strerror(errno));
  errno = 0;
  int second = open(TRACING "trace_pipe", O_RDONLY | O_NONBLOCK);
  printf("a second open of trace_pipe: %d %s\n", second < 0 ? -1 : 0,
         second < 0 && errno == EBUSY ? "EBUSY" : strerror(errno));
  if (second >= 0) close(second);
  close(pipe_fd);

  // A blocking read waits until the program runs again (in the parent).
  pid_t child = fork();
  if (child == 0) {
    int fd = open(TRACING "trace_pipe", O_RDONLY);
    if (fd < 0) printf("blocking reader: open: %s\n", strerror(errno));
    ssize_t got = read_until_message(fd, buffer, sizeof buffer);
    if (got > 0) {
      print_masked("blocking read", buffer);
    } else {
      printf("blocking read: %zd errno %d\n", got, errno);
    }
    _exit(got > 0 ? 0 : 1);
  }
  sleep(1);
  run = test_run(program);
  int status = 0;
  waitpid(child, &status, 0);
  printf("test run while a reader waited: %d\n", run);
  printf("blocked reader exited with %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);

  // A signal ends a blocked read: EINTR without SA_RESTART.
  child = fork();
  if (child == 0) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigaction(SIGUSR1, &action, NULL);
    int fd = open(TRACING "trace_pipe", O_RDONLY);
    if (fd < 0) printf("interrupted reader: open: %s\n", strerror(errno));
    errno = 0;
    ssize_t got = read(fd, buffer, sizeof buffer);
    printf("blocked read after a signal: %zd %s\n", got,
           got < 0 && errno == EINTR ? "EINTR" : strerror(errno));
    _exit(0);
  }
  sleep(1);
  kill(child, SIGUSR1);
  waitpid(child, &status, 0);
  close(program);
  printf("trace_printk: done\n");
  return 0;
}
