// SPDX-License-Identifier: MIT
// Signals from faults, as Linux's force_sig_fault sends them: a handler for SIGSEGV, SIGBUS,
// SIGFPE or SIGILL runs when the faulting instruction cannot go on, with si_code, si_addr and
// the faulting instruction's rip in its context; a handler that repairs the fault and returns
// makes the instruction run again; a fault signal that is blocked, ignored or has no handler
// ends the process with it. It runs on the host's Linux first, then on Sonde and on Linux 6.1
// in QEMU (compared). The faulting instructions are assembly functions, so their addresses
// are known.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "checks.h"

// load_byte(p): a byte read through p. store_byte(p): 7 stored through p. divide(a, b): a / b
// (divide_at is the idiv). illegal(): ud2.
__asm__(
    ".text\n"
    ".globl load_byte\n"
    "load_byte:\n"
    "  movzbl (%rdi), %eax\n"
    "  ret\n"
    ".globl store_byte\n"
    "store_byte:\n"
    "  movb $7, (%rdi)\n"
    "  ret\n"
    ".globl divide\n"
    "divide:\n"
    "  mov %rdi, %rax\n"
    "  cqo\n"
    ".globl divide_at\n"
    "divide_at:\n"
    "  idivq %rsi\n"
    "  ret\n"
    ".globl illegal\n"
    "illegal:\n"
    "  ud2\n"
    "  ret\n"
    ".globl breakpoint\n"
    "breakpoint:\n"
    "  int3\n"
    ".globl after_breakpoint\n"
    "after_breakpoint:\n"
    "  ret\n");
int load_byte(const volatile char* where);
void store_byte(volatile char* where);
long divide(long a, long b);
void divide_at(void);
void illegal(void);
void breakpoint(void);
void after_breakpoint(void);

// What the last handler saw.
static struct {
  int signal, code;
  uintptr_t address, rip;
} seen;
static sigjmp_buf back;

static void record(int signal, siginfo_t* info, void* context) {
  seen.signal = signal;
  seen.code = info->si_code;
  seen.address = (uintptr_t)info->si_addr;
  seen.rip = (uintptr_t)((ucontext_t*)context)->uc_mcontext.gregs[REG_RIP];
}

static void record_and_leave(int signal, siginfo_t* info, void* context) {
  record(signal, info, context);
  siglongjmp(back, 1);
}

// The page the repairing handler makes writable before it returns.
static char* repair_page;
static void record_and_repair(int signal, siginfo_t* info, void* context) {
  record(signal, info, context);
  mprotect(repair_page, 4096, PROT_READ | PROT_WRITE);
}

static void handle(int signal, void (*handler)(int, siginfo_t*, void*)) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_sigaction = handler;
  action.sa_flags = SA_SIGINFO;
  sigemptyset(&action.sa_mask);
  sigaction(signal, &action, NULL);
}

// Runs `fault` with `signal` handled by record_and_leave; true when the handler ran.
static int faulted(int signal, void (*fault)(void)) {
  memset(&seen, 0, sizeof seen);
  handle(signal, record_and_leave);
  if (sigsetjmp(back, 1) == 0) {
    fault();
    return 0;
  }
  return 1;
}

// A thread that overflows its small stack into the guard page below it: the handler runs on
// the thread's alternate stack (SA_ONSTACK), as Rust's and Go's stack overflow handlers do.
static char alternate[64 * 1024] __attribute__((aligned(16)));
static volatile int on_alternate;
static sigjmp_buf overflow_back;
static void record_overflow(int signal, siginfo_t* info, void* context) {
  char here;
  record(signal, info, context);
  on_alternate = &here >= alternate && &here < alternate + sizeof alternate;
  siglongjmp(overflow_back, 1);
}
static int deeper(int n) {
  volatile char pad[512];
  pad[0] = (char)n;
  return deeper(n + 1) + pad[0];
}
static void* overflow(void* unused) {
  (void)unused;
  stack_t stack;
  memset(&stack, 0, sizeof stack);
  stack.ss_sp = alternate;
  stack.ss_size = sizeof alternate;
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_sigaction = record_overflow;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  if (sigaltstack(&stack, NULL) != 0 || sigaction(SIGSEGV, &action, NULL) != 0) return NULL;
  if (sigsetjmp(overflow_back, 1) == 0) (void)deeper(0);
  return (void*)1;
}

