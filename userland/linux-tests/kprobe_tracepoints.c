// SPDX-License-Identifier: MIT
// kprobe_checks' tracepoint part: tracepoint and raw tracepoint programs on the syscall and
// sched events, and programs that read the traced process's memory (bpf_probe_read_user_str
// through pages that change under one address). Sonde and Linux in QEMU, as kprobe_checks.c.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kprobe_checks.h"

static long read_number(const char* path) {
  char text[32] = {0};
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  return n > 0 ? atol(text) : -1;
}

// perf_event_open of the tracepoint with id `id` (tracefs), for programs on it.
static int open_tracepoint(long id) {
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_TRACEPOINT;
  attr.config = (uint64_t)id;
  return (int)syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
}

// The map's one value as a string (at most 63 characters).
static void map_string(int map, char seen[64]) {
  for (unsigned i = 0; i < 8; ++i) {
    uint64_t word = map_word(map, i);
    memcpy(seen + 8 * i, &word, 8);
  }
  seen[63] = 0;
}

// The string sys_enter_unlink's pathname points to, read by a program into the map's value
// (bpf_probe_read_user_str) at every unlink.
static int load_path_reader(int map) {
  struct bpf_insn insns[] = {
      INSN(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_3, BPF_REG_1, 16, 0),  // the record's pathname
      INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_VALUE, 0, map),
      INSN(0, 0, 0, 0, 0),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, 64),
      INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_probe_read_user_str),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
      INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  return load_insns(BPF_PROG_TYPE_TRACEPOINT, insns, sizeof insns / sizeof insns[0]);
}

// A program reads the file name of each unlink from the caller's memory. The same address of
// the process holds another string after munmap and mmap (another page), and after the process
// forks and its child writes there (a copy made on write): each read must see the page as it
// is now (Sonde's trace server keeps the pages recent hits read borrowed and checks them again
// at the next hit).
void pages_read_again(void) {
  long id = read_number("/sys/kernel/tracing/events/syscalls/sys_enter_unlink/id");
  int map = new_word_map(8);
  int prog = load_path_reader(map);
  CHECK("PROG_LOAD of a path reader", map >= 0 && prog >= 0);
  int event = open_tracepoint(id);
  CHECK("SET_BPF of the path reader",
        event >= 0 && ioctl(event, PERF_EVENT_IOC_SET_BPF, prog) == 0);
  char seen[64];
  const char* names[] = {"/tmp/read_again_first", "/tmp/read_again_second", "/tmp/read_again_child",
                         "/tmp/read_again_parent"};
  char* page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  strcpy(page, names[0]);
  unlink(page);
  unlink(page);
  map_string(map, seen);
  CHECK("the first string, read twice", strcmp(seen, names[0]) == 0);
  munmap(page, 4096);
  page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  strcpy(page, names[1]);
  unlink(page);
  map_string(map, seen);
  CHECK("after munmap and mmap: the new page's string", strcmp(seen, names[1]) == 0);
  pid_t child = fork();
  if (child == 0) {
    strcpy(page, names[2]);
    unlink(page);
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  map_string(map, seen);
  CHECK("the child's copy of the page", strcmp(seen, names[2]) == 0);
  strcpy(page, names[3]);
  unlink(page);
  map_string(map, seen);
  CHECK("the parent's page again", strcmp(seen, names[3]) == 0);
  munmap(page, 4096);
  // Processes one after another, each with its own page (where the last one's was, often):
  // each read sees the string of the process that made the call.
  int right = 0;
  for (int round = 0; round < 4; ++round) {
    char name[32];
    snprintf(name, sizeof name, "/tmp/read_again_process_%d", round);
    pid_t worker = fork();
    if (worker == 0) {
      char* own = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      strcpy(own, name);
      unlink(own);
      _exit(0);
    }
    waitpid(worker, &status, 0);
    map_string(map, seen);
    right += strcmp(seen, name) == 0;
  }
  CHECK("four processes' pages, one after another", right == 4);
  // Pages of a file mapped MAP_SHARED (the POSIX server maps them in a window of its own that
  // goes with the mapping): mapped, read, unmapped, four times, each file with its own string.
  right = 0;
  for (int round = 0; round < 4; ++round) {
    char name[32], file[32];
    snprintf(name, sizeof name, "/tmp/read_again_shared_%d", round);
    snprintf(file, sizeof file, "/tmp/read_again_file_%d", round);
    int fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, 4096) != 0) continue;
    char* shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (shared == MAP_FAILED) continue;
    strcpy(shared, name);
    unlink(shared);
    munmap(shared, 4096);
    map_string(map, seen);
    right += strcmp(seen, name) == 0;
    unlink(file);
  }
  CHECK("four files' shared pages, one after another", right == 4);
  close(event);
  close(prog);
  close(map);
}

