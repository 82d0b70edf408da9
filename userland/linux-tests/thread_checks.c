// SPDX-License-Identifier: MIT
// Threads as Linux runs them, through musl's and glibc's pthreads: create and join, mutexes,
// condition variables, thread-local storage, thread ids, signals to a thread and to the
// process, detached threads, futex timeouts, exit_group from a thread, fork and execve from a
// threaded process. Built static against musl and against glibc; on the host first, then on
// Sonde (tests/qemu/scripts/thread_checks.sh).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"

// Linux's futex operations (linux/futex.h, which musl's headers do not bring).
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_WAIT_BITSET 9
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_WAIT_PRIVATE (FUTEX_WAIT | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_PRIVATE (FUTEX_WAKE | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAIT_BITSET_PRIVATE (FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG)
#define FUTEX_BITSET_MATCH_ANY 0xffffffff

static long tid_of_caller(void) { return syscall(SYS_gettid); }

static long futex_call(uint32_t* word, int op, uint32_t value, const struct timespec* timeout) {
  return syscall(SYS_futex, word, op, value, timeout, NULL, 0);
}

static uint64_t monotonic_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

// --- create and join ---

static void* doubled(void* argument) { return (void*)((intptr_t)argument * 2); }

static void create_and_join(void) {
  pthread_t threads[4];
  int created = 0;
  for (intptr_t i = 0; i < 4; ++i) {
    if (pthread_create(&threads[i], NULL, doubled, (void*)(i + 10)) == 0) ++created;
  }
  CHECK("pthread_create: four threads", created == 4);
  int right = 0;
  for (int i = 0; i < created; ++i) {
    void* result = NULL;
    if (pthread_join(threads[i], &result) == 0 && (intptr_t)result == (i + 10) * 2) ++right;
  }
  CHECK("pthread_join: each thread's return value", right == 4);
}

// --- a mutex-protected counter ---

static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void* count_up(void* argument) {
  (void)argument;
  for (int i = 0; i < 10000; ++i) {
    pthread_mutex_lock(&counter_lock);
    long seen = counter;
    if ((i & 255) == 0) sched_yield();  // others contend for the lock meanwhile
    counter = seen + 1;
    pthread_mutex_unlock(&counter_lock);
  }
  return NULL;
}

static void mutex_counter(void) {
  pthread_t threads[8];
  int created = 0;
  for (int i = 0; i < 8; ++i) {
    if (pthread_create(&threads[i], NULL, count_up, NULL) == 0) ++created;
  }
  for (int i = 0; i < created; ++i) pthread_join(threads[i], NULL);
  CHECK("mutex: 8 threads x 10000 increments", created == 8 && counter == 80000);
}

// --- condition variables ---

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_ready = PTHREAD_COND_INITIALIZER;
static pthread_cond_t queue_space = PTHREAD_COND_INITIALIZER;
static int queue[4], queue_count, queue_head;
static long consumed_sum;

static void* consume(void* argument) {
  (void)argument;
  for (int n = 0; n < 1000; ++n) {
    pthread_mutex_lock(&queue_lock);
    while (queue_count == 0) pthread_cond_wait(&queue_ready, &queue_lock);
    consumed_sum += queue[queue_head];
    queue_head = (queue_head + 1) % 4;
    --queue_count;
    pthread_cond_signal(&queue_space);
    pthread_mutex_unlock(&queue_lock);
  }
  return NULL;
}

static int gate_open, gate_waiters;
static pthread_cond_t gate = PTHREAD_COND_INITIALIZER;

static void* wait_at_gate(void* argument) {
  (void)argument;
  pthread_mutex_lock(&queue_lock);
  ++gate_waiters;
  while (!gate_open) pthread_cond_wait(&gate, &queue_lock);
  pthread_mutex_unlock(&queue_lock);
  return (void*)1;
}

static void condition_variables(void) {
  pthread_t consumer;
  int made = pthread_create(&consumer, NULL, consume, NULL) == 0;
  long expected = 0;
  for (int n = 1; made && n <= 1000; ++n) {
    pthread_mutex_lock(&queue_lock);
    while (queue_count == 4) pthread_cond_wait(&queue_space, &queue_lock);
    queue[(queue_head + queue_count) % 4] = n;
    ++queue_count;
    expected += n;
    pthread_cond_signal(&queue_ready);
    pthread_mutex_unlock(&queue_lock);
  }
  if (made) pthread_join(consumer, NULL);
  CHECK("cond: producer and consumer through a bounded queue", made && consumed_sum == expected);

  // Broadcast wakes every waiter.
  pthread_t waiters[3];
  int started = 0;
  for (int i = 0; i < 3; ++i) started += pthread_create(&waiters[i], NULL, wait_at_gate, NULL) == 0;
  for (;;) {
    pthread_mutex_lock(&queue_lock);
    int all = gate_waiters == started;
    if (all) {
      gate_open = 1;
      pthread_cond_broadcast(&gate);
    }
    pthread_mutex_unlock(&queue_lock);
    if (all) break;
    usleep(1000);
  }
  int through = 0;
  for (int i = 0; i < started; ++i) {
    void* result = NULL;
    pthread_join(waiters[i], &result);
    through += result == (void*)1;
  }
  CHECK("cond: broadcast wakes all three waiters", started == 3 && through == 3);
}

// --- thread-local storage and thread ids ---

static __thread int tls_value = 7;
static __thread char tls_name[16];

struct Identity {
  int index;
  long tid;
  pid_t pid;
  int tls_initial;
  int tls_kept;
};

static void* identify(void* argument) {
  struct Identity* id = argument;
  id->tls_initial = tls_value;
  tls_value = 100 + id->index;
  snprintf(tls_name, sizeof(tls_name), "thread %d", id->index);
  id->tid = tid_of_caller();
  id->pid = getpid();
  for (int i = 0; i < 20; ++i) sched_yield();  // the others set theirs meanwhile
  char expected[16];
  snprintf(expected, sizeof(expected), "thread %d", id->index);
  id->tls_kept = tls_value == 100 + id->index && strcmp(tls_name, expected) == 0;
  return NULL;
}

static void tls_and_ids(void) {
  struct Identity ids[4];
  pthread_t threads[4];
  tls_value = 1;
  int created = 0;
  for (int i = 0; i < 4; ++i) {
    memset(&ids[i], 0, sizeof(ids[i]));
    ids[i].index = i;
    created += pthread_create(&threads[i], NULL, identify, &ids[i]) == 0;
  }
  for (int i = 0; i < created; ++i) pthread_join(threads[i], NULL);
  int initial = 1, kept = 1, own_tid = 1, same_pid = 1, distinct = 1;
  for (int i = 0; i < 4; ++i) {
    initial &= ids[i].tls_initial == 7;
    kept &= ids[i].tls_kept;
    own_tid &= ids[i].tid != getpid() && ids[i].tid > 0;
    same_pid &= ids[i].pid == getpid();
    for (int j = 0; j < i; ++j) distinct &= ids[i].tid != ids[j].tid;
  }
  CHECK("tls: a new thread starts with the initial value", created == 4 && initial);
  CHECK("tls: each thread keeps its own values", kept);
  CHECK("tls: the main thread's value is its own", tls_value == 1);
  CHECK("gettid: a thread's id is not the pid", own_tid);
  CHECK("gettid: thread ids differ", distinct);
  CHECK("getpid: every thread sees the process id", same_pid);
  CHECK("gettid: the main thread's id is the pid", tid_of_caller() == getpid());
}

// --- signals to a thread and to the process ---

static volatile long handled_by;
static volatile int handled_signal;
static volatile long target_tid;
static volatile int stop_waiting;

static void record_handler(int signal) {
  handled_by = tid_of_caller();
  __atomic_store_n(&handled_signal, signal, __ATOMIC_SEQ_CST);  // after the tid
}

static void* wait_for_signal(void* argument) {
  (void)argument;
  sigset_t unblock;
  sigemptyset(&unblock);
  sigaddset(&unblock, SIGUSR1);
  sigaddset(&unblock, SIGUSR2);
  pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);
  target_tid = tid_of_caller();
  while (!stop_waiting) usleep(1000);
  return NULL;
}

static int wait_until(volatile int* flag, int milliseconds) {
  for (int i = 0; i < milliseconds && !*flag; ++i) usleep(1000);
  return *flag;
}

static void thread_signals(void) {
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = record_handler;
  sigaction(SIGUSR1, &action, NULL);
  sigaction(SIGUSR2, &action, NULL);
  // The main thread blocks both: a signal to the process can only go to the other thread.
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigaddset(&block, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  pthread_t thread;
  stop_waiting = 0;
  target_tid = 0;
  int made = pthread_create(&thread, NULL, wait_for_signal, NULL) == 0;
  while (made && target_tid == 0) usleep(1000);

  handled_signal = 0;
  CHECK("pthread_kill: sent", made && pthread_kill(thread, SIGUSR1) == 0);
  CHECK("pthread_kill: the handler ran", wait_until(&handled_signal, 5000) == SIGUSR1);
  CHECK("pthread_kill: in the target thread", handled_by == target_tid);

  handled_signal = 0;
  CHECK("tgkill: sent", syscall(SYS_tgkill, getpid(), target_tid, SIGUSR2) == 0);
  CHECK("tgkill: the handler ran in the target thread",
        wait_until(&handled_signal, 5000) == SIGUSR2 && handled_by == target_tid);

  handled_signal = 0;
  CHECK("kill: to the process", kill(getpid(), SIGUSR1) == 0);
  CHECK("kill: the thread that does not block it handles it",
        wait_until(&handled_signal, 5000) == SIGUSR1 && handled_by == target_tid);

  CHECK_ERRNO("tgkill: a tid of another process", syscall(SYS_tgkill, 1, target_tid, 0), ESRCH);
  CHECK_ERRNO("tgkill: no such thread", syscall(SYS_tgkill, getpid(), 0x3fffffff, 0), ESRCH);
  CHECK("tgkill: signal 0 probes the thread", syscall(SYS_tgkill, getpid(), target_tid, 0) == 0);

  stop_waiting = 1;
  if (made) pthread_join(thread, NULL);
  // The main thread's pending-free mask comes back; no signal is left over.
  sigset_t pending;
  sigpending(&pending);
  CHECK("signals: none left pending",
        !sigismember(&pending, SIGUSR1) && !sigismember(&pending, SIGUSR2));
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  signal(SIGUSR1, SIG_DFL);
  signal(SIGUSR2, SIG_DFL);
}

// --- an alternate signal stack per thread ---

static char alternate_stack[65536] __attribute__((aligned(16)));
static volatile int on_alternate;

static void note_stack(int signal) {
  (void)signal;
  char here;
  on_alternate = &here >= alternate_stack && &here < alternate_stack + sizeof(alternate_stack);
}

static void* use_alternate_stack(void* argument) {
  (void)argument;
  stack_t stack = {.ss_sp = alternate_stack, .ss_flags = 0, .ss_size = sizeof(alternate_stack)};
  if (sigaltstack(&stack, NULL) != 0) return (void*)0;
  on_alternate = -1;
  syscall(SYS_tgkill, getpid(), tid_of_caller(), SIGUSR2);  // handled on this call's return
  stack_t now;
  sigaltstack(NULL, &now);
  return (void*)(intptr_t)(on_alternate == 1 && now.ss_sp == alternate_stack && now.ss_flags == 0);
}

static void alternate_stacks(void) {
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = note_stack;
  action.sa_flags = SA_ONSTACK;
  sigaction(SIGUSR2, &action, NULL);
  pthread_t thread;
  void* result = NULL;
  int made = pthread_create(&thread, NULL, use_alternate_stack, NULL) == 0;
  CHECK("sigaltstack: a thread's SA_ONSTACK handler runs on its alternate stack",
        made && pthread_join(thread, &result) == 0 && result == (void*)1);
  stack_t mine;
  CHECK("sigaltstack: the main thread's is its own (none)",
        sigaltstack(NULL, &mine) == 0 && (mine.ss_flags & SS_DISABLE) != 0);
  signal(SIGUSR2, SIG_DFL);
}

// --- a detached thread ---

static volatile int detached_ran;

static void* run_detached(void* argument) {
  (void)argument;
  detached_ran = 1;
  return NULL;
}

static void detached_thread(void) {
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  int made = pthread_create(&thread, &attributes, run_detached, NULL) == 0;
  pthread_attr_destroy(&attributes);
  CHECK("detached: created", made);
  CHECK("detached: ran", wait_until(&detached_ran, 5000));
  // Many short-lived detached threads: their stacks and ids come back.
  int all = 1;
  for (int i = 0; i < 50; ++i) {
    pthread_t t;
    detached_ran = 0;
    if (pthread_create(&t, NULL, run_detached, NULL) != 0 || pthread_detach(t) != 0) all = 0;
    if (!wait_until(&detached_ran, 5000)) all = 0;
  }
  CHECK("detached: 50 more come and go", all);
}

// --- futexes and timeouts ---

static uint32_t futex_word;
static volatile int futex_waiter_ready;

static void* futex_waiter(void* argument) {
  (void)argument;
  futex_waiter_ready = 1;
  while (__atomic_load_n(&futex_word, __ATOMIC_SEQ_CST) == 0) {
    futex_call(&futex_word, FUTEX_WAIT_PRIVATE, 0, NULL);
  }
  return (void*)(intptr_t)futex_word;
}

static void futex_checks(void) {
  uint32_t word = 1;
  struct timespec short_wait = {0, 20 * 1000000};
  CHECK_ERRNO("futex: WAIT on a changed word", futex_call(&word, FUTEX_WAIT, 2, NULL), EAGAIN);
  uint64_t start = monotonic_ns();
  CHECK_ERRNO("futex: WAIT times out", futex_call(&word, FUTEX_WAIT_PRIVATE, 1, &short_wait),
              ETIMEDOUT);
  CHECK("futex: after about the timeout", monotonic_ns() - start >= 15 * 1000000ull);
  CHECK("futex: WAKE with no waiter", futex_call(&word, FUTEX_WAKE, 1, NULL) == 0);
  CHECK_ERRNO("futex: unaligned", futex_call((uint32_t*)((char*)&word + 1), FUTEX_WAKE, 1, NULL),
              EINVAL);
  // WAIT_BITSET's timeout is an absolute time (CLOCK_MONOTONIC here).
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_nsec += 20 * 1000000;
  if (until.tv_nsec >= 1000000000) {
    until.tv_nsec -= 1000000000;
    ++until.tv_sec;
  }
  start = monotonic_ns();
  errno = 0;
  long r =
      syscall(SYS_futex, &word, FUTEX_WAIT_BITSET_PRIVATE, 1, &until, NULL, FUTEX_BITSET_MATCH_ANY);
  CHECK("futex: WAIT_BITSET times out at an absolute time",
        r == -1 && errno == ETIMEDOUT && monotonic_ns() - start >= 15 * 1000000ull);
  CHECK_ERRNO("futex: WAIT_BITSET with no bits",
              syscall(SYS_futex, &word, FUTEX_WAIT_BITSET, 1, NULL, NULL, 0), EINVAL);

  // A waiter woken by FUTEX_WAKE.
  pthread_t thread;
  futex_word = 0;
  futex_waiter_ready = 0;
  int made = pthread_create(&thread, NULL, futex_waiter, NULL) == 0;
  wait_until(&futex_waiter_ready, 5000);
  usleep(10000);  // into its wait
  __atomic_store_n(&futex_word, 5, __ATOMIC_SEQ_CST);
  long woken = 0;
  for (int i = 0; i < 1000 && made && woken == 0; ++i) {
    woken = futex_call(&futex_word, FUTEX_WAKE_PRIVATE, 1, NULL);
    if (woken == 0) usleep(1000);
  }
  void* result = NULL;
  if (made) pthread_join(thread, &result);
  CHECK("futex: WAKE wakes the waiter", woken == 1 && (intptr_t)result == 5);

  // pthread_cond_timedwait ends with ETIMEDOUT.
  pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t never = PTHREAD_COND_INITIALIZER;
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_nsec += 50 * 1000000;
  if (deadline.tv_nsec >= 1000000000) {
    deadline.tv_nsec -= 1000000000;
    ++deadline.tv_sec;
  }
  start = monotonic_ns();
  pthread_mutex_lock(&lock);
  int timed = pthread_cond_timedwait(&never, &lock, &deadline);
  pthread_mutex_unlock(&lock);
  CHECK("cond_timedwait: ETIMEDOUT", timed == ETIMEDOUT);
  CHECK("cond_timedwait: after about 50 ms", monotonic_ns() - start >= 40 * 1000000ull);
}

// --- exit_group from a thread, exit of one thread ---

static void* exit_whole_process(void* argument) {
  usleep(10000);
  exit((int)(intptr_t)argument);  // exit_group: the main thread, blocked in pause, ends too
}

static void* exit_this_thread(void* argument) {
  pthread_exit(argument);  // only this thread ends: the process goes on
}

static void exits(void) {
  pid_t child = fork();
  if (child == 0) {
    pthread_t thread;
    if (pthread_create(&thread, NULL, exit_whole_process, (void*)(intptr_t)42) != 0) _exit(1);
    for (;;) pause();
  }
  int status = 0;
  CHECK("exit_group from a thread: the process ends with its status",
        child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
            WEXITSTATUS(status) == 42);

  child = fork();
  if (child == 0) {
    // The main thread exits alone (SYS_exit); the other thread ends the process later.
    pthread_t thread;
    if (pthread_create(&thread, NULL, exit_whole_process, (void*)(intptr_t)43) != 0) _exit(1);
    syscall(SYS_exit, 9);
    _exit(1);
  }
  CHECK("exit of the main thread alone: the others go on",
        child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
            WEXITSTATUS(status) == 43);

  pthread_t thread;
  void* result = NULL;
  int made = pthread_create(&thread, NULL, exit_this_thread, (void*)(intptr_t)3) == 0;
  CHECK("pthread_exit: joined with its value",
        made && pthread_join(thread, &result) == 0 && (intptr_t)result == 3);
}

// --- fork and execve from a threaded process ---

static pthread_mutex_t park_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t park_cond = PTHREAD_COND_INITIALIZER;
static int park_done;

static void* park(void* argument) {
  (void)argument;
  pthread_mutex_lock(&park_lock);
  while (!park_done) pthread_cond_wait(&park_cond, &park_lock);
  pthread_mutex_unlock(&park_lock);
  return NULL;
}

// Threads: as /proc/self/status counts them.
static int threads_in_status(void) {
  int fd = open("/proc/self/status", O_RDONLY);
  if (fd < 0) return -1;
  char text[4096];
  ssize_t n = read(fd, text, sizeof(text) - 1);
  close(fd);
  if (n <= 0) return -1;
  text[n] = '\0';
  char* line = strstr(text, "Threads:");
  return line != NULL ? atoi(line + 8) : -1;
}

// The count once it is `expected`, or what it is after about a second: a thread an earlier
// check joined may still be leaving the group (Linux wakes the joiner from mm_release, before
// the exiting thread is unhashed), so the count can be one high for a moment under load.
static int threads_settled(int expected) {
  int count = threads_in_status();
  for (int i = 0; i < 100 && count != expected; ++i) {
    usleep(10000);
    count = threads_in_status();
  }
  return count;
}

static void* do_nothing(void* argument) { return argument; }

static const char* self_path;

static void* exec_self(void* argument) {
  (void)argument;
  char* const argv[] = {(char*)self_path, "exec-child", NULL};
  execv(self_path, argv);
  _exit(5);
}

static void fork_and_exec(void) {
  pthread_t parked[2];
  park_done = 0;
  int made = 0;
  for (int i = 0; i < 2; ++i) made += pthread_create(&parked[i], NULL, park, NULL) == 0;
  CHECK("fork: the parent has three threads", threads_settled(3) == 3);
  pid_t child = fork();
  if (child == 0) {
    // Only the calling thread is in the child; it can make threads of its own.
    int code = 0;
    if (threads_in_status() != 1) code |= 1;
    if (tid_of_caller() != getpid()) code |= 2;
    pthread_t thread;
    void* result = NULL;
    if (pthread_create(&thread, NULL, do_nothing, (void*)(intptr_t)9) != 0 ||
        pthread_join(thread, &result) != 0 || (intptr_t)result != 9) {
      code |= 4;
    }
    _exit(code);
  }
  int status = -1;
  CHECK("fork from a threaded process: the child exits",
        child > 0 && waitpid(child, &status, 0) == child);
  CHECK("fork: the child has the calling thread only",
        WIFEXITED(status) && (WEXITSTATUS(status) & 1) == 0);
  CHECK("fork: the child's thread id is its pid",
        WIFEXITED(status) && (WEXITSTATUS(status) & 2) == 0);
  CHECK("fork: the child makes threads", WIFEXITED(status) && (WEXITSTATUS(status) & 4) == 0);
  pthread_mutex_lock(&park_lock);
  park_done = 1;
  pthread_cond_broadcast(&park_cond);
  pthread_mutex_unlock(&park_lock);
  for (int i = 0; i < made; ++i) pthread_join(parked[i], NULL);
  CHECK("fork: the parent's threads go on", made == 2);

  // execve from a thread other than the main one: the others end, the program runs alone.
  child = fork();
  if (child == 0) {
    pthread_t threads[2];
    park_done = 0;
    if (pthread_create(&threads[0], NULL, park, NULL) != 0) _exit(6);
    if (pthread_create(&threads[1], NULL, exec_self, NULL) != 0) _exit(7);
    for (;;) pause();
  }
  status = -1;
  CHECK("execve from a thread: the new program runs alone",
        child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
            WEXITSTATUS(status) == 40);
}

// The program execve'd from a thread: it is the only thread, its id the pid.
static int exec_child(void) {
  int code = 40;
  if (tid_of_caller() != getpid()) code = 41;
  if (threads_in_status() != 1) code = 42;
  return code;
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "exec-child") == 0) return exec_child();
  self_path = argv[0];
  setvbuf(stdout, NULL, _IONBF, 0);
  create_and_join();
  mutex_counter();
  condition_variables();
  tls_and_ids();
  thread_signals();
  alternate_stacks();
  detached_thread();
  futex_checks();
  exits();
  fork_and_exec();
  printf("thread_checks: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
