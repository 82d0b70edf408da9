// SPDX-License-Identifier: MIT
// Uprobes and uretprobes attached the way libbpf attaches them, with raw system calls: the
// uprobe PMU (its type from sysfs), perf_event_open on this program's own file and the file
// offset of one of its functions, PERF_EVENT_IOC_SET_BPF, then hits counted in a map with the
// context's arguments, the return value and the current task; a forked child hits them too,
// and two threads interleaving calls get their own tids and return values.
// Sonde only: attaching anything to the host's kernel is not allowed here.
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "bpf_raw.h"
#include "checks.h"

// The probed functions: out of line, with ordinary prologues.
__attribute__((noinline)) long traced_add(long a, long b) {
  __asm__ volatile("" ::: "memory");
  return a + b;
}
__attribute__((noinline)) long traced_length(const char* text) {
  __asm__ volatile("" ::: "memory");
  return (long)strlen(text);
}
__attribute__((noinline)) long traced_slow(int fd) {
  char c = 0;
  if (read(fd, &c, 1) != 1) return -1;
  return c + 1;
}
__attribute__((noinline)) long traced_twice(long a) {
  __asm__ volatile("" ::: "memory");
  return traced_add(a, a);
}
// Thread `which` (1 or 2) waits in here for a byte; the result's low bits name the thread.
__attribute__((noinline)) long traced_thread(long which, int fd, long round) {
  char c = 0;
  if (read(fd, &c, 1) != 1) return -1;
  return which + 4 * (round + c);
}

// A function whose first instruction is a store through its argument: a uprobe there runs the
// store out of line, where it may take a page fault (a page not touched yet) or a SIGSEGV.
__asm__(
    ".text\n"
    ".globl probed_store\n"
    ".type probed_store, @function\n"
    "probed_store:\n"
    "  movb $1, (%rdi)\n"
    "  ret\n"
    ".size probed_store, . - probed_store\n");
void probed_store(char* where);

// A rip-relative store and load (their slots are single-stepped: the copy addresses through a
// register the kernel sets for the step) to pages of rip_target no process touched before.
char rip_target[3 * 4096] __attribute__((aligned(4096)));
__asm__(
    ".text\n"
    ".globl probed_rip_store\n"
    ".type probed_rip_store, @function\n"
    "probed_rip_store:\n"
    "  movb $1, rip_target+4096(%rip)\n"
    "  ret\n"
    ".size probed_rip_store, . - probed_rip_store\n"
    ".globl probed_rip_load\n"
    ".type probed_rip_load, @function\n"
    "probed_rip_load:\n"
    "  movzbl rip_target+8192(%rip), %eax\n"
    "  ret\n"
    ".size probed_rip_load, . - probed_rip_load\n");
void probed_rip_store(void);
int probed_rip_load(void);

static sigjmp_buf store_fault;
static volatile uintptr_t store_fault_rip;
static void on_store_fault(int signal, siginfo_t* info, void* context) {
  (void)signal;
  (void)info;
  store_fault_rip = (uintptr_t)((ucontext_t*)context)->uc_mcontext.gregs[REG_RIP];
  siglongjmp(store_fault, 1);
}

static int uprobe_type(void) { return pmu_type("uprobe"); }

// The file offset of `address` in this program (its PT_LOAD segments, as libbpf finds them).
static long file_offset(const char* path, uintptr_t address) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  Elf64_Ehdr header;
  long result = -1;
  if (pread(fd, &header, sizeof header, 0) == sizeof header) {
    for (int i = 0; i < header.e_phnum; ++i) {
      Elf64_Phdr ph;
      if (pread(fd, &ph, sizeof ph, (off_t)(header.e_phoff + i * sizeof ph)) != sizeof ph) break;
      if (ph.p_type == PT_LOAD && address >= ph.p_vaddr && address < ph.p_vaddr + ph.p_memsz) {
        result = (long)(address - ph.p_vaddr + ph.p_offset);
      }
    }
  }
  close(fd);
  return result;
}

