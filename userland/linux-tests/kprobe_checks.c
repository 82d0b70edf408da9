// SPDX-License-Identifier: MIT
// A kprobe program attached the way libbpf attaches one, with raw system calls: the kprobe PMU
// (its type from sysfs), perf_event_open on a function name, PERF_EVENT_IOC_SET_BPF or
// BPF_LINK_CREATE, then hits counted in a map with the context's arguments and the current
// task; with --per-cpu (run under `taskset -c 1`), per-CPU maps as a program on CPU 1 and bpf(2)
// see them. Sonde and Linux in QEMU: attaching anything to the host's kernel is not allowed here.
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

#include "bpf_raw.h"
#include "checks.h"

static int kprobe_type(void) { return pmu_type("kprobe"); }

static int open_probe_at(int type, const char* function, uint64_t offset, int retprobe) {
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = (uint32_t)type;
  attr.config = retprobe ? 1 : 0;                // format/retprobe: config:0
  attr.config1 = (uint64_t)(uintptr_t)function;  // kprobe_func
  attr.config2 = offset;                         // probe_offset
  return (int)syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
}

static int open_probe(int type, const char* function, int retprobe) {
  return open_probe_at(type, function, 0, retprobe);
}

static int open_kprobe(int type, const char* function) { return open_probe(type, function, 0); }

// Field `index` of the map's one value: {hits, dfd, tgid}.
static uint64_t slot(int map, uint32_t index) { return map_word(map, index); }

// counts[0] += 1; counts[1] = ctx->di (dfd); counts[2] = current tgid; return 0
static int load_counter(int map, unsigned type) {
  struct bpf_insn insns[] = {
      INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0),
      INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_7, BPF_PSEUDO_MAP_VALUE, 0, map),
      INSN(0, 0, 0, 0, 0),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 1),
      INSN(BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_7, BPF_REG_1, 0, BPF_ADD),
      INSN(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_6, 112, 0),  // pt_regs->di
      INSN(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_7, BPF_REG_1, 8, 0),
      INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_current_pid_tgid),
      INSN(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_0, 0, 0, 32),
      INSN(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_7, BPF_REG_0, 16, 0),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
      INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  return load_insns(type, insns, sizeof insns / sizeof insns[0]);
}

static long read_number(const char* path) {
  char text[32] = {0};
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  return n > 0 ? atol(text) : -1;
}

// A one-counter program of `type`: counts[0] += 1, counts[1] = the u64 at `offset` of the
// context (a tracepoint record's field, a raw tracepoint's argument).
static int load_context_counter(int map, unsigned type, short offset) {
  struct bpf_insn insns[] = {
      INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0),
      INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_7, BPF_PSEUDO_MAP_VALUE, 0, map),
      INSN(0, 0, 0, 0, 0),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 1),
      INSN(BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_7, BPF_REG_1, 0, BPF_ADD),
      INSN(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_6, offset, 0),
      INSN(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_7, BPF_REG_1, 8, 0),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
      INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = type;
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.insn_cnt = sizeof insns / sizeof insns[0];
  attr.license = (uint64_t)(uintptr_t) "GPL";
  return (int)sys_bpf(BPF_PROG_LOAD, &attr);
}

