// SPDX-License-Identifier: MIT
// CO-RE programs over the POSIX server's BTF (vmlinux.h generated from /sys/kernel/btf/vmlinux's
// blob at build time): a kprobe on do_unlinkat reading struct filename and the current task
// (bpf_get_current_task, its parent, its mm), and a raw_syscalls:sys_enter tracepoint program
// reading its record as struct trace_event_raw_sys_enter. Each field access is relocated by
// libbpf against the running kernel's BTF.
// clang-format off: vmlinux.h defines the types libbpf's headers use, so it comes first.
#include "vmlinux.h"
// clang-format on
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(do_unlinkat, int dfd, struct filename* name) {
  struct task_struct* task = (struct task_struct*)bpf_get_current_task();
  char path[64];
  char comm[TASK_COMM_LEN];
  bpf_probe_read_kernel_str(path, sizeof(path), BPF_CORE_READ(name, name));
  BPF_CORE_READ_STR_INTO(&comm, task, comm);
  pid_t tgid = BPF_CORE_READ(task, tgid);
  pid_t parent = BPF_CORE_READ(task, real_parent, tgid);
  unsigned long arguments = BPF_CORE_READ(task, mm, arg_end) - BPF_CORE_READ(task, mm, arg_start);
  bpf_printk("CORE unlink %s", path);
  bpf_printk("CORE task tgid=%d parent=%d comm=%s", tgid, parent, comm);
  bpf_printk("CORE task pid=%d argv_bytes=%lu flags=%x", BPF_CORE_READ(task, pid), arguments,
             BPF_CORE_READ(task, flags));
  return 0;
}

SEC("tracepoint/raw_syscalls/sys_enter")
int sys_enter(struct trace_event_raw_sys_enter* ctx) {
  if (ctx->id != 87) return 0;  // unlink
  struct task_struct* task = (struct task_struct*)bpf_get_current_task();
  bpf_printk("CORE sys_enter id=%ld tgid=%d", ctx->id, BPF_CORE_READ(task, tgid));
  return 0;
}
