// SPDX-License-Identifier: MIT
// Signals for code that makes no system call: a child spinning in pure user mode is ended by
// SIGKILL and SIGTERM, stopped by SIGSTOP and continued by SIGCONT; a handler runs in a spinning
// process (its registers, general and SSE, intact afterwards) and in a spinning thread of a
// multithreaded process (a process-directed signal that the other thread blocks); alarm() and
// setitimer(ITIMER_REAL) interrupt a busy loop. It runs on the host's Linux first, then on
// Sonde, against musl and glibc. Every wait has a deadline: a signal that never arrives is a
// failed check, not a hang.
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&t, &t) != 0) {
  }
}

// A child that says it is ready (a byte on a pipe), then runs `body`, which makes no system
// call until it ends; the parent waits 100 ms more so that the child is in its loop.
static pid_t spawn_spinner(void (*body)(void)) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    char c = 'r';
    (void)!write(fds[1], &c, 1);
    body();
    _exit(0);
  }
  close(fds[1]);
  char c;
  (void)!read(fds[0], &c, 1);
  close(fds[0]);
  sleep_ms(100);
  return child;
}

// waitpid with a deadline of `ms`; 0 when the child reported nothing by then.
static pid_t wait_within(pid_t child, int* status, int options, long ms) {
  for (long waited = 0;; waited += 10) {
    pid_t got = waitpid(child, status, options | WNOHANG);
    if (got != 0 || waited >= ms) return got;
    sleep_ms(10);
  }
}

// A child that did not end in time is killed (and reaped) so the checks go on.
static void reap(pid_t child) {
  int status;
  kill(child, SIGKILL);
  waitpid(child, &status, 0);
}

static void spin_forever(void) {
  for (;;) __asm__ volatile("");
}

// SIGKILL and SIGTERM (default action) end a child that only computes.
static void fatal_signals(void) {
  const int signals[] = {SIGKILL, SIGTERM, SIGINT};
  const char* names[] = {"SIGKILL ends a spinning child", "SIGTERM ends a spinning child",
                         "SIGINT ends a spinning child"};
  for (int i = 0; i < 3; ++i) {
    pid_t child = spawn_spinner(spin_forever);
    kill(child, signals[i]);
    int status = 0;
    pid_t got = wait_within(child, &status, 0, 5000);
    CHECK(names[i], got == child && WIFSIGNALED(status) && WTERMSIG(status) == signals[i]);
    if (got != child) reap(child);
  }
}

// The interrupted code's registers: loaded before the loop, stored after it.
volatile int async_flag;
uint64_t async_pattern[16 * 2 + 14] __attribute__((aligned(16)));
uint64_t async_seen[16 * 2 + 14] __attribute__((aligned(16)));

#define LOADX(n) "movdqu async_pattern+16*" #n "(%%rip), %%xmm" #n "\n"
#define STOREX(n) "movdqu %%xmm" #n ", async_seen+16*" #n "(%%rip)\n"
#define LOADR(i, r) "mov async_pattern+256+8*" #i "(%%rip), %%" #r "\n"
#define STORER(i, r) "mov %%" #r ", async_seen+256+8*" #i "(%%rip)\n"

