// SPDX-License-Identifier: MIT
// Raw tracepoint programs (SEC("raw_tp/...")) on the sched and signal events, with Linux's raw
// arguments: the task_structs (read with CO-RE against /sys/kernel/btf/vmlinux), exec's struct
// linux_binprm, sched_switch's preempt and prev_state; a thread is a task of its own (its pid,
// the group's tgid and leader). Only the tasks of the loader's own workload are reported (its tgid
// is `loader`, set before load), through a ring buffer.
// clang-format off: vmlinux.h defines the types libbpf's headers use, so it comes first.
#include "vmlinux.h"
// clang-format on
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "sched_raw.h"

char LICENSE[] SEC("license") = "GPL";

const volatile int loader = 0;
int child = 0;  // the forked child's tgid, once sched_process_fork has seen it

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 64 * 1024);
} events SEC(".maps");

static struct sched_raw_event* start(int kind, struct task_struct* task) {
  struct sched_raw_event* event = bpf_ringbuf_reserve(&events, sizeof *event, 0);
  if (event == NULL) return NULL;
  __builtin_memset(event, 0, sizeof *event);
  event->kind = kind;
  event->pid = BPF_CORE_READ(task, pid);
  event->tgid = BPF_CORE_READ(task, tgid);
  BPF_CORE_READ_STR_INTO(&event->comm, task, comm);
  return event;
}

static int is_child(struct task_struct* task) {
  return child != 0 && BPF_CORE_READ(task, tgid) == child;
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct* parent, struct task_struct* new_task) {
  if (BPF_CORE_READ(parent, tgid) != loader) return 0;
  if (BPF_CORE_READ(new_task, tgid) == loader) {  // a thread: clone fires it too
    struct sched_raw_event* event = start(SCHED_RAW_THREAD_FORK, new_task);
    if (event == NULL) return 0;
    event->other = BPF_CORE_READ(parent, pid);
    bpf_ringbuf_submit(event, 0);
    return 0;
  }
  child = BPF_CORE_READ(new_task, tgid);
  struct sched_raw_event* event = start(SCHED_RAW_FORK, new_task);
  if (event == NULL) return 0;
  event->other = BPF_CORE_READ(parent, tgid);
  bpf_ringbuf_submit(event, 0);
  return 0;
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct* task, pid_t old_pid, struct linux_binprm* bprm) {
  if (!is_child(task)) return 0;
  struct sched_raw_event* event = start(SCHED_RAW_EXEC, task);
  if (event == NULL) return 0;
  event->other = old_pid;
  event->value = BPF_CORE_READ(bprm, argc);
  bpf_probe_read_kernel_str(event->text, sizeof event->text, BPF_CORE_READ(bprm, filename));
  bpf_ringbuf_submit(event, 0);
  return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct* prev, struct task_struct* next,
             unsigned int prev_state) {
  if (is_child(next)) {
    struct sched_raw_event* event = start(SCHED_RAW_SWITCH_IN, next);
    if (event == NULL) return 0;
    event->value = preempt;
    bpf_ringbuf_submit(event, 0);
  }
  if (BPF_CORE_READ(next, tgid) == loader && BPF_CORE_READ(next, pid) != loader) {
    struct sched_raw_event* event = start(SCHED_RAW_THREAD, next);
    if (event == NULL) return 0;
    event->other = BPF_CORE_READ(next, group_leader, pid);
    bpf_ringbuf_submit(event, 0);
  }
  // TASK_INTERRUPTIBLE, with Linux 6.1's TASK_FREEZABLE (0x2000) in the bits above the low byte.
  if ((prev_state & 0xff) == 1 && BPF_CORE_READ(prev, tgid) == loader &&
      BPF_CORE_READ(prev, pid) != loader) {
    struct sched_raw_event* event = start(SCHED_RAW_THREAD_SLEEPS, prev);
    if (event == NULL) return 0;
    event->value = prev_state;
    event->extra = BPF_CORE_READ(prev, __state);  // the same, read from the task
    bpf_ringbuf_submit(event, 0);
  }
  if (is_child(prev)) {
    struct sched_raw_event* event = start(SCHED_RAW_SWITCH_OUT, prev);
    if (event == NULL) return 0;
    event->value = prev_state;
    bpf_ringbuf_submit(event, 0);
  }
  return 0;
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(on_wakeup, struct task_struct* task) {
  if (child == 0 || BPF_CORE_READ(task, tgid) != loader) return 0;
  struct sched_raw_event* event = start(SCHED_RAW_WAKEUP, task);
  if (event != NULL) bpf_ringbuf_submit(event, 0);
  return 0;
}

SEC("raw_tp/signal_generate")
int BPF_PROG(on_signal, int sig, struct kernel_siginfo* info, struct task_struct* task, int group,
             int result) {
  if (sig != 17 || BPF_CORE_READ(task, tgid) != loader) return 0;  // SIGCHLD for the loader
  struct sched_raw_event* event = start(SCHED_RAW_SIGNAL, task);
  if (event == NULL) return 0;
  event->other = sig;
  event->value = result;
  event->extra = group;
  bpf_ringbuf_submit(event, 0);
  return 0;
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct* task) {
  if (BPF_CORE_READ(task, tgid) == loader && BPF_CORE_READ(task, pid) != loader) {
    struct sched_raw_event* event = start(SCHED_RAW_THREAD_EXIT, task);
    if (event != NULL) bpf_ringbuf_submit(event, 0);
    return 0;
  }
  if (!is_child(task)) return 0;
  struct sched_raw_event* event = start(SCHED_RAW_EXIT, task);
  if (event == NULL) return 0;
  event->other = BPF_CORE_READ(task, exit_code);
  bpf_ringbuf_submit(event, 0);
  return 0;
}
