// SPDX-License-Identifier: MIT
// A kprobe program on a microkernel function (kernel::fast_foreign_syscall, which every system
// call of a Linux program enters: kernel::syscall_dispatch is skipped by the fast paths), attached
// as libbpf attaches one: the kprobe PMU on `microkernel:NAME` as /proc/kallsyms lists it. The
// kernel records samples; the trace server runs the program on each: counts grow with the program's
// system calls, the context holds the sample's registers. Sonde only.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bpf_raw.h"
#include "checks.h"

#define FOREIGN "_ZN6kernel20fast_foreign_syscallEPNS_3TcbE"
#define KERNEL_HALF 0xffff800000000000ull

static int kprobe_type(void) { return pmu_type("kprobe"); }

// A kprobe PMU event on FUNCTION+OFFSET (config1 a name, config2 the offset), or on the address
// OFFSET when FUNCTION is NULL.
static int open_kprobe_at(int type, const char* function, uint64_t offset, int retprobe) {
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = (uint32_t)type;
  attr.config = retprobe ? 1 : 0;
  attr.config1 = (uint64_t)(uintptr_t)function;
  attr.config2 = offset;
  return (int)syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
}

static int open_kprobe(int type, const char* function, int retprobe) {
  return open_kprobe_at(type, function, 0, retprobe);
}

static uint64_t kallsyms_address(const char* name, char* type, const char* module);

// Inside a POSIX-server function a kprobe sits on an instruction boundary (the first one after
// the 5-byte entry NOP, here), by offset or by address; inside an instruction it is EILSEQ, and
// a return probe there EINVAL, as Linux answers.
static void inside_functions(int type) {
  CHECK_ERRNO("a kprobe at do_unlinkat+1", open_kprobe_at(type, "do_unlinkat", 1, 0), EILSEQ);
  CHECK_ERRNO("a kretprobe at do_unlinkat+5", open_kprobe_at(type, "do_unlinkat", 5, 1), EINVAL);
  char letter = 0;
  uint64_t unlinkat = kallsyms_address("do_unlinkat", &letter, "");
  CHECK("do_unlinkat in /proc/kallsyms", unlinkat != 0);
  CHECK_ERRNO("a kprobe at do_unlinkat's address + 1", open_kprobe_at(type, NULL, unlinkat + 1, 0),
              EILSEQ);
  int after_nop = open_kprobe_at(type, NULL, unlinkat + 5, 0);
  CHECK("a kprobe at do_unlinkat's address + 5 (after the entry NOP)", after_nop >= 0);
  if (after_nop >= 0) close(after_nop);
  int entry = open_kprobe_at(type, NULL, unlinkat, 0);
  CHECK("a kprobe at do_unlinkat's address", entry >= 0);
  // Its entry NOP is an int3 now: a second probe there is still at the entry.
  int second = open_kprobe_at(type, "do_unlinkat", 0, 1);
  CHECK("a kretprobe on the probed do_unlinkat", second >= 0);
  if (second >= 0) close(second);
  if (entry >= 0) close(entry);
  CHECK("unlink still works", unlink("/tmp/kernel_kprobe_missing") == -1 && errno == ENOENT);
}

// The function's address and type letter from /proc/kallsyms, in `module` ("[microkernel]",
// or "" for the POSIX server's own functions).
static uint64_t kallsyms_address(const char* name, char* type, const char* module) {
  FILE* file = fopen("/proc/kallsyms", "r");
  if (file == NULL) return 0;
  char line[512];
  uint64_t found = 0;
  while (fgets(line, sizeof line, file) != NULL) {
    unsigned long long address;
    char letter;
    char symbol[400], in[64] = "";
    int fields = sscanf(line, "%llx %c %399s %63s", &address, &letter, symbol, in);
    if (fields >= 3 && strcmp(symbol, name) == 0 && strcmp(in, module) == 0) {
      found = address;
      *type = letter;
      break;
    }
  }
  fclose(file);
  return found;
}

enum { kHits, kDi, kIp, kSp, kTgid, kReturnAddress, kValues };

static uint64_t value(int map, int index) { return map_word(map, (unsigned)index); }

