// SPDX-License-Identifier: MIT
// The translation unit /sys/kernel/btf/vmlinux is generated from (pahole over its DWARF at
// build time): the Linux-named types the POSIX server keeps (linux_types.h) and Linux's uapi
// BPF types (the map types and flags programs name), compiled with every type kept.
#include <linux/bpf.h>

#include "linux_types.h"

// The raw tracepoints' prototypes, as Linux's BTF has one `btf_trace_<event>` per tracepoint
// (the probe's data pointer first, then the event's TP_PROTO): libbpf looks them up to tell
// whether a BTF-typed (tp_btf) program could attach. GAP: the trace server loads no tp_btf
// program (PROG_LOAD with an attach_btf_id is EINVAL), so tools that ask fall back to raw_tp.
struct kernel_siginfo;
typedef _Bool bool;  // as Linux's types.h: programs written against its vmlinux.h use it
typedef void (*btf_trace_sys_enter)(void*, struct pt_regs*, long);
typedef void (*btf_trace_sys_exit)(void*, struct pt_regs*, long);
typedef void (*btf_trace_sched_process_exec)(void*, struct task_struct*, pid_t,
                                             struct linux_binprm*);
typedef void (*btf_trace_sched_process_exit)(void*, struct task_struct*);
typedef void (*btf_trace_sched_process_free)(void*, struct task_struct*);
typedef void (*btf_trace_sched_process_fork)(void*, struct task_struct*, struct task_struct*);
typedef void (*btf_trace_signal_generate)(void*, int, struct kernel_siginfo*, struct task_struct*,
                                          int, int);
typedef void (*btf_trace_sched_switch)(void*, bool, struct task_struct*, struct task_struct*,
                                       unsigned int);
typedef void (*btf_trace_sched_wakeup)(void*, struct task_struct*);
typedef void (*btf_trace_sched_wakeup_new)(void*, struct task_struct*);
