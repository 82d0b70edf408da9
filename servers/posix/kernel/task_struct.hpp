// SPDX-License-Identifier: MIT
// Each process's Linux struct task_struct and struct mm_struct, kept up to date from the process
// table for tracing programs (bpf_get_current_task, /sys/kernel/btf/vmlinux).
#pragma once

#include "kernel/linux_types.h"
#include "task/process.hpp"

// Linux's init_task: the parent of the first process (pid 0, "swapper/0").
extern "C" struct task_struct init_task;

namespace posix {

// Refills `process`'s task_struct from its table entry (and its mm_struct's pointer): called
// when a system call starts being served for it and when fork, execve or exit change it.
void update_task_struct(Process& process);

// The task_struct of `process`, init_task for none (the server's own work).
struct task_struct* task_struct_of(Process* process);
// The task_struct of one thread: the process's for its leader, the thread's own for the others.
struct task_struct* task_struct_of(Thread* thread);

// Whether `thread` now waits in a system call with its registers in `saved` (blocked or parked):
// its task_struct says so, with its process's page map, until it runs on (sched events' user
// stacks; sys::kTaskUserRegistersOffset).
void publish_waiting_registers(Thread& thread, bool waiting);

}  // namespace posix