static int new_counter(void) { return new_word_map(3); }

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
static void pages_read_again(void) {
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
static void tracepoints(void) {
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
static void sched_tracepoints(void) {
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
static void user_memory(void) {
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

// A kretprobe (the PMU's retprobe bit): the program sees the return value in pt_regs->ax.
static void retprobes(int type) {
  int map = new_counter();
  int prog = load_context_counter(map, BPF_PROG_TYPE_KPROBE, 80);  // pt_regs->ax
  CHECK("PROG_LOAD kretprobe program", prog >= 0);
  int event = open_probe(type, "do_unlinkat", 1);
  CHECK("perf_event_open kretprobe", event >= 0);
  CHECK("SET_BPF kretprobe", ioctl(event, PERF_EVENT_IOC_SET_BPF, prog) == 0);
  unlink("/tmp/kretprobe_missing");
  CHECK("one return", slot(map, 0) == 1);
  // An int: the upper half of rax is not part of it (Linux shows 4294967294 for -ENOENT too).
  CHECK("the return value: -ENOENT", (int32_t)(uint32_t)slot(map, 1) == -ENOENT);
  close(event);
  unlink("/tmp/kretprobe_missing");
  CHECK("no returns after close", slot(map, 0) == 1);
  close(prog);
  close(map);
}

// A kprobe perf event bound to a task or a CPU counts only the hits there (read() of the count),
// as perf filters them: one bound to this process's thread leaves a child's unlinks out, one
// bound to a CPU counts what ran on it (this process pinned to CPU 1).
static int open_bound_probe(int type, int pid, int cpu) {
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = (uint32_t)type;
  attr.config1 = (uint64_t)(uintptr_t) "do_unlinkat";
  return (int)syscall(SYS_perf_event_open, &attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

static uint64_t event_count(int event) {
  uint64_t count = ~0ull;
  return read(event, &count, sizeof count) == (ssize_t)sizeof count ? count : ~0ull;
}

static void bound_counts(int type) {
  int mine = open_bound_probe(type, getpid(), -1);
  CHECK("a kprobe event bound to this process", mine >= 0);
  for (int i = 0; i < 3; ++i) unlink("/tmp/kprobe_bound_missing");
  pid_t child = fork();
  if (child == 0) {
    for (int i = 0; i < 2; ++i) unlink("/tmp/kprobe_bound_missing");
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  CHECK("its count: this process's three unlinks, not its child's two", event_count(mine) == 3);
  close(mine);
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  CPU_SET(1, &cpus);
  CHECK("pinned to CPU 1", sched_setaffinity(0, sizeof cpus, &cpus) == 0);
  int on_0 = open_bound_probe(type, -1, 0);
  int on_1 = open_bound_probe(type, -1, 1);
  CHECK("kprobe events bound to CPU 0 and to CPU 1", on_0 >= 0 && on_1 >= 0);
  for (int i = 0; i < 4; ++i) unlink("/tmp/kprobe_bound_missing");
  CHECK("CPU 1's: the four unlinks; CPU 0's: none",
        event_count(on_1) == 4 && event_count(on_0) == 0);
  close(on_0);
  close(on_1);
  CPU_SET(0, &cpus);
  (void)sched_setaffinity(0, sizeof cpus, &cpus);
}

// Kprobes inside a function (Linux's func+offs): at instruction boundaries only (EILSEQ inside
// an instruction), never a return probe off the entry (EINVAL); the probed instruction runs out
// of line, so the function still does what it did. Here up to 24 boundaries among the first
// 160 bytes of do_unlinkat (calls and branches among them), each with its own counter of hits
// and the ip its program saw (the probe's address + 1, as after an int3).
static void inside_probes(int type) {
  errno = 0;
  CHECK("a kprobe at do_unlinkat+1 (inside its first instruction): EILSEQ",
        open_probe_at(type, "do_unlinkat", 1, 0) == -1 && errno == EILSEQ);
  enum { kMax = 24 };
  int events[kMax], maps[kMax], progs[kMax];
  uint64_t offsets[kMax];
  int count = 0, refused_inside = 0, other_errors = 0;
  for (uint64_t offset = 2; offset < 160 && count < kMax; ++offset) {
    errno = 0;
    int event = open_probe_at(type, "do_unlinkat", offset, 0);
    if (event < 0) {
      if (errno == EILSEQ) {
        ++refused_inside;
      } else if (errno != EINVAL) {  // EINVAL: an instruction that cannot run out of line
        ++other_errors;
      }
      continue;
    }
    maps[count] = new_counter();
    progs[count] = load_context_counter(maps[count], BPF_PROG_TYPE_KPROBE, 128);  // pt_regs->ip
    if (maps[count] < 0 || progs[count] < 0 ||
        ioctl(event, PERF_EVENT_IOC_SET_BPF, progs[count]) != 0) {
      ++other_errors;
      close(event);
      continue;
    }
    events[count] = event;
    offsets[count++] = offset;
  }
  CHECK("at least 8 kprobes inside do_unlinkat's first 160 bytes", count >= 8);
  CHECK("offsets inside instructions among them: EILSEQ", refused_inside > 0);
  CHECK("no other error on the way", other_errors == 0);
  errno = 0;
  CHECK("a kretprobe inside the function: EINVAL",
        count > 0 && open_probe_at(type, "do_unlinkat", offsets[0], 1) == -1 && errno == EINVAL);
  int removed = 0, missing = 0;
  for (int i = 0; i < 3; ++i) {
    int fd = open("/tmp/kprobe_inside", O_CREAT | O_WRONLY, 0600);
    if (fd >= 0) close(fd);
    removed += unlink("/tmp/kprobe_inside") == 0 && access("/tmp/kprobe_inside", F_OK) != 0;
    errno = 0;
    missing += unlink("/tmp/kprobe_inside") == -1 && errno == ENOENT;
  }
  CHECK("unlink still removes a file, three times", removed == 3);
  CHECK("and still fails with ENOENT for a missing one", missing == 3);
  CHECK("the first probe inside counted each of the six calls", count > 0 && slot(maps[0], 0) == 6);
  int ip_right = 0, hit = 0;
  for (int i = 0; i < count; ++i) {
    if (slot(maps[i], 0) == 0) continue;  // a branch not taken in these calls
    ++hit;
    ip_right += slot(maps[i], 1) - slot(maps[0], 1) == offsets[i] - offsets[0];
  }
  CHECK("each probe's ip: its address + 1 (the same distance apart as their offsets)",
        hit > 0 && ip_right == hit);
  uint64_t before = count > 0 ? slot(maps[0], 0) : 0;
  for (int i = 0; i < count; ++i) close(events[i]);
  unlink("/tmp/kprobe_inside");
  CHECK("no hits after the events close", count > 0 && slot(maps[0], 0) == before);
  for (int i = 0; i < count; ++i) {
    close(progs[i]);
    close(maps[i]);
  }
}

static uint64_t unlink_ns(int rounds) {
  uint64_t start = now_ns();
  for (int i = 0; i < rounds; ++i) unlink("/tmp/kprobe_bench_missing");
  return (now_ns() - start) / (uint64_t)rounds;
}

// `kprobe_checks --bench N`: the cost a kprobe+kretprobe pair with a map counter adds to an
// unlink of a missing file (do_unlinkat in the POSIX server), per call (tools/bench).
static int bench(int rounds) {
  int type = kprobe_type();
  int map = new_counter();
  int entry_prog = load_context_counter(map, BPF_PROG_TYPE_KPROBE, 112);
  int return_prog = load_context_counter(map, BPF_PROG_TYPE_KPROBE, 80);
  if (type <= 0 || map < 0 || entry_prog < 0 || return_prog < 0) return 1;
  (void)unlink_ns(rounds / 10 + 1);  // warm up
  uint64_t bare = unlink_ns(rounds);
  int entry = open_probe(type, "do_unlinkat", 0);
  int ret = open_probe(type, "do_unlinkat", 1);
  if (entry < 0 || ret < 0 || ioctl(entry, PERF_EVENT_IOC_SET_BPF, entry_prog) != 0 ||
      ioctl(ret, PERF_EVENT_IOC_SET_BPF, return_prog) != 0) {
    return 1;
  }
  uint64_t probed = unlink_ns(rounds);
  printf(
      "unlink of a missing file: %llu ns; with a kprobe+kretprobe pair and a map counter: "
      "%llu ns; added: %llu ns per call (%llu hits counted, %d rounds, QEMU TCG)\n",
      (unsigned long long)bare, (unsigned long long)probed,
      (unsigned long long)(probed > bare ? probed - bare : 0), (unsigned long long)slot(map, 0),
      rounds);
  close(entry);
  close(ret);
  // One kprobe alone: at the entry (Linux: through the ftrace site), then at the first
  // instruction after it that takes a kprobe (Linux: an int3, with kprobes-optimization off),
  // which tells what an int3 costs Linux against ftrace. Sonde probes entries only.
  uint64_t at_entry = 0, inside = 0;
  int offset = 0;
  bare = unlink_ns(rounds);  // again: later loops run warmer than the first
  int single = open_probe(type, "do_unlinkat", 0);
  if (single >= 0 && ioctl(single, PERF_EVENT_IOC_SET_BPF, entry_prog) == 0) {
    uint64_t t = unlink_ns(rounds);
    at_entry = t > bare ? t - bare : 0;
  }
  if (single >= 0) close(single);
  for (int at = 5; at <= 40 && offset == 0; ++at) {
    int event = open_probe_at(type, "do_unlinkat", (uint64_t)at, 0);
    if (event < 0) continue;
    offset = at;
    if (ioctl(event, PERF_EVENT_IOC_SET_BPF, entry_prog) == 0) {
      uint64_t t = unlink_ns(rounds);
      inside = t > bare ? t - bare : 0;
    }
    close(event);
  }
  if (offset != 0) {
    printf("kprobe alone added: %llu ns at the entry, %llu ns at +%d\n",
           (unsigned long long)at_entry, (unsigned long long)inside, offset);
  } else {
    printf("kprobe alone added: %llu ns at the entry, none inside\n", (unsigned long long)at_entry);
  }
  return 0;
}

// BPF_TASK_FD_QUERY (bpftool perf): what a task's perf event fd is attached to, asked by the
// task itself and by a child naming its parent's pid.
static long task_fd_query(int pid, int fd, char* buffer, uint32_t length, union bpf_attr* attr) {
  memset(attr, 0, sizeof *attr);
  attr->task_fd_query.pid = (uint32_t)pid;
  attr->task_fd_query.fd = (uint32_t)fd;
  attr->task_fd_query.buf = (uint64_t)(uintptr_t)buffer;
  attr->task_fd_query.buf_len = length;
  return sys_bpf(BPF_TASK_FD_QUERY, attr);
}

static void task_fd_queries(int event, int map, int prog) {
  union bpf_attr attr, info_attr;
  struct bpf_prog_info info;
  memset(&info, 0, sizeof info);
  memset(&info_attr, 0, sizeof info_attr);
  info_attr.info.bpf_fd = (uint32_t)prog;
  info_attr.info.info_len = sizeof info;
  info_attr.info.info = (uint64_t)(uintptr_t)&info;
  sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &info_attr);
  char name[64] = "";
  CHECK("TASK_FD_QUERY of a kprobe event",
        task_fd_query(getpid(), event, name, sizeof name, &attr) == 0 &&
            attr.task_fd_query.fd_type == BPF_FD_TYPE_KPROBE &&
            attr.task_fd_query.prog_id == info.id && strcmp(name, "do_unlinkat") == 0 &&
            attr.task_fd_query.buf_len == 11);
  errno = 0;
  CHECK("TASK_FD_QUERY of a missing task",
        task_fd_query(999999, event, name, sizeof name, &attr) == -1 && errno == ENOENT);
  errno = 0;
  CHECK("TASK_FD_QUERY of a closed fd",
        task_fd_query(getpid(), 200, name, sizeof name, &attr) == -1 && errno == EBADF);
  errno = 0;
  CHECK("TASK_FD_QUERY of a map fd: ENOTSUPP",
        task_fd_query(getpid(), map, name, sizeof name, &attr) == -1 && errno == 524);
  int parent = getpid();
  pid_t child = fork();
  if (child == 0) {
    char seen[64] = "";
    union bpf_attr child_attr;
    _exit(task_fd_query(parent, event, seen, sizeof seen, &child_attr) == 0 &&
                  strcmp(seen, "do_unlinkat") == 0
              ? 0
              : 1);
  }
  int status = -1;
  waitpid(child, &status, 0);
  CHECK("TASK_FD_QUERY of the parent's fd from a child",
        WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

// The CPUs in /sys/devices/system/cpu/possible ("0" or "0-N"), as libbpf counts them.
static int possible_cpus(void) {
  char text[32] = {0};
  int fd = open("/sys/devices/system/cpu/possible", O_RDONLY);
  if (fd < 0) return -1;
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0 || text[0] != '0') return -1;
  return text[1] == '-' ? atoi(text + 2) + 1 : 1;
}

// A per-CPU value as bpf(2) carries it: value_size 12 ({hits, cpu, 0}) rounded up to 16 per CPU.
struct per_cpu_value {
  uint32_t hits, cpu, zero, padding;
};

static long per_cpu_call(int cmd, int map, uint32_t key, struct per_cpu_value* values) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.map_fd = (uint32_t)map;
  attr.key = (uint64_t)(uintptr_t)&key;
  attr.value = (uint64_t)(uintptr_t)values;
  return sys_bpf(cmd, &attr);
}

// `kprobe_checks --per-cpu` under `taskset -c 1`: a kprobe program on do_unlinkat counts into
// element 0 of a PERCPU_ARRAY and records bpf_get_smp_processor_id(); bpf(2) reads and writes one
// value per possible CPU, so the hits of a task on CPU 1 are in the second value only.
static int per_cpu(void) {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  CHECK("taskset -c 1: the affinity is CPU 1", sched_getaffinity(0, sizeof cpus, &cpus) == 0 &&
                                                   CPU_COUNT(&cpus) == 1 && CPU_ISSET(1, &cpus));
  unsigned cpu = ~0u;
  CHECK("getcpu: 1", syscall(SYS_getcpu, &cpu, NULL, NULL) == 0 && cpu == 1);
  CHECK("two possible CPUs in sysfs", possible_cpus() == 2);
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.map_type = BPF_MAP_TYPE_PERCPU_ARRAY;
  attr.key_size = 4;
  attr.value_size = 12;
  attr.max_entries = 2;
  int map = (int)sys_bpf(BPF_MAP_CREATE, &attr);
  CHECK("MAP_CREATE PERCPU_ARRAY", map >= 0);
  struct per_cpu_value values[2] = {{5, 6, 7, 0}, {8, 9, 10, 0}};
  CHECK("UPDATE_ELEM with a value per CPU", per_cpu_call(BPF_MAP_UPDATE_ELEM, map, 1, values) == 0);
  memset(values, 0xff, sizeof values);
  CHECK("LOOKUP_ELEM gives each CPU's value, 8-byte aligned, padding zeroed",
        per_cpu_call(BPF_MAP_LOOKUP_ELEM, map, 1, values) == 0 && values[0].hits == 5 &&
            values[0].zero == 7 && values[0].padding == 0 && values[1].hits == 8 &&
            values[1].cpu == 9 && values[1].padding == 0);
  // r0 = bpf_map_lookup_elem(map, &0); if r0: r0->hits += 1, r0->cpu = smp_processor_id
  struct bpf_insn insns[] = {
      INSN(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -4, 0),
      INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0),
      INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4),
      INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map),
      INSN(0, 0, 0, 0, 0),
      INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
      INSN(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 6, 0),
      INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_0, 0, 0),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 1),
      INSN(BPF_STX | BPF_ATOMIC | BPF_W, BPF_REG_6, BPF_REG_1, 0, BPF_ADD),
      INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_smp_processor_id),
      INSN(BPF_STX | BPF_MEM | BPF_W, BPF_REG_6, BPF_REG_0, 4, 0),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
      INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  int prog = load_insns(BPF_PROG_TYPE_KPROBE, insns, sizeof insns / sizeof insns[0]);
  CHECK("PROG_LOAD kprobe counting into a per-CPU array", prog >= 0);
  int event = open_kprobe(kprobe_type(), "do_unlinkat");
  CHECK("attach to do_unlinkat", event >= 0 && ioctl(event, PERF_EVENT_IOC_SET_BPF, prog) == 0);
  for (int i = 0; i < 3; ++i) unlink("/tmp/kprobe_checks_missing");
  close(event);
  memset(values, 0xff, sizeof values);
  CHECK("LOOKUP_ELEM of the counted element",
        per_cpu_call(BPF_MAP_LOOKUP_ELEM, map, 0, values) == 0);
  CHECK("CPU 1's value: three hits on CPU 1", values[1].hits == 3 && values[1].cpu == 1);
  CHECK("CPU 0's value: untouched", values[0].hits == 0 && values[0].cpu == 0);
  close(prog);
  close(map);
  printf("kprobe_checks --per-cpu: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc > 2 && strcmp(argv[1], "--bench") == 0) return bench(atoi(argv[2]));
  if (argc > 1 && strcmp(argv[1], "--per-cpu") == 0) return per_cpu();
  int type = kprobe_type();
  CHECK("kprobe PMU type in sysfs", type > 0);
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 24;
  attr.max_entries = 1;
  int map = (int)sys_bpf(BPF_MAP_CREATE, &attr);
  CHECK("MAP_CREATE", map >= 0);
  int prog = load_counter(map, BPF_PROG_TYPE_KPROBE);
  CHECK("PROG_LOAD kprobe", prog >= 0);

  errno = 0;
  CHECK("perf_event_open of a missing function",
        open_kprobe(type, "no_such_function") == -1 && errno == ENOENT);
  int event = open_kprobe(type, "do_unlinkat");
  CHECK("perf_event_open kprobe on do_unlinkat", event >= 0);
  CHECK("perf fds with PERF_FLAG_FD_CLOEXEC", fcntl(event, F_GETFD) == FD_CLOEXEC);
  CHECK("PERF_EVENT_IOC_SET_BPF", ioctl(event, PERF_EVENT_IOC_SET_BPF, prog) == 0);
  errno = 0;
  CHECK("a second program: EEXIST",
        ioctl(event, PERF_EVENT_IOC_SET_BPF, prog) == -1 && errno == EEXIST);
  CHECK("PERF_EVENT_IOC_ENABLE", ioctl(event, PERF_EVENT_IOC_ENABLE, 0) == 0);
  task_fd_queries(event, map, prog);
  for (int i = 0; i < 3; ++i) unlink("/tmp/kprobe_checks_missing");
  CHECK("three hits", slot(map, 0) == 3);
  CHECK("pt_regs->di is unlink's AT_FDCWD", (int32_t)(uint32_t)slot(map, 1) == AT_FDCWD);
  CHECK("bpf_get_current_pid_tgid: the caller", slot(map, 2) == (uint64_t)getpid());
  close(event);
  unlink("/tmp/kprobe_checks_missing");
  CHECK("no hits after close", slot(map, 0) == 3);

  // BPF_LINK_CREATE with BPF_PERF_EVENT, as libbpf 1.1 attaches.
  event = open_kprobe(type, "do_unlinkat");
  CHECK("perf_event_open again", event >= 0);
  memset(&attr, 0, sizeof attr);
  attr.link_create.prog_fd = (uint32_t)prog;
  attr.link_create.target_fd = (uint32_t)event;
  attr.link_create.attach_type = BPF_PERF_EVENT;
  int link = (int)sys_bpf(BPF_LINK_CREATE, &attr);
  CHECK("LINK_CREATE BPF_PERF_EVENT", link >= 0);
  unlink("/tmp/kprobe_checks_missing");
  CHECK("a hit through the link", slot(map, 0) == 4);
  close(link);
  close(event);
  unlink("/tmp/kprobe_checks_missing");
  CHECK("no hits after the link goes", slot(map, 0) == 4);
  close(prog);
  close(map);
  tracepoints();
  sched_tracepoints();
  user_memory();
  pages_read_again();
  retprobes(type);
  inside_probes(type);
  bound_counts(type);
  printf("kprobe_checks: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
