// SPDX-License-Identifier: MIT
// offcpu_chain: waits for SIGUSR1, then blocks in a known call chain (main -> wait_outer ->
// wait_inner -> nanosleep, one second), prints "slept" and waits for a signal to end it, so
// that an off-CPU profiler (Debian's offcputime -U) can still read its symbols. Built with frame
// pointers and no sibling calls: the user stack walk follows rbp from the system call.
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t started;

static void on_usr1(int signal) {
  (void)signal;
  started = 1;
}

__attribute__((noinline)) static void wait_inner(void) {
  struct timespec one_second = {1, 0};
  nanosleep(&one_second, NULL);
  __asm__ volatile("");  // not a tail call: the frame stays
}

__attribute__((noinline)) static void wait_outer(void) {
  wait_inner();
  __asm__ volatile("");
}

int main(void) {
  signal(SIGUSR1, on_usr1);
  while (!started) pause();
  wait_outer();
  puts("slept");
  fflush(stdout);
  pause();
  return 0;
}