static int open_uprobe(int type, const char* path, long offset, int retprobe, int pid) {
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = (uint32_t)type;
  attr.config = retprobe ? 1 : 0;            // format/retprobe: config:0
  attr.config1 = (uint64_t)(uintptr_t)path;  // uprobe_path
  attr.config2 = (uint64_t)offset;           // probe_offset
  return (int)syscall(SYS_perf_event_open, &attr, pid, pid == -1 ? 0 : -1, -1,
                      PERF_FLAG_FD_CLOEXEC);
}

static int new_counter(void) { return new_word_map(4); }

// Field `index` of the map's one value: {hits, first argument, tgid, return value}.
static uint64_t slot(int map, uint32_t index) { return map_word(map, index); }

// value[0] += 1; value[1] = ctx->di; value[2] = tgid; value[3] = ctx->ax; return 0
static int load_counter(int map) {
  struct bpf_insn insns[] = {
      INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0),
      INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_7, BPF_PSEUDO_MAP_VALUE, 0, map),
      INSN(0, 0, 0, 0, 0),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 1),
      INSN(BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_7, BPF_REG_1, 0, BPF_ADD),
      INSN(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_6, 112, 0),  // pt_regs->di
      INSN(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_7, BPF_REG_1, 8, 0),
      INSN(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_6, 80, 0),  // pt_regs->ax
      INSN(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_7, BPF_REG_1, 24, 0),
      INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_current_pid_tgid),
      INSN(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_0, 0, 0, 32),
      INSN(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_7, BPF_REG_0, 16, 0),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
      INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  return load_insns(BPF_PROG_TYPE_KPROBE, insns, sizeof insns / sizeof insns[0]);
}

// The threads' map, 4 words per thread `which` (1, 2) from word 4 * which: entry hits, the tid
// of the last entry hit, returns with that tid and the thread's value (ax & 3 = which), other
// returns. The entry program: r7 = the thread's words (di & 3), hits += 1, tid = pid_tgid.
static int load_thread_entry(int map) {
  struct bpf_insn insns[] = {
      INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_7, BPF_PSEUDO_MAP_VALUE, 0, map),
      INSN(0, 0, 0, 0, 0),
      INSN(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_2, BPF_REG_1, 112, 0),  // pt_regs->di
      INSN(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 3),
      INSN(BPF_ALU64 | BPF_LSH | BPF_K, BPF_REG_2, 0, 0, 5),
      INSN(BPF_ALU64 | BPF_ADD | BPF_X, BPF_REG_7, BPF_REG_2, 0, 0),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 1),
      INSN(BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_7, BPF_REG_1, 0, BPF_ADD),
      INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_current_pid_tgid),
      INSN(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_0, BPF_REG_0, 0, 0),  // the low half: the tid
      INSN(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_7, BPF_REG_0, 8, 0),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
      INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  return load_insns(BPF_PROG_TYPE_KPROBE, insns, sizeof insns / sizeof insns[0]);
}

// The return program: r7 = the words of thread ax & 3; the return counts as the thread's own
// when the returning tid is the one its entry hit saw, else as another's.
static int load_thread_return(int map) {
  struct bpf_insn insns[] = {
      INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_7, BPF_PSEUDO_MAP_VALUE, 0, map),
      INSN(0, 0, 0, 0, 0),
      INSN(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_2, BPF_REG_1, 80, 0),  // pt_regs->ax
      INSN(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 3),
      INSN(BPF_ALU64 | BPF_LSH | BPF_K, BPF_REG_2, 0, 0, 5),
      INSN(BPF_ALU64 | BPF_ADD | BPF_X, BPF_REG_7, BPF_REG_2, 0, 0),
      INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_current_pid_tgid),
      INSN(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_0, BPF_REG_0, 0, 0),
      INSN(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_7, 8, 0),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, 1),
      INSN(BPF_JMP | BPF_JNE | BPF_X, BPF_REG_0, BPF_REG_1, 2, 0),
      INSN(BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_7, BPF_REG_2, 16, BPF_ADD),
      INSN(BPF_JMP | BPF_JA, 0, 0, 1, 0),
      INSN(BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_7, BPF_REG_2, 24, BPF_ADD),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
      INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  return load_insns(BPF_PROG_TYPE_KPROBE, insns, sizeof insns / sizeof insns[0]);
}

