// SPDX-License-Identifier: MIT
// The FPU/SSE state in x86-64 signal frames, checked from a static musl program: a handler
// that trashes every xmm register, MXCSR and the x87 control word and computes with doubles
// leaves the interrupted code's registers intact; the handler starts with the initial state
// and finds the interrupted one through uc_mcontext.fpstate (fxsave layout, magic numbers);
// a change to the saved state is what the code goes on with; a NULL fpstate resets the state;
// a fpstate that cannot be restored is SIGSEGV. It runs on the host's Linux first, then on
// Sonde and on Linux 6.1 in QEMU, whose default CPU (qemu64) has no XSAVE: the frame's layout
// follows CPUID, as Linux's does. The interrupted code is inline asm around a raw system call
// (signals arrive as the call returns), so no compiled code between loading and storing the
// registers uses them.
#define _GNU_SOURCE
#include <cpuid.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checks.h"

// Linux's ucontext as the kernel writes it (arch/x86/include/uapi/asm/ucontext.h), read by
// offset so musl's and glibc's differing types do not matter.
struct frame_ucontext {
  uint64_t uc_flags, uc_link;
  uint64_t ss_sp, ss_flags_pad, ss_size;
  uint64_t gregs[23];  // r8 .. cr2 as struct sigcontext_64
  uint8_t* fpstate;
};
enum {
  kFxXmm = 160,  // xmm0 in the fxsave area
  kFxMxcsr = 24,
  kFxSoftware = 464,  // struct _fpx_sw_bytes
};
#define FP_MAGIC1 0x46505853u
#define FP_MAGIC2 0x46505845u

// What the interrupted code loads before its system call and what it finds after it.
struct state {
  uint8_t xmm[256];
  uint32_t mxcsr;
  uint16_t fcw;
} __attribute__((aligned(16)));
static struct state before, after;

#define LOAD(n) "movdqu " #n "*16(%[in]), %%xmm" #n "\n"
#define STORE(n) "movdqu %%xmm" #n ", " #n "*16(%[out])\n"

// MXCSR as the interrupted code found it.
static uint32_t after_mxcsr;

// A raw system call with xmm0..15, MXCSR and the x87 control word loaded from `before`, and
// stored into `after` once it returns (after any signal handler); then the defaults again.
static long call_holding(long number, long a, long b, long c, long d) {
  register long r10 __asm__("r10") = d;
  long result;
  uint32_t default_mxcsr = 0x1f80;
  uint16_t default_fcw = 0x37f;
  __asm__ volatile(LOAD(0) LOAD(1) LOAD(2) LOAD(3) LOAD(4) LOAD(5) LOAD(6) LOAD(7) LOAD(8)
                       LOAD(9) LOAD(10) LOAD(11) LOAD(12) LOAD(13) LOAD(14) LOAD(15)
                   "ldmxcsr 256(%[in])\n fldcw 260(%[in])\n"
                   "syscall\n" STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5) STORE(6)
                       STORE(7) STORE(8) STORE(9) STORE(10) STORE(11) STORE(12) STORE(13)
                           STORE(14) STORE(15)
                   "stmxcsr 256(%[out])\n fnstcw 260(%[out])\n"
                   "ldmxcsr %[mx]\n fldcw %[cw]\n"
                   : "=a"(result)
                   : "a"(number), "D"(a), "S"(b), "d"(c), "r"(r10), [in] "r"(&before),
                     [out] "r"(&after), [mx] "m"(default_mxcsr), [cw] "m"(default_fcw)
                   : "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5",
                     "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
                     "xmm14", "xmm15");
  after_mxcsr = after.mxcsr;
  return result;
}

static void fill(uint8_t seed) {
  for (int i = 0; i < 256; ++i) before.xmm[i] = (uint8_t)(seed + i * 7);
  before.mxcsr = 0x7f80;  // round toward zero
  before.fcw = 0x27f;     // double precision
  memset(&after, 0, sizeof(after));
}

// What the handler saw and does.
enum mode { kPlain, kModifyXmm1, kNullFpstate, kUnmappedFpstate, kBadMxcsr };
static volatile enum mode mode;
static volatile int handled;
static volatile uint64_t saw_uc_flags;
static volatile int saw_fx_only;
static volatile int saw_fpstate, saw_magic1, saw_magic2, saw_xmm0, saw_mxcsr, saw_clean_mxcsr,
    saw_clean_fcw, doubles_right;