// Spins until async_flag is set, holding known values in rax..r15 (but rsp, rbp) and
// xmm0..15; stores what they hold once it stops.
static void spin_holding(void) {
  __asm__ volatile(
      LOADX(0) LOADX(1) LOADX(2) LOADX(3) LOADX(4) LOADX(5) LOADX(6) LOADX(7) LOADX(8) LOADX(9)
          LOADX(10) LOADX(11) LOADX(12) LOADX(13) LOADX(14) LOADX(15) LOADR(0, rax) LOADR(1, rbx)
              LOADR(2, rcx) LOADR(3, rdx) LOADR(4, rsi) LOADR(5, rdi) LOADR(6, r8) LOADR(7, r9)
                  LOADR(8, r10) LOADR(9, r11) LOADR(10, r12) LOADR(11, r13) LOADR(12, r14) LOADR(
                      13, r15) "1: cmpl $0, async_flag(%%rip)\n je 1b\n" STOREX(0) STOREX(1)
                      STOREX(2) STOREX(3) STOREX(4) STOREX(5) STOREX(6) STOREX(7) STOREX(8)
                          STOREX(9) STOREX(10) STOREX(11) STOREX(12) STOREX(13) STOREX(14)
                              STOREX(15) STORER(0, rax) STORER(1, rbx) STORER(2, rcx) STORER(3, rdx)
                                  STORER(4, rsi) STORER(5, rdi) STORER(6, r8) STORER(7, r9)
                                      STORER(8, r10) STORER(9, r11) STORER(10, r12) STORER(11, r13)
                                          STORER(12, r14) STORER(13, r15)
      :
      :
      : "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14",
        "r15", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
        "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "memory", "cc");
}

// The handler sets the flag and trashes what it may (the SSE registers, MXCSR's rounding).
static void set_flag(int signal) {
  (void)signal;
  uint32_t mxcsr = 0x3f80;
  __asm__ volatile(
      "pcmpeqb %%xmm0, %%xmm0\n movdqa %%xmm0, %%xmm1\n movdqa %%xmm0, %%xmm7\n"
      "movdqa %%xmm0, %%xmm15\n ldmxcsr %0\n" ::"m"(mxcsr)
      : "xmm0", "xmm1", "xmm7", "xmm15");
  async_flag = 1;
}

// When not -1, the spinner reads a byte from it before it exits: the parent sees it continued
// (WCONTINUED) before it can see it exit, whatever the machine's load.
static int hold_fd = -1;

// Exits 42 when the registers came back intact after the handler, 43 when not.
static void spin_until_handled(void) {
  spin_holding();
  uint32_t mxcsr;
  __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
  int intact = memcmp(async_pattern, async_seen, sizeof(async_pattern)) == 0 && mxcsr == 0x1f80;
  char c;
  if (hold_fd != -1) (void)!read(hold_fd, &c, 1);
  _exit(intact ? 42 : 43);
}

static void install(int signal, void (*handler)(int)) {
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = handler;
  sigaction(signal, &action, NULL);
}

// A handler runs in a spinning child, whose loop then sees its flag; the interrupted
// registers are what the loop goes on with.
static void handler_in_spinning_process(void) {
  for (int i = 0; i < 46; ++i) async_pattern[i] = 0x0123456789abcdefull * (uint64_t)(i + 1);
  install(SIGUSR1, set_flag);
  pid_t child = spawn_spinner(spin_until_handled);
  kill(child, SIGUSR1);
  int status = 0;
  pid_t got = wait_within(child, &status, 0, 5000);
  CHECK("a handler runs in a spinning process", got == child && WIFEXITED(status));
  CHECK("the interrupted registers come back after the handler",
        got == child && WIFEXITED(status) && WEXITSTATUS(status) == 42);
  if (got != child) reap(child);
  install(SIGUSR1, SIG_DFL);
}

// SIGSTOP stops a spinning child (WUNTRACED), a signal sent while it is stopped waits, SIGCONT
// continues it (WCONTINUED) and the waiting handler runs.
static void stop_and_continue(void) {
  int hold[2];
  CHECK("pipe", pipe(hold) == 0);
  hold_fd = hold[0];
  install(SIGUSR1, set_flag);
  pid_t child = spawn_spinner(spin_until_handled);
  install(SIGUSR1, SIG_DFL);
  hold_fd = -1;
  close(hold[0]);
  kill(child, SIGSTOP);
  int status = 0;
  pid_t got = wait_within(child, &status, WUNTRACED, 5000);
  CHECK("SIGSTOP stops a spinning child",
        got == child && WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP);
  kill(child, SIGUSR1);
  got = wait_within(child, &status, 0, 300);
  CHECK("a stopped child does not run its handler", got == 0);
  kill(child, SIGCONT);
  got = wait_within(child, &status, WCONTINUED, 5000);
  CHECK("SIGCONT continues it", got == child && WIFCONTINUED(status));
  (void)!write(hold[1], "x", 1);
  close(hold[1]);
  got = wait_within(child, &status, 0, 5000);
  CHECK("the handler runs once it is continued",
        got == child && WIFEXITED(status) && WEXITSTATUS(status) == 42);
  if (got != child) reap(child);
}

// SIGTSTP (default action) stops it too; SIGKILL ends it while stopped. The child gets its own
// process group, which is not orphaned (Linux discards the stop in an orphaned one) whatever
// group the test runs in, and SIGTSTP's default action whatever the test inherited.
static void tstp_then_kill(void) {
  signal(SIGTSTP, SIG_DFL);
  pid_t child = spawn_spinner(spin_forever);
  setpgid(child, child);
  kill(child, SIGTSTP);
  int status = 0;
  pid_t got = wait_within(child, &status, WUNTRACED, 5000);
  CHECK("SIGTSTP stops a spinning child",
        got == child && WIFSTOPPED(status) && WSTOPSIG(status) == SIGTSTP);
  kill(child, SIGKILL);
  got = wait_within(child, &status, 0, 5000);
  CHECK("SIGKILL ends a stopped child",
        got == child && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  if (got != child) reap(child);
}

// A process that stops itself does not go on past its kill: it goes on, with kill's result,
// once continued.
static void stop_self(void) {
  pid_t child = fork();
  if (child == 0) _exit(kill(getpid(), SIGSTOP) == 0 ? 7 : 8);
  int status = 0;
  pid_t got = wait_within(child, &status, WUNTRACED, 5000);
  CHECK("kill(getpid(), SIGSTOP) stops the caller",
        got == child && WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP);
  kill(child, SIGCONT);
  got = wait_within(child, &status, 0, 5000);
  CHECK("it goes on with kill's result once continued",
        got == child && WIFEXITED(status) && WEXITSTATUS(status) == 7);
  if (got != child) reap(child);
}

static volatile int ticks;
static void count_tick(int signal) {
  (void)signal;
  ++ticks;
}

static void spin_until_alarm(void) {
  install(SIGALRM, set_flag);
  alarm(1);
  while (!async_flag) {
  }
  _exit(42);
}

static void spin_until_three_ticks(void) {
  install(SIGALRM, count_tick);
  struct itimerval timer = {{0, 50000}, {0, 50000}};
  setitimer(ITIMER_REAL, &timer, NULL);
  while (ticks < 3) {
  }
  _exit(42);
}

static void spin_until_default_alarm(void) {
  alarm(1);
  spin_forever();
}

// alarm() and setitimer(ITIMER_REAL) interrupt a loop that makes no system call.
static void timers(void) {
  void (*bodies[])(void) = {spin_until_alarm, spin_until_three_ticks};
  const char* names[] = {"alarm's handler runs in a busy loop",
                         "setitimer's handler runs in a busy loop, again and again"};
  for (int i = 0; i < 2; ++i) {
    pid_t child = spawn_spinner(bodies[i]);
    int status = 0;
    pid_t got = wait_within(child, &status, 0, 5000);
    CHECK(names[i], got == child && WIFEXITED(status) && WEXITSTATUS(status) == 42);
    if (got != child) reap(child);
  }
  pid_t child = spawn_spinner(spin_until_default_alarm);
  int status = 0;
  pid_t got = wait_within(child, &status, 0, 5000);
  CHECK("SIGALRM's default action ends a busy loop",
        got == child && WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM);
  if (got != child) reap(child);
}

// A process-directed signal that the main thread blocks goes to the spinning thread.
static volatile int thread_flag;
static volatile pid_t handled_by;
static void note_thread(int signal) {
  (void)signal;
  handled_by = (pid_t)syscall(SYS_gettid);
  thread_flag = 1;
}
static volatile pid_t spinner_tid;
static void* spin_until_thread_flag(void* argument) {
  (void)argument;
  spinner_tid = (pid_t)syscall(SYS_gettid);
  while (!thread_flag) {
  }
  return NULL;
}

static void spinning_thread(void) {
  install(SIGUSR2, note_thread);
  pthread_t thread;
  CHECK("pthread_create", pthread_create(&thread, NULL, spin_until_thread_flag, NULL) == 0);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  while (spinner_tid == 0) sleep_ms(10);
  sleep_ms(100);
  kill(getpid(), SIGUSR2);
  for (int waited = 0; !thread_flag && waited < 5000; waited += 10) sleep_ms(10);
  CHECK("a spinning thread takes a signal its process was sent", thread_flag);
  CHECK("the handler runs in the thread that does not block it", handled_by == spinner_tid);
  if (thread_flag) pthread_join(thread, NULL);
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

// Every thread of a process spins; SIGKILL and SIGTERM end it.
static void* spin_thread(void* argument) {
  (void)argument;
  spin_forever();
  return NULL;
}
static void spin_in_three_threads(void) {
  pthread_t threads[2];
  for (int i = 0; i < 2; ++i) pthread_create(&threads[i], NULL, spin_thread, NULL);
  spin_forever();
}
static void multithreaded_fatal(void) {
  const int signals[] = {SIGKILL, SIGTERM};
  const char* names[] = {"SIGKILL ends a process whose threads all spin",
                         "SIGTERM ends a process whose threads all spin"};
  for (int i = 0; i < 2; ++i) {
    pid_t child = spawn_spinner(spin_in_three_threads);
    kill(child, signals[i]);
    int status = 0;
    pid_t got = wait_within(child, &status, 0, 5000);
    CHECK(names[i], got == child && WIFSIGNALED(status) && WTERMSIG(status) == signals[i]);
    if (got != child) reap(child);
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  // A shell without job control starts background jobs with SIGINT ignored, and a caller may
  // ignore others: the checks are of the default actions, which the children inherit.
  const int defaults[] = {SIGINT, SIGTERM, SIGTSTP, SIGALRM, SIGUSR1, SIGUSR2};
  for (unsigned i = 0; i < sizeof(defaults) / sizeof(defaults[0]); ++i)
    install(defaults[i], SIG_DFL);
  fatal_signals();
  handler_in_spinning_process();
  stop_and_continue();
  tstp_then_kill();
  stop_self();
  timers();
  spinning_thread();
  multithreaded_fatal();
  printf("async_signal_checks: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
