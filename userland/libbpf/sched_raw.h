// SPDX-License-Identifier: MIT
// The events sched_raw.bpf.c sends its loader (sched_raw.c) through a ring buffer.
#pragma once

enum sched_raw_kind {
  SCHED_RAW_FORK,
  SCHED_RAW_EXEC,
  SCHED_RAW_SWITCH_IN,
  SCHED_RAW_SWITCH_OUT,
  SCHED_RAW_WAKEUP,
  SCHED_RAW_SIGNAL,
  SCHED_RAW_EXIT,
  SCHED_RAW_THREAD,  // a thread of the loader other than its leader, switched in
  SCHED_RAW_THREAD_FORK,
  SCHED_RAW_THREAD_EXIT,
  SCHED_RAW_THREAD_SLEEPS,  // that thread switched out to sleep (TASK_INTERRUPTIBLE)
  SCHED_RAW_KINDS,
};

struct sched_raw_event {
  int kind;
  int pid;    // the task the event is about (task->pid)
  int tgid;   // its task->tgid
  int other;  // fork: the parent's tgid; exec: old_pid; signal: sig; exit: exit_code
  int value;  // exec: bprm->argc; signal: result; switch: prev_state (out), preempt (in)
  int extra;  // signal: group
  char comm[16];
  char text[32];  // exec: bprm->filename
};