static const uint8_t modified_xmm1[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static void handler(int signal, siginfo_t* info, void* context) {
  (void)signal;
  (void)info;
  uint32_t mxcsr;
  uint16_t fcw;
  __asm__ volatile("stmxcsr %0\n fnstcw %1" : "=m"(mxcsr), "=m"(fcw));
  saw_clean_mxcsr = mxcsr == 0x1f80;
  saw_clean_fcw = fcw == 0x37f;
  struct frame_ucontext* uc = context;
  saw_uc_flags = uc->uc_flags;
  uint8_t* fp = uc->fpstate;
  saw_fpstate = fp != NULL;
  if (fp != NULL) {
    uint32_t magic1, extended_size, xstate_size, magic2 = 0, saved_mxcsr;
    memcpy(&magic1, fp + kFxSoftware, 4);
    memcpy(&extended_size, fp + kFxSoftware + 4, 4);
    memcpy(&xstate_size, fp + kFxSoftware + 16, 4);
    saw_magic1 = magic1 == FP_MAGIC1;
    // Without XSAVE the area is the fxsave area alone: nothing of the frame after it.
    if (saw_magic1 && xstate_size > 512) memcpy(&magic2, fp + xstate_size, 4);
    saw_magic2 = magic2 == FP_MAGIC2;
    saw_fx_only = saw_magic1 && xstate_size == 512 && extended_size == 512 + 4;
    saw_xmm0 = memcmp(fp + kFxXmm, before.xmm, 16) == 0;
    memcpy(&saved_mxcsr, fp + kFxMxcsr, 4);
    saw_mxcsr = saved_mxcsr == before.mxcsr;
  }
  // Doubles, as a handler that prints would use them.
  volatile double x = 2.5;
  char text[32];
  snprintf(text, sizeof(text), "%.3f %.1f", x * 3.0, x / 3.0);
  doubles_right = strcmp(text, "7.500 0.8") == 0;
  // Trash everything the interrupted code holds.
  uint32_t odd_mxcsr = 0x3f80;  // round down
  uint16_t odd_fcw = 0x07f;
  __asm__ volatile(
      "pcmpeqd %%xmm0, %%xmm0\n pcmpeqd %%xmm1, %%xmm1\n pcmpeqd %%xmm2, %%xmm2\n"
      "pcmpeqd %%xmm3, %%xmm3\n pcmpeqd %%xmm4, %%xmm4\n pcmpeqd %%xmm5, %%xmm5\n"
      "pcmpeqd %%xmm6, %%xmm6\n pcmpeqd %%xmm7, %%xmm7\n pcmpeqd %%xmm8, %%xmm8\n"
      "pcmpeqd %%xmm9, %%xmm9\n pcmpeqd %%xmm10, %%xmm10\n pcmpeqd %%xmm11, %%xmm11\n"
      "pcmpeqd %%xmm12, %%xmm12\n pcmpeqd %%xmm13, %%xmm13\n pcmpeqd %%xmm14, %%xmm14\n"
      "pcmpeqd %%xmm15, %%xmm15\n ldmxcsr %0\n fldcw %1\n"
      :
      : "m"(odd_mxcsr), "m"(odd_fcw)
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
        "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
  switch (mode) {
    case kModifyXmm1:
      if (fp != NULL) memcpy(fp + kFxXmm + 16, modified_xmm1, 16);
      break;
    case kNullFpstate: uc->fpstate = NULL; break;
    case kUnmappedFpstate: uc->fpstate = (uint8_t*)0x10; break;
    case kBadMxcsr:
      if (fp != NULL) fp[kFxMxcsr + 3] |= 0x80;  // bit 31: reserved on every CPU
      break;
    default: break;
  }
  ++handled;
}

// CPUID's XSAVE: Linux then writes an XSAVE area (header, magic2 after it) and sets
// UC_FP_XSTATE; without it (QEMU's default qemu64 CPU) the fxsave area alone, whose software
// bytes still carry magic1 with xstate_size 512 (arch/x86/kernel/fpu/signal.c,
// save_xstate_epilog).
static int cpu_has_xsave(void) {
  unsigned eax, ebx, ecx, edx;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_XSAVE) != 0;
}

// Does the CPU refuse a reserved MXCSR bit (#GP, so SIGSEGV, on ldmxcsr)? Every x86 CPU does;
// QEMU's TCG (the emulator the QEMU tests run in) loads it.
static int cpu_refuses_reserved_mxcsr(void) {
  pid_t child = fork();
  if (child == 0) {
    uint32_t bad = 0x80001f80u;
    __asm__ volatile("ldmxcsr %0" : : "m"(bad));
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
}

static void install(void) {
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_sigaction = handler;
  action.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR1, &action, NULL);
}

static int xmm_intact(int skip) {
  for (int i = 0; i < 16; ++i) {
    if (i != skip && memcmp(after.xmm + 16 * i, before.xmm + 16 * i, 16) != 0) return 0;
  }
  return 1;
}

// raise() as the interrupted code's own system call.
static void raised(void) {
  mode = kPlain;
  handled = 0;
  fill(0x31);
  long r = call_holding(SYS_kill, getpid(), SIGUSR1, 0, 0);
  CHECK("raise: kill returned 0", r == 0);
  CHECK("raise: the handler ran", handled == 1);
  CHECK("raise: xmm0..15 intact after the handler", xmm_intact(-1));
  CHECK("raise: MXCSR intact after the handler", after_mxcsr == 0x7f80);
  CHECK("raise: x87 control word intact after the handler", after.fcw == 0x27f);
  CHECK("handler: uc_mcontext.fpstate is set", saw_fpstate);
  CHECK("handler: fpstate's magic1", saw_magic1);
  if (cpu_has_xsave()) {
    CHECK("handler: magic2 after the xsave area", saw_magic2);
    CHECK("handler: uc_flags has UC_FP_XSTATE", (saw_uc_flags & 1) != 0);
  } else {
    CHECK("handler: no XSAVE: the fxsave area alone (xstate_size 512)", saw_fx_only);
    CHECK("handler: no XSAVE: uc_flags without UC_FP_XSTATE", (saw_uc_flags & 1) == 0);
  }
  CHECK("handler: fpstate holds the interrupted xmm0", saw_xmm0);
  CHECK("handler: fpstate holds the interrupted MXCSR", saw_mxcsr);
  CHECK("handler: starts with MXCSR 0x1f80", saw_clean_mxcsr);
  CHECK("handler: starts with x87 control word 0x37f", saw_clean_fcw);
  CHECK("handler: computes and prints doubles", doubles_right);
}

// A signal from a child, pending while blocked, arriving as sigprocmask unblocks it.
static void from_child(void) {
  mode = kPlain;
  handled = 0;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  pid_t child = fork();
  if (child == 0) {
    kill(getppid(), SIGUSR1);
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  CHECK("child: not handled while blocked", handled == 0);
  fill(0x77);
  long r = call_holding(SYS_rt_sigprocmask, SIG_UNBLOCK, (long)&set, 0, 8);
  CHECK("child: sigprocmask returned 0", r == 0);
  CHECK("child: the handler ran", handled == 1);
  CHECK("child: xmm0..15 intact after the handler", xmm_intact(-1));
  CHECK("child: MXCSR intact after the handler", after_mxcsr == 0x7f80);
  CHECK("child: x87 control word intact after the handler", after.fcw == 0x27f);
}

// The handler changes the saved xmm1: the code goes on with the new value.
static void modified(void) {
  mode = kModifyXmm1;
  handled = 0;
  fill(0x05);
  call_holding(SYS_kill, getpid(), SIGUSR1, 0, 0);
  CHECK("modify: the handler ran", handled == 1);
  CHECK("modify: xmm1 is the frame's new value", memcmp(after.xmm + 16, modified_xmm1, 16) == 0);
  CHECK("modify: the other registers intact", xmm_intact(1));
  mode = kNullFpstate;
  fill(0x09);
  call_holding(SYS_kill, getpid(), SIGUSR1, 0, 0);
  static const uint8_t zeros[256];
  CHECK("NULL fpstate: xmm registers reset", memcmp(after.xmm, zeros, sizeof(zeros)) == 0);
  CHECK("NULL fpstate: MXCSR reset", after_mxcsr == 0x1f80);
  CHECK("NULL fpstate: x87 control word reset", after.fcw == 0x37f);
  mode = kPlain;
}

// Compiled code keeping doubles in registers across system calls that run the handler.
static void accumulators(void) {
  mode = kPlain;
  handled = 0;
  double a = 0.0, b = 1.0, c = 3.0;
  double ra = 0.0, rb = 1.0, rc = 3.0;
  for (int i = 0; i < 400; ++i) {
    ra += 0.25;
    rb *= 1.0009765625;
    rc = rc * 0.5 + 1.5;
  }
  pid_t pid = getpid();
  for (int i = 0; i < 400; ++i) {
    a += 0.25;
    b *= 1.0009765625;
    c = c * 0.5 + 1.5;
    if (i % 40 == 0) {
      long result;
      // A bare syscall: the compiler may keep a, b and c in xmm registers across it.
      __asm__ volatile("syscall"
                       : "=a"(result)
                       : "a"((long)SYS_kill), "D"((long)pid), "S"((long)SIGUSR1)
                       : "rcx", "r11", "memory");
    }
  }
  CHECK("accumulators: the handler ran 10 times", handled == 10);
  CHECK("accumulators: doubles intact", a == ra && b == rb && c == rc);
}

// A fpstate rt_sigreturn cannot restore ends the process with SIGSEGV. Linux 6.1 restores a
// 64-bit frame with FXRSTOR/XRSTOR straight from it, and any fault but a page fault fails
// rt_sigreturn: a reserved MXCSR bit is SIGSEGV where the CPU refuses it. QEMU's TCG loads it
// (so Linux in QEMU goes on); Sonde refuses it on every CPU, so there either outcome passes.
static void bad_frames(void) {
  int refuses = cpu_refuses_reserved_mxcsr();
  enum mode modes[] = {kUnmappedFpstate, kBadMxcsr};
  const char* names[] = {"unmapped fpstate is SIGSEGV", "reserved MXCSR bit is SIGSEGV"};
  for (int i = 0; i < 2; ++i) {
    pid_t child = fork();
    if (child == 0) {
      mode = modes[i];
      kill(getpid(), SIGUSR1);
      _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    int segv = WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
    CHECK(names[i], segv || (i == 1 && !refuses && WIFEXITED(status) && WEXITSTATUS(status) == 0));
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  install();
  raised();
  from_child();
  modified();
  accumulators();
  bad_frames();
  printf("signal_fpu_checks: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