// A uprobe (or uretprobe) on `function` running `prog`; the perf event fd, or -1.
static int attach_program(int type, const char* self, void* function, int retprobe, int pid,
                          int prog) {
  long offset = file_offset(self, (uintptr_t)function);
  int event = open_uprobe(type, self, offset, retprobe, pid);
  if (offset < 0 || prog < 0 || event < 0) {
    printf("attach: offset %ld prog %d event %d (%s)\n", offset, prog, event, strerror(errno));
    return -1;
  }
  if (ioctl(event, PERF_EVENT_IOC_SET_BPF, prog) != 0 || ioctl(event, PERF_EVENT_IOC_ENABLE, 0)) {
    printf("attach: ioctl %s\n", strerror(errno));
    return -1;
  }
  close(prog);
  return event;
}

struct worker {
  long which;
  int go[2];    // the main thread writes a byte: the pending call returns
  int done[2];  // the worker writes the result's low byte after each call
  int tid;      // its gettid()
  int wrong;    // calls whose result was not this thread's
};

enum { kThreadRounds = 6 };

static void* worker_main(void* argument) {
  struct worker* w = argument;
  w->tid = (int)syscall(SYS_gettid);
  for (long round = 0; round < kThreadRounds; ++round) {
    long result = traced_thread(w->which, w->go[0], round);
    if (result != w->which + 4 * (round + 'g')) ++w->wrong;
    char byte = (char)result;
    if (write(w->done[1], &byte, 1) != 1) ++w->wrong;
  }
  return NULL;
}

// traced_add(*value, 1000) in a thread; *value becomes the thread's tid.
static void* thread_call(void* argument) {
  long* value = argument;
  if (traced_add(*value, 1000) != *value + 1000) return NULL;
  *value = (long)syscall(SYS_gettid);
  return NULL;
}

enum { kRaceCalls = 100 };

// kRaceCalls calls of traced_twice; *argument counts the wrong results.
static void* race_calls(void* argument) {
  long* wrong = argument;
  for (long i = 0; i < kRaceCalls; ++i) {
    if (traced_twice(i) != 2 * i) ++*wrong;
  }
  return NULL;
}

// Waits (up to 5 s) until thread `which` has made `hits` entry hits.
static void wait_for_entry(int map, long which, uint64_t hits) {
  for (int i = 0; i < 5000 && map_word(map, 4 * (unsigned)which) < hits; ++i) usleep(1000);
}

// A uprobe (or uretprobe) on `function` with a fresh counter; the perf event fd, or -1.
static int attach(int type, const char* self, void* function, int retprobe, int pid, int* map) {
  long offset = file_offset(self, (uintptr_t)function);
  *map = new_counter();
  int prog = load_counter(*map);
  int event = open_uprobe(type, self, offset, retprobe, pid);
  if (offset < 0 || *map < 0 || prog < 0 || event < 0) {
    printf("attach: offset %ld map %d prog %d event %d (%s)\n", offset, *map, prog, event,
           strerror(errno));
    return -1;
  }
  if (ioctl(event, PERF_EVENT_IOC_SET_BPF, prog) != 0 || ioctl(event, PERF_EVENT_IOC_ENABLE, 0)) {
    printf("attach: ioctl %s\n", strerror(errno));
    return -1;
  }
  close(prog);
  return event;
}

static uint64_t traced_add_ns(int rounds) {
  uint64_t start = now_ns();
  long sum = 0;
  for (int i = 0; i < rounds; ++i) sum += traced_add(i, sum & 1);
  uint64_t elapsed = now_ns() - start;
  return sum == -1 ? 0 : elapsed / (uint64_t)rounds;  // keeps the calls
}