// v[0] += 1; v[1] = ctx->di; v[2] = ctx->ip; v[3] = ctx->sp; v[4] = current tgid;
// v[5] = the return address read at ctx->sp (bpf_probe_read_kernel); return 0
static int load_program(int map) {
  struct bpf_insn insns[] = {
      INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0),
      INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_7, BPF_PSEUDO_MAP_VALUE, 0, map),
      INSN(0, 0, 0, 0, 0),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 1),
      INSN(BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_7, BPF_REG_1, 0, BPF_ADD),
      INSN(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_6, 112, 0),  // di
      INSN(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_7, BPF_REG_1, 8, 0),
      INSN(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_6, 128, 0),  // ip
      INSN(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_7, BPF_REG_1, 16, 0),
      INSN(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_6, 152, 0),  // sp
      INSN(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_7, BPF_REG_1, 24, 0),
      INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_current_pid_tgid),
      INSN(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_0, 0, 0, 32),
      INSN(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_7, BPF_REG_0, 32, 0),
      // bpf_probe_read_kernel(&v[5], 8, ctx->sp)
      INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_7, 0, 0),
      INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, 40),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, 8),
      INSN(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_3, BPF_REG_6, 152, 0),
      INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_probe_read_kernel),
      INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
      INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  return load_insns(BPF_PROG_TYPE_KPROBE, insns, sizeof insns / sizeof insns[0]);
}

static void run(int type, int map, int prog, const char* name, uint64_t function) {
  int event = open_kprobe(type, name, 0);
  CHECK("perf_event_open kprobe on the microkernel function", event >= 0);
  CHECK("PERF_EVENT_IOC_SET_BPF", ioctl(event, PERF_EVENT_IOC_SET_BPF, prog) == 0);
  CHECK("PERF_EVENT_IOC_ENABLE", ioctl(event, PERF_EVENT_IOC_ENABLE, 0) == 0);
  uint64_t before = value(map, kHits);
  for (int i = 0; i < 5; ++i) getppid();
  uint64_t after = value(map, kHits);
  printf("%s: %llu samples before, %llu after 5 getppid\n", name, (unsigned long long)before,
         (unsigned long long)after);
  CHECK("a sample per system call", before != ~0ull && after != ~0ull && after >= before + 5);
  CHECK("pt_regs->di: the calling TCB, a kernel address", value(map, kDi) >= KERNEL_HALF);
  // As Linux's kprobe handlers see it: just past the int3 at the function's entry.
  CHECK("pt_regs->ip: the probed function + 1", value(map, kIp) == function + 1);
  CHECK("pt_regs->sp: the kernel stack", value(map, kSp) >= KERNEL_HALF);
  CHECK("no Linux task: tgid 0", value(map, kTgid) == 0);
  CHECK("the return address on the sampled stack", value(map, kReturnAddress) >= KERNEL_HALF);
  // The trace server drains the rings while the program sleeps (its drain thread): six short
  // bursts of system calls give more samples than one ring holds, none dropped.
  struct timespec gap = {0, 50 * 1000 * 1000};
  uint64_t bursts_before = value(map, kHits);
  for (int burst = 0; burst < 6; ++burst) {
    for (int i = 0; i < 5; ++i) getppid();
    nanosleep(&gap, NULL);
  }
  uint64_t bursts = value(map, kHits) - bursts_before;
  printf("%s: %llu samples in six bursts\n", name, (unsigned long long)bursts);
  CHECK("more samples than a ring holds: drained between bursts", bursts > 31);
  close(event);
  uint64_t closed = value(map, kHits);
  for (int i = 0; i < 5; ++i) getppid();
  CHECK("no samples after close", value(map, kHits) == closed);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  char letter = 0;
  uint64_t function = kallsyms_address(FOREIGN, &letter, "[microkernel]");
  CHECK("fast_foreign_syscall in /proc/kallsyms as [microkernel]", function >= KERNEL_HALF);
  CHECK("a text symbol", letter == 'T' || letter == 't');
  int type = kprobe_type();
  CHECK("kprobe PMU type in sysfs", type > 0);
  int map = new_word_map(kValues);
  CHECK("MAP_CREATE", map >= 0);
  int prog = load_program(map);
  CHECK("PROG_LOAD kprobe", prog >= 0);

  CHECK_ERRNO("a missing microkernel function", open_kprobe(type, "microkernel:no_such", 0),
              ENOENT);
  CHECK_ERRNO("another module", open_kprobe(type, "ext4:" FOREIGN, 0), ENOENT);
  run(type, map, prog, "microkernel:" FOREIGN, function);
  run(type, map, prog, FOREIGN, function);  // a bare name the POSIX server does not have
  inside_functions(type);
  close(prog);
  close(map);
  printf("kernel_kprobe_checks: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
