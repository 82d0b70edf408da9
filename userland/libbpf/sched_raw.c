// SPDX-License-Identifier: MIT
// The loader of sched_raw.bpf.c: a bpftool skeleton over Debian's libbpf, linked statically.
// It attaches the raw tracepoint programs, forks a child that runs `/bin/sh -c 'exit 3'`, waits
// for it, and prints what the programs saw of it, with pids named by role ("the loader", "the
// child") so that the lines are the same on every system.
#include "sched_raw.h"

#include <bpf/libbpf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "loader.h"
#include "sched_raw.skel.h"

static pid_t loader;
static pid_t child;
static struct sched_raw_event seen[SCHED_RAW_KINDS];  // the last event of each kind
static int counts[SCHED_RAW_KINDS];

static int handle(void* context, void* data, size_t size) {
  (void)context;
  const struct sched_raw_event* event = data;
  if (size < sizeof *event || event->kind < 0 || event->kind >= SCHED_RAW_KINDS) return 0;
  seen[event->kind] = *event;
  ++counts[event->kind];
  return 0;
}

static pid_t thread_tid;

// A second thread of the loader: it sleeps, so the scheduler switches it out and in again.
static void* sleeper(void* unused) {
  (void)unused;
  thread_tid = (pid_t)syscall(SYS_gettid);
  struct timespec pause = {0, 20 * 1000 * 1000};
  nanosleep(&pause, NULL);
  return NULL;
}

static const char* who(int pid) {
  if (pid == loader) return "the loader";
  if (pid == child) return "the child";
  return "another task";
}

int main(void) {
  libbpf_set_print(loader_print);
  struct sched_raw_bpf* skeleton = sched_raw_bpf__open();
  if (skeleton == NULL) {
    fprintf(stderr, "sched_raw: cannot open the BPF object\n");
    return 1;
  }
  loader = getpid();
  skeleton->rodata->loader = loader;
  if (sched_raw_bpf__load(skeleton) != 0 || sched_raw_bpf__attach(skeleton) != 0) {
    fprintf(stderr, "sched_raw: cannot load or attach the programs\n");
    return 1;
  }
  struct ring_buffer* ring =
      ring_buffer__new(bpf_map__fd(skeleton->maps.events), handle, NULL, NULL);
  if (ring == NULL) {
    fprintf(stderr, "sched_raw: no ring buffer\n");
    return 1;
  }
  printf("attached\n");
  fflush(stdout);
  child = fork();
  if (child == 0) {
    execl("/bin/sh", "/bin/sh", "-c", "exit 3", (char*)NULL);
    _exit(127);
  }
  int status = 0;
  waitpid(child, &status, 0);
  pthread_t thread;
  if (pthread_create(&thread, NULL, sleeper, NULL) != 0) {
    fprintf(stderr, "sched_raw: no thread\n");
    return 1;
  }
  pthread_join(thread, NULL);
  // Events of the microkernel's scheduler reach the programs a little later on Sonde.
  struct timespec pause = {0, 200 * 1000 * 1000};
  nanosleep(&pause, NULL);
  for (int i = 0; i < 5; ++i) ring_buffer__poll(ring, 20);

  printf("child status %d\n", WEXITSTATUS(status));
  const struct sched_raw_event* fork_event = &seen[SCHED_RAW_FORK];
  if (counts[SCHED_RAW_FORK] > 0) {
    printf("fork: parent %s, new task %s (pid %s)\n", who(fork_event->other), who(fork_event->tgid),
           who(fork_event->pid));
  }
  const struct sched_raw_event* exec = &seen[SCHED_RAW_EXEC];
  if (counts[SCHED_RAW_EXEC] > 0) {
    printf("exec: %s, old_pid %s, comm %s, bprm filename %s, argc %d\n", who(exec->tgid),
           who(exec->other), exec->comm, exec->text, exec->value);
  }
  if (counts[SCHED_RAW_SWITCH_IN] > 0) {
    printf("switch: %s was switched in\n", who(seen[SCHED_RAW_SWITCH_IN].tgid));
  }
  const struct sched_raw_event* out = &seen[SCHED_RAW_SWITCH_OUT];
  if (counts[SCHED_RAW_SWITCH_OUT] > 0) {
    printf("switch: %s (%s) was last switched out with prev_state 0x%x\n", who(out->tgid),
           out->comm, out->value);
  }
  if (counts[SCHED_RAW_WAKEUP] > 0)
    printf("wakeup: %s was woken\n", who(seen[SCHED_RAW_WAKEUP].tgid));
  const struct sched_raw_event* signal = &seen[SCHED_RAW_SIGNAL];
  if (counts[SCHED_RAW_SIGNAL] > 0) {
    printf("signal_generate: signal %d for %s, group %d, result %d\n", signal->other,
           who(signal->tgid), signal->extra, signal->value);
  }
  const struct sched_raw_event* exit_event = &seen[SCHED_RAW_EXIT];
  if (counts[SCHED_RAW_EXIT] > 0) {
    printf("exit: %s (%s), exit_code 0x%x\n", who(exit_event->tgid), exit_event->comm,
           exit_event->other);
  }
  const struct sched_raw_event* thread_event = &seen[SCHED_RAW_THREAD];
  if (counts[SCHED_RAW_THREAD] > 0) {
    printf("thread: switched in with pid %s, tgid %s, group leader %s, comm %s\n",
           thread_event->pid == thread_tid ? "its tid" : "another", who(thread_event->tgid),
           who(thread_event->other), thread_event->comm);
  }
  const struct sched_raw_event* sleeps = &seen[SCHED_RAW_THREAD_SLEEPS];
  if (counts[SCHED_RAW_THREAD_SLEEPS] > 0) {
    printf("thread sleeps: switched out with prev_state 0x%x, prev->__state 0x%x (low bytes)\n",
           sleeps->value & 0xff, sleeps->extra & 0xff);
  }
  const struct sched_raw_event* thread_fork = &seen[SCHED_RAW_THREAD_FORK];
  if (counts[SCHED_RAW_THREAD_FORK] > 0) {
    printf("thread fork: by %s, new task pid %s, tgid %s\n", who(thread_fork->other),
           thread_fork->pid == thread_tid ? "its tid" : "another", who(thread_fork->tgid));
  }
  const struct sched_raw_event* thread_exit = &seen[SCHED_RAW_THREAD_EXIT];
  if (counts[SCHED_RAW_THREAD_EXIT] > 0) {
    printf("thread exit: pid %s, tgid %s, comm %s\n",
           thread_exit->pid == thread_tid ? "its tid" : "another", who(thread_exit->tgid),
           thread_exit->comm);
  }
  ring_buffer__free(ring);
  sched_raw_bpf__destroy(skeleton);
  return 0;
}