// `uprobe_checks --bench N`: the cost a uprobe with a map counter (a BPF program) adds to a call
// of a function of this program, per call (tools/bench, next to Linux's).
static int bench(int rounds) {
  char self[256] = {0};
  if (readlink("/proc/self/exe", self, sizeof self - 1) <= 0) return 1;
  int type = uprobe_type();
  int map = 0;
  (void)traced_add_ns(rounds / 10 + 1);  // warm up
  uint64_t bare = traced_add_ns(rounds);
  int event = attach(type, self, (void*)traced_add, 0, -1, &map);
  if (type <= 0 || event < 0) return 1;
  uint64_t probed = traced_add_ns(rounds);
  printf(
      "call of a traced function: %llu ns; with a uprobe and a map counter: %llu ns; added: %llu "
      "ns per call (%llu hits counted, %d rounds, QEMU TCG)\n",
      (unsigned long long)bare, (unsigned long long)probed,
      (unsigned long long)(probed > bare ? probed - bare : 0), (unsigned long long)slot(map, 0),
      rounds);
  close(event);
  return 0;
}

int main(int argc, char** argv) {
  if (argc > 2 && strcmp(argv[1], "--bench") == 0) return bench(atoi(argv[2]));
  if (argc > 1 && strcmp(argv[1], "offset") == 0) {  // for uprobe_events definitions
    char self[256] = {0};
    if (readlink("/proc/self/exe", self, sizeof self - 1) <= 0) return 1;
    printf("0x%lx\n", file_offset(self, (uintptr_t)traced_add));
    return 0;
  }
  if (argc > 1 && strcmp(argv[1], "call") == 0) {  // calls for a tracefs uprobe event
    long total = 0;
    for (int i = 2; i < argc; ++i)
      total += traced_add(atol(argv[i]), 1000) + traced_length(argv[i]);
    printf("called: %ld\n", total);
    return 0;
  }
  if (argc > 2 && strcmp(argv[1], "threadcall") == 0) {  // a call from a second thread
    pthread_t handle;
    long value = atol(argv[2]), tid = 0;
    if (pthread_create(&handle, NULL, thread_call, &value) != 0 || pthread_join(handle, NULL))
      return 1;
    tid = value;
    printf("%ld\n", tid != getpid() ? tid : -1L);  // its tid, for the lines' comm-TID
    return 0;
  }
  if (argc > 1) {  // the exec'd child: three calls of the probed function
    long sum = 0;
    for (int i = 0; i < 3; ++i) sum += traced_add(100, i);
    return sum == 303 ? 0 : 1;
  }
  int type = uprobe_type();
  CHECK("uprobe PMU type", type > 0);
  char self[256] = {0};
  CHECK("own path", readlink("/proc/self/exe", self, sizeof self - 1) > 0);
  printf("probing %s\n", self);

  // Errors as Linux's perf_uprobe_init: a missing file, a directory.
  CHECK_ERRNO("missing file", open_uprobe(type, "/no/such/file", 0x1000, 0, -1), ENOENT);
  CHECK_ERRNO("a directory", open_uprobe(type, "/tmp", 0x1000, 0, -1), EINVAL);

  // Entry probe: every call counts, with its first argument and the caller's tgid.
  int entry_map = -1, return_map = -1;
  int entry = attach(type, self, (void*)traced_add, 0, -1, &entry_map);
  CHECK("uprobe attached", entry >= 0);
  long sum = 0;
  for (long i = 1; i <= 5; ++i) sum += traced_add(i, 10);
  CHECK("probed calls still compute", sum == 65);
  CHECK("5 hits", slot(entry_map, 0) == 5);
  CHECK("first argument (di)", slot(entry_map, 1) == 5);
  CHECK("tgid of the hit", slot(entry_map, 2) == (uint64_t)getpid());

  // Return probe: the return value in ax, through the trampoline; calls nest (traced_twice
  // calls traced_add) and still return to the right places.
  int ret = attach(type, self, (void*)traced_twice, 1, -1, &return_map);
  CHECK("uretprobe attached", ret >= 0);
  CHECK("returns through the trampoline", traced_twice(21) == 42 && traced_twice(4) == 8);
  CHECK("2 returns", slot(return_map, 0) == 2);
  CHECK("return value (ax)", slot(return_map, 3) == 8);
  CHECK("nested entry hits", slot(entry_map, 0) == 7);

  // A forked child has the probes too (its own breakpoints on its copy of the code).
  pid_t child = fork();
  if (child == 0) _exit(traced_add(1, 2) == 3 && traced_twice(5) == 10 ? 0 : 1);
  int status = 0;
  CHECK("forked child ran",
        waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK("child's entry hits", slot(entry_map, 0) == 9);
  CHECK("child's tgid", slot(entry_map, 2) == (uint64_t)child);
  CHECK("child's return", slot(return_map, 0) == 3 && slot(return_map, 3) == 10);

  // A program started after the probe was made (exec of this same file) hits it too.
  child = fork();
  if (child == 0) {
    char* args[] = {self, "child", NULL};
    execv(self, args);
    _exit(127);
  }
  CHECK("exec'd child ran",
        waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK("exec'd child's hits", slot(entry_map, 0) == 12 && slot(entry_map, 1) == 100);

  // Closing the events takes the probes away: calls no longer count.
  close(entry);
  close(ret);
  uint64_t before = slot(entry_map, 0), returns = slot(return_map, 0);
  CHECK("unprobed calls", traced_add(2, 2) == 4 && traced_twice(3) == 6);
  CHECK("no hits after close", slot(entry_map, 0) == before && slot(return_map, 0) == returns);

  // A probe on a forked child only (perf_event_open with its pid), armed while the child still
  // shares the parent's code copy-on-write: the child gets its own copy of the page before the
  // int3 goes in, so the unprobed parent never meets it (it would take a SIGTRAP).
  int go[2];
  CHECK("pipe", pipe(go) == 0);
  child = fork();
  if (child == 0) {
    char byte;
    if (read(go[0], &byte, 1) != 1) _exit(2);
    _exit(traced_add(7, 1) == 8 && traced_add(7, 2) == 9 ? 0 : 1);
  }
  int only_map = -1;
  int only = attach(type, self, (void*)traced_add, 0, child, &only_map);
  CHECK("uprobe on the child only", only >= 0);
  CHECK("the parent's calls are not probed", traced_add(3, 3) == 6 && slot(only_map, 0) == 0);
  CHECK("start the child", write(go[1], "g", 1) == 1);
  CHECK("probed child ran",
        waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK("the child's hits", slot(only_map, 0) == 2 && slot(only_map, 2) == (uint64_t)child);
  close(only);

  // Two threads in traced_thread at once, returning in the other order every second round:
  // each entry hit sees its own thread's tid (bpf_get_current_pid_tgid) and each return its
  // own value, with the tid of its entry, and reaches its own caller.
  int thread_map = new_word_map(16);
  int thread_entry =
      attach_program(type, self, (void*)traced_thread, 0, -1, load_thread_entry(thread_map));
  int thread_return =
      attach_program(type, self, (void*)traced_thread, 1, -1, load_thread_return(thread_map));
  CHECK("uprobe and uretprobe for threads",
        thread_map >= 0 && thread_entry >= 0 && thread_return >= 0);
  struct worker workers[3] = {{0}};
  pthread_t handles[3];
  int started = 1;
  for (long k = 1; k <= 2; ++k) {
    workers[k].which = k;
    started = started && pipe(workers[k].go) == 0 && pipe(workers[k].done) == 0 &&
              pthread_create(&handles[k], NULL, worker_main, &workers[k]) == 0;
  }
  CHECK("two threads", started);
  int in_order = 1;
  for (int round = 0; started && round < kThreadRounds; ++round) {
    wait_for_entry(thread_map, 1, (uint64_t)round + 1);
    wait_for_entry(thread_map, 2, (uint64_t)round + 1);
    for (int n = 0; n < 2; ++n) {
      long k = (round + n) % 2 + 1;  // thread 1 returns first in even rounds, 2 in odd ones
      char byte = 'g';
      if (write(workers[k].go[1], &byte, 1) != 1 || read(workers[k].done[0], &byte, 1) != 1 ||
          (byte & 3) != k) {
        in_order = 0;
      }
    }
  }
  for (long k = 1; started && k <= 2; ++k) pthread_join(handles[k], NULL);
  CHECK("threads' calls return to their callers",
        in_order && workers[1].wrong == 0 && workers[2].wrong == 0);
  CHECK("entry hits of each thread",
        map_word(thread_map, 4) == kThreadRounds && map_word(thread_map, 8) == kThreadRounds);
  CHECK("each thread's tid", workers[1].tid != getpid() &&
                                 map_word(thread_map, 5) == (uint64_t)workers[1].tid &&
                                 map_word(thread_map, 9) == (uint64_t)workers[2].tid);
  CHECK("each thread's returns",
        map_word(thread_map, 6) == kThreadRounds && map_word(thread_map, 10) == kThreadRounds);
  CHECK("no return seen by another thread",
        map_word(thread_map, 7) == 0 && map_word(thread_map, 11) == 0);
  close(thread_entry);
  close(thread_return);

  // A tail call between two functions with return probes (traced_twice jumps to traced_add at
  // -O2): the one return reports both, as Linux's chained return instances.
  int add_map = -1, twice_map = -1;
  int add_return = attach(type, self, (void*)traced_add, 1, -1, &add_map);
  int twice_return = attach(type, self, (void*)traced_twice, 1, -1, &twice_map);
  CHECK("uretprobes on a tail call",
        add_return >= 0 && twice_return >= 0 && traced_twice(6) == 12 && traced_twice(7) == 14);
  CHECK("both returns of a tail call", slot(add_map, 0) == 2 && slot(twice_map, 0) == 2 &&
                                           slot(add_map, 3) == 14 && slot(twice_map, 3) == 14);
  // The same from two threads at once, free-running: every call returns its own value.
  pthread_t racers[2];
  long wrong[2] = {0, 0};
  int raced = pthread_create(&racers[0], NULL, race_calls, &wrong[0]) == 0 &&
              pthread_create(&racers[1], NULL, race_calls, &wrong[1]) == 0 &&
              pthread_join(racers[0], NULL) == 0 && pthread_join(racers[1], NULL) == 0;
  CHECK("concurrent returns reach their callers", raced && wrong[0] == 0 && wrong[1] == 0);
  CHECK("concurrent returns counted",
        slot(add_map, 0) == 2 + 2 * kRaceCalls && slot(twice_map, 0) == 2 + 2 * kRaceCalls);
  close(add_return);
  close(twice_return);

  // A probed instruction that faults runs once per call, as Linux's: a page fault the system
  // resolves (each call stores to a page not touched yet) is not a second hit, and a fault that
  // becomes SIGSEGV shows the probed instruction's own address in the handler's context.
  enum { kFreshPages = 8 };
  int store_map = -1;
  int store = attach(type, self, (void*)probed_store, 0, -1, &store_map);
  char* fresh =
      mmap(NULL, kFreshPages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK("uprobe on a store", store >= 0 && fresh != MAP_FAILED);
  for (int i = 0; fresh != MAP_FAILED && i < kFreshPages; ++i) probed_store(fresh + i * 4096);
  int stored = fresh != MAP_FAILED;
  for (int i = 0; stored && i < kFreshPages; ++i) stored = fresh[i * 4096] == 1;
  CHECK("stores to untouched pages done", stored);
  printf("hits of %d stores to untouched pages: %llu\n", kFreshPages,
         (unsigned long long)slot(store_map, 0));
  CHECK("one hit per store to an untouched page", slot(store_map, 0) == kFreshPages);
  struct sigaction action, previous;
  memset(&action, 0, sizeof action);
  action.sa_sigaction = on_store_fault;
  action.sa_flags = SA_SIGINFO;
  sigemptyset(&action.sa_mask);
  int faults = 0;
  sigaction(SIGSEGV, &action, &previous);
  for (int i = 0; i < 2; ++i) {
    store_fault_rip = 0;
    if (sigsetjmp(store_fault, 1) == 0) probed_store(NULL);
    if (store_fault_rip == (uintptr_t)probed_store) ++faults;
  }
  sigaction(SIGSEGV, &previous, NULL);
  CHECK("SIGSEGV in a probed instruction is at its address", faults == 2);
  CHECK("a faulting probed instruction is one hit a call", slot(store_map, 0) == kFreshPages + 2);
  if (fresh != MAP_FAILED) munmap(fresh, kFreshPages * 4096);
  close(store);

  // The same for a single-stepped copy: three children each store to a page of .bss that no
  // process touched (a page fault in the step), one hit each; a load from a page made
  // inaccessible is SIGSEGV at the probed instruction, one hit.
  int rip_map = -1, load_map = -1;
  int rip_store = attach(type, self, (void*)probed_rip_store, 0, -1, &rip_map);
  int rip_load = attach(type, self, (void*)probed_rip_load, 0, -1, &load_map);
  CHECK("uprobes on rip-relative instructions", rip_store >= 0 && rip_load >= 0);
  int children_stored = 1;
  for (int i = 0; i < 3; ++i) {
    pid_t storer = fork();
    if (storer == 0) {
      probed_rip_store();
      _exit(rip_target[4096] == 1 ? 0 : 1);
    }
    children_stored &= storer > 0 && waitpid(storer, &status, 0) == storer && WIFEXITED(status) &&
                       WEXITSTATUS(status) == 0;
  }
  CHECK("rip-relative stores to untouched pages done", children_stored);
  printf("hits of 3 rip-relative stores to untouched pages: %llu\n",
         (unsigned long long)slot(rip_map, 0));
  CHECK("one hit per rip-relative store", slot(rip_map, 0) == 3);
  CHECK("an inaccessible page", mprotect(rip_target + 8192, 4096, PROT_NONE) == 0);
  sigaction(SIGSEGV, &action, &previous);
  store_fault_rip = 0;
  if (sigsetjmp(store_fault, 1) == 0) (void)probed_rip_load();
  sigaction(SIGSEGV, &previous, NULL);
  CHECK("SIGSEGV in a stepped probed instruction is at its address",
        store_fault_rip == (uintptr_t)probed_rip_load);
  CHECK("one hit for the faulting load", slot(load_map, 0) == 1);
  close(rip_store);
  close(rip_load);

  // Return probes survive a trace-server crash: a call pending in a uretprobed function while
  // the server dies (and the root task restarts it) still returns to its caller, through the
  // trampoline in this process, which pops the shadow stack itself. Linux has no trace server
  // to crash (no /proc/sonde): there the child only writes, and the same checks hold.
  int slow_map = -1;
  int slow = attach(type, self, (void*)traced_slow, 1, -1, &slow_map);
  int pipe_fds[2];
  CHECK("uretprobe on a blocking function", slow >= 0 && pipe(pipe_fds) == 0);
  pid_t crasher = fork();
  if (crasher == 0) {
    int crashed = 1;
    if (access("/proc/sonde", F_OK) == 0) {
      int control = open("/proc/sonde/trace-server", O_WRONLY);
      crashed = control >= 0 && write(control, "crash\n", 6) == 6;
    }
    char byte = 'x';
    if (write(pipe_fds[1], &byte, 1) != 1) crashed = 0;
    _exit(crashed ? 0 : 1);
  }
  CHECK("a pending return reaches its caller after a crash", traced_slow(pipe_fds[0]) == 'x' + 1);
  CHECK("the crash was made",
        waitpid(crasher, &status, 0) == crasher && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK("calls go on after the crash", traced_twice(8) == 16 && traced_add(1, 1) == 2);
  close(slow);
  printf("uprobe_checks: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
