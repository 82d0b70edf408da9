// SPDX-License-Identifier: MIT
// A kprobe program attached the way libbpf attaches one, with raw system calls: the kprobe PMU
// (its type from sysfs), perf_event_open on a function name, PERF_EVENT_IOC_SET_BPF or
// BPF_LINK_CREATE, then hits counted in a map with the context's arguments and the current
// task; with --per-cpu (run under `taskset -c 1`), per-CPU maps as a program on CPU 1 and bpf(2)
// see them. Sonde and Linux in QEMU: attaching anything to the host's kernel is not allowed here.
#define _GNU_SOURCE
#include "kprobe_checks.h"

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

int passed, failed;

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
uint64_t slot(int map, uint32_t index) { return map_word(map, index); }

int new_counter(void) { return new_word_map(3); }

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

// A one-counter program of `type`: counts[0] += 1, counts[1] = the u64 at `offset` of the
// context (a tracepoint record's field, a raw tracepoint's argument).
int load_context_counter(int map, unsigned type, short offset) {
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
