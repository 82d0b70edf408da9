// SPDX-License-Identifier: MIT
// offcpu_chain [thread]: waits for SIGUSR1, then blocks in a known call chain (wait_outer ->
// wait_inner -> nanosleep, one second), prints "slept" and waits for a signal to end it, so
// that an off-CPU profiler (Debian's offcputime) can still read its symbols. With `thread` the
// chain runs in a second thread (thread_main -> wait_outer -> ...) while the first makes system
// calls all along (the second's stack must stay its own). Built with frame pointers and no
// sibling calls: the user stack walk follows rbp from the system call.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t started;
static volatile int chain_done;

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

__attribute__((noinline)) static void* thread_main(void* unused) {
  (void)unused;
  wait_outer();
  __atomic_store_n(&chain_done, 1, __ATOMIC_RELEASE);
  return NULL;
}

int main(int argc, char** argv) {
  signal(SIGUSR1, on_usr1);
  while (!started) pause();
  if (argc > 1 && strcmp(argv[1], "thread") == 0) {
    pthread_t thread;
    if (pthread_create(&thread, NULL, thread_main, NULL) != 0) return 1;
    while (!__atomic_load_n(&chain_done, __ATOMIC_ACQUIRE)) getppid();
    pthread_join(thread, NULL);
  } else {
    wait_outer();
  }
  puts("slept");
  fflush(stdout);
  pause();
  return 0;
}