// The syscall tracepoints: a tracepoint program on syscalls:sys_enter_unlink (its record's
// pathname field at offset 16), and a raw tracepoint program on sys_enter (its id argument).
void tracepoints(void) {
  long id = read_number("/sys/kernel/tracing/events/syscalls/sys_enter_unlink/id");
  CHECK("sys_enter_unlink's id from tracefs", id > 0);
  int map = new_counter();
  int prog = load_context_counter(map, BPF_PROG_TYPE_TRACEPOINT, 16);
  CHECK("PROG_LOAD tracepoint", prog >= 0);
  int event = open_tracepoint(id);
  CHECK("perf_event_open tracepoint", event >= 0);
  CHECK("SET_BPF tracepoint", ioctl(event, PERF_EVENT_IOC_SET_BPF, prog) == 0);
  static const char path[] = "/tmp/tracepoint_missing";
  unlink(path);
  unlink(path);
  CHECK("two sys_enter_unlink hits", slot(map, 0) == 2);
  CHECK("the record's pathname", slot(map, 1) == (uint64_t)(uintptr_t)path);
  close(event);
  close(prog);
  close(map);

  map = new_counter();
  prog = load_context_counter(map, BPF_PROG_TYPE_RAW_TRACEPOINT, 8);
  CHECK("PROG_LOAD raw tracepoint", prog >= 0);
  union bpf_attr open_attr;
  memset(&open_attr, 0, sizeof open_attr);
  open_attr.raw_tracepoint.name = (uint64_t)(uintptr_t) "sys_enter";
  open_attr.raw_tracepoint.prog_fd = (uint32_t)prog;
  int link = (int)sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &open_attr);
  CHECK("RAW_TRACEPOINT_OPEN sys_enter", link >= 0);
  getppid();
  uint64_t hits = slot(map, 0);
  CHECK("raw sys_enter hits", hits >= 1 && hits != ~0ull);
  CHECK("its id argument: the last call before the lookup",
        slot(map, 1) == SYS_getppid || slot(map, 1) == SYS_bpf);
  close(link);
  uint64_t before = slot(map, 0);
  getppid();
  CHECK("no hits after the link closes", slot(map, 0) == before);
  close(prog);
  close(map);
}

static int attach_tracepoint(const char* id_path, int prog) {
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_TRACEPOINT;
  attr.config = (uint64_t)read_number(id_path);
  int event = (int)syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
  if (event >= 0 && ioctl(event, PERF_EVENT_IOC_SET_BPF, prog) != 0) {
    close(event);
    return -1;
  }
  return event;
}

// The sched tracepoints: sched_process_exec's record (pid, and the filename its __data_loc
// points to, read with bpf_probe_read_kernel_str from the context) and sched_process_exit's
// (pid and prio), for a child that execs /bin/true.
void sched_tracepoints(void) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 48;  // {hits, pid, filename[32]}
  attr.max_entries = 1;
  int map = (int)sys_bpf(BPF_MAP_CREATE, &attr);
  struct bpf_insn insns[] = {
      INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0),
      INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_7, BPF_PSEUDO_MAP_VALUE, 0, map),
      INSN(0, 0, 0, 0, 0),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 1),
      INSN(BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_7, BPF_REG_1, 0, BPF_ADD),
      INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_1, BPF_REG_6, 12, 0),  // pid
      INSN(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_7, BPF_REG_1, 8, 0),
      INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_6, 8, 0),  // __data_loc filename
      INSN(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_3, 0, 0, 0xffff),
      INSN(BPF_ALU64 | BPF_ADD | BPF_X, BPF_REG_3, BPF_REG_6, 0, 0),  // ctx + its offset
      INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_7, 0, 0),
      INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, 16),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, 32),
      INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_probe_read_kernel_str),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
      INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  static char log[16384];
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_TRACEPOINT;
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.insn_cnt = sizeof insns / sizeof insns[0];
  attr.license = (uint64_t)(uintptr_t) "GPL";
  attr.log_buf = (uint64_t)(uintptr_t)log;
  attr.log_size = sizeof log;
  attr.log_level = 1;
  int prog = (int)sys_bpf(BPF_PROG_LOAD, &attr);
  if (prog < 0) printf("load: %s\n", log);
  CHECK("PROG_LOAD sched_process_exec program", prog >= 0);
  int exec_event =
      attach_tracepoint("/sys/kernel/tracing/events/sched/sched_process_exec/id", prog);
  CHECK("attach to sched_process_exec", exec_event >= 0);
  int exit_map = new_counter();
  int exit_prog = load_context_counter(exit_map, BPF_PROG_TYPE_TRACEPOINT, 24);
  int exit_event =
      attach_tracepoint("/sys/kernel/tracing/events/sched/sched_process_exit/id", exit_prog);
  CHECK("attach to sched_process_exit", exit_event >= 0);
  pid_t child = fork();
  if (child == 0) {
    execl("/bin/true", "true", (char*)NULL);
    _exit(127);
  }
  int status = 0;
  waitpid(child, &status, 0);
  CHECK("the child ran /bin/true", WIFEXITED(status) && WEXITSTATUS(status) == 0);
  uint64_t value[6] = {0};
  uint32_t key = 0;
  memset(&attr, 0, sizeof attr);
  attr.map_fd = (uint32_t)map;
  attr.key = (uint64_t)(uintptr_t)&key;
  attr.value = (uint64_t)(uintptr_t)value;
  CHECK("lookup", sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr) == 0);
  CHECK("one sched_process_exec hit", value[0] == 1);
  CHECK("its pid: the child", value[1] == (uint64_t)child);
  CHECK("its filename through the context", strcmp((const char*)&value[2], "/bin/true") == 0);
  CHECK("one sched_process_exit hit", slot(exit_map, 0) == 1);
  CHECK("its pid and prio", slot(exit_map, 1) == ((uint64_t)120 << 32 | (uint32_t)child));
  close(exit_event);
  close(exec_event);
  close(exit_prog);
  close(prog);
  close(exit_map);
  close(map);
}