static volatile char* fault_address;
static void load_there(void) { (void)load_byte(fault_address); }
static void store_there(void) { store_byte(fault_address); }
static void divide_by_zero(void) { (void)divide(5, 0); }

// How a child that takes a SIGSEGV ends when the signal is `how`: 0 blocked, 1 ignored, 2
// default. Returns its wait status.
static int child_fault(int how) {
  pid_t child = fork();
  if (child == 0) {
    if (how == 0) {
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, SIGSEGV);
      handle(SIGSEGV, record_and_leave);
      sigprocmask(SIG_BLOCK, &set, NULL);
    } else {
      signal(SIGSEGV, how == 1 ? SIG_IGN : SIG_DFL);
    }
    (void)load_byte((const char*)16);
    _exit(0);
  }
  int status = 0;
  if (waitpid(child, &status, 0) != child) return -1;
  return status;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);

  // A read where nothing is mapped: SEGV_MAPERR at that address, rip at the load.
  fault_address = (volatile char*)16;
  CHECK("SIGSEGV handler runs", faulted(SIGSEGV, load_there));
  CHECK("SIGSEGV's number", seen.signal == SIGSEGV);
  CHECK("SEGV_MAPERR where nothing is mapped", seen.code == SEGV_MAPERR);
  CHECK("si_addr of the read", seen.address == 16);
  CHECK("rip of the read", seen.rip == (uintptr_t)load_byte);

  // A write to a read-only page: SEGV_ACCERR.
  char* page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK("read-only page", page != MAP_FAILED);
  fault_address = page + 100;
  CHECK("SIGSEGV on a write to it", faulted(SIGSEGV, store_there));
  CHECK("SEGV_ACCERR where the page forbids it", seen.code == SEGV_ACCERR);
  CHECK("si_addr of the write", seen.address == (uintptr_t)page + 100);
  CHECK("rip of the write", seen.rip == (uintptr_t)store_byte);

  // Reads of PROT_NONE pages, one never touched and one written before: SEGV_ACCERR.
  char* none = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK("two pages", none != MAP_FAILED);
  none[4096] = 1;
  CHECK("made PROT_NONE", mprotect(none, 2 * 4096, PROT_NONE) == 0);
  fault_address = none + 8;
  CHECK("SIGSEGV reading an untouched PROT_NONE page", faulted(SIGSEGV, load_there) &&
                                                           seen.code == SEGV_ACCERR &&
                                                           seen.address == (uintptr_t)none + 8);
  fault_address = none + 4096;
  CHECK("SIGSEGV reading a written PROT_NONE page", faulted(SIGSEGV, load_there) &&
                                                        seen.code == SEGV_ACCERR &&
                                                        seen.address == (uintptr_t)none + 4096);
  int ends[2];
  CHECK("write(2) from a PROT_NONE page is EFAULT",
        pipe(ends) == 0 && write(ends[1], none + 4096, 1) == -1 && errno == EFAULT);
  close(ends[0]);
  close(ends[1]);
  CHECK("readable again",
        mprotect(none, 2 * 4096, PROT_READ) == 0 && none[4096] == 1 && none[8] == 0);
  munmap(none, 2 * 4096);

  // A handler that makes the page writable and returns: the store runs again and is done.
  repair_page = page;
  memset(&seen, 0, sizeof seen);
  handle(SIGSEGV, record_and_repair);
  store_byte(page + 200);
  CHECK("the repaired store ran again", page[200] == 7 && seen.signal == SIGSEGV);
  CHECK("the repairing handler saw the store", seen.address == (uintptr_t)page + 200);
  munmap(page, 4096);

  // Past the end of a mapped file: SIGBUS, BUS_ADRERR.
  char path[] = "/tmp/fault_signal_XXXXXX";
  int fd = mkstemp(path);
  CHECK("a small file", fd >= 0 && write(fd, "x", 1) == 1);
  char* mapped = mmap(NULL, 2 * 4096, PROT_READ, MAP_SHARED, fd, 0);
  CHECK("mapped over two pages", mapped != MAP_FAILED);
  fault_address = mapped + 4096 + 8;
  CHECK("SIGBUS handler runs", mapped != MAP_FAILED && faulted(SIGBUS, load_there));
  CHECK("SIGBUS's number and BUS_ADRERR", seen.signal == SIGBUS && seen.code == BUS_ADRERR);
  CHECK("SIGBUS's si_addr", seen.address == (uintptr_t)mapped + 4096 + 8);
  if (mapped != MAP_FAILED) munmap(mapped, 2 * 4096);
  if (fd >= 0) close(fd);
  unlink(path);

  // A non-canonical address: #GP, SIGSEGV with SI_KERNEL and no address.
  fault_address = (volatile char*)0x8000000000000000ull;
  CHECK("SIGSEGV on a non-canonical address", faulted(SIGSEGV, load_there));
  CHECK("SI_KERNEL, no address", seen.code == SI_KERNEL && seen.address == 0);
  CHECK("rip of that read", seen.rip == (uintptr_t)load_byte);

  // Division by zero: SIGFPE, FPE_INTDIV at the idiv.
  CHECK("SIGFPE handler runs", faulted(SIGFPE, divide_by_zero));
  CHECK("FPE_INTDIV", seen.signal == SIGFPE && seen.code == FPE_INTDIV);
  CHECK("SIGFPE at the idiv",
        seen.address == (uintptr_t)divide_at && seen.rip == (uintptr_t)divide_at);

  // ud2: SIGILL, ILL_ILLOPN at it.
  CHECK("SIGILL handler runs", faulted(SIGILL, illegal));
  CHECK("ILL_ILLOPN", seen.signal == SIGILL && seen.code == ILL_ILLOPN);
  CHECK("SIGILL at the ud2", seen.address == (uintptr_t)illegal && seen.rip == (uintptr_t)illegal);

  // int3: SIGTRAP, SI_KERNEL, no address, rip after the int3.
  CHECK("SIGTRAP handler runs", faulted(SIGTRAP, breakpoint));
  CHECK("int3's SIGTRAP is SI_KERNEL",
        seen.signal == SIGTRAP && seen.code == SI_KERNEL && seen.address == 0);
  CHECK("rip after the int3", seen.rip == (uintptr_t)after_breakpoint);

  // A handled fault leaves the process as it was: the same fault again is handled again.
  fault_address = (volatile char*)16;
  CHECK("a second SIGSEGV is handled too", faulted(SIGSEGV, load_there) && seen.address == 16);

  // A stack overflow, handled on the alternate stack.
  memset(&seen, 0, sizeof seen);
  pthread_attr_t attributes;
  pthread_t thread;
  void* overflowed = NULL;
  pthread_attr_init(&attributes);
  pthread_attr_setstacksize(&attributes, 64 * 1024);
  CHECK("a thread overflows its stack", pthread_create(&thread, &attributes, overflow, NULL) == 0 &&
                                            pthread_join(thread, &overflowed) == 0 &&
                                            overflowed != NULL);
  CHECK("its SIGSEGV is handled on the alternate stack",
        seen.signal == SIGSEGV && seen.code == SEGV_ACCERR && on_alternate);

  // Blocked, ignored or left to the default action: the process ends with SIGSEGV.
  for (int how = 0; how < 3; ++how) {
    int status = child_fault(how);
    printf("SIGSEGV %s: %s %d\n",
           how == 0   ? "blocked"
           : how == 1 ? "ignored"
                      : "by default",
           WIFSIGNALED(status) ? "killed by" : "exit",
           WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    CHECK("a fault signal not taken ends the process",
          WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
  }

  printf("fault_signal_checks: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