// bpf_probe_read_user_str from a tracepoint program: sys_enter_unlink's pathname (a pointer into
// the caller's memory) copied into a map value: {length or -errno, 40 bytes of string}.
void user_memory(void) {
  long id = read_number("/sys/kernel/tracing/events/syscalls/sys_enter_unlink/id");
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 48;
  attr.max_entries = 1;
  int map = (int)sys_bpf(BPF_MAP_CREATE, &attr);
  struct bpf_insn insns[] = {
      INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0),
      INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_7, BPF_PSEUDO_MAP_VALUE, 0, map),
      INSN(0, 0, 0, 0, 0),
      INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_7, 0, 0),
      INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, 8),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, 40),
      INSN(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_3, BPF_REG_6, 16, 0),  // the record's pathname
      INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_probe_read_user_str),
      INSN(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_7, BPF_REG_0, 0, 0),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
      INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_TRACEPOINT;
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.insn_cnt = sizeof insns / sizeof insns[0];
  attr.license = (uint64_t)(uintptr_t) "GPL";
  int prog = (int)sys_bpf(BPF_PROG_LOAD, &attr);
  CHECK("PROG_LOAD with bpf_probe_read_user_str", prog >= 0);
  int event = open_tracepoint(id);
  CHECK("attach to sys_enter_unlink",
        event >= 0 && ioctl(event, PERF_EVENT_IOC_SET_BPF, prog) == 0);
  static const char path[] = "/tmp/read_user_missing";
  unlink(path);
  struct {
    int64_t result;
    char text[40];
  } value;
  uint32_t key = 0;
  memset(&attr, 0, sizeof attr);
  attr.map_fd = (uint32_t)map;
  attr.key = (uint64_t)(uintptr_t)&key;
  attr.value = (uint64_t)(uintptr_t)&value;
  CHECK("bpf_probe_read_user_str reads the caller's path",
        sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr) == 0 && value.result == (int64_t)sizeof path &&
            strcmp(value.text, path) == 0);
  syscall(SYS_unlink, (const char*)8);  // a pointer to nothing
  CHECK("bpf_probe_read_user_str of an unmapped address: -EFAULT",
        sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr) == 0 && value.result == -EFAULT);
  // Strings at a page's end: across it into the next page, ending on its last byte with no page
  // after it, and running into no page (the copy goes a page at a time, as a byte at a time).
  char* pages = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (pages != MAP_FAILED) {
    static const char crossing[] = "/tmp/read_user_across_pages";
    char* across = pages + 4096 - 8;
    memcpy(across, crossing, sizeof crossing);
    unlink(across);
    CHECK("bpf_probe_read_user_str across a page boundary",
          sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr) == 0 && value.result == (int64_t)sizeof crossing &&
              strcmp(value.text, crossing) == 0);
    munmap(pages + 4096, 4096);
    static const char last[] = "/tmp/read_user_last";
    char* at_end = pages + 4096 - sizeof last;
    memcpy(at_end, last, sizeof last);
    unlink(at_end);
    CHECK("bpf_probe_read_user_str of a string ending on a page's last byte, no page after",
          sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr) == 0 && value.result == (int64_t)sizeof last &&
              strcmp(value.text, last) == 0);
    memset(pages + 4096 - 16, 'a', 16);  // no NUL before the missing page
    syscall(SYS_unlink, pages + 4096 - 16);
    CHECK("bpf_probe_read_user_str running into no page: -EFAULT",
          sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr) == 0 && value.result == -EFAULT);
    munmap(pages, 4096);
  }
  close(event);
  close(prog);
  close(map);
}
