// SPDX-License-Identifier: MIT
// BTF-typed programs (BPF_PROG_TYPE_TRACING): fentry and fexit on do_unlinkat, whose arguments
// come typed by the kernel's BTF, so `name->name` is a direct load through a kernel pointer
// (the verifier makes it a probing load); fexit also gets the return value. A tp_btf program
// on sched_process_exec reads its task and linux_binprm the same way, and
// bpf_get_current_task_btf gives the current task typed. Only the loader's own calls and its
// children's execs are reported (target_pid).
// clang-format off: vmlinux.h defines the types libbpf's headers use, so it comes first.
#include "vmlinux.h"
// clang-format on
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

int target_pid = 0;

SEC("fentry/do_unlinkat")
int BPF_PROG(unlink_entry, int dfd, struct filename* name) {
  struct task_struct* task = bpf_get_current_task_btf();
  if (task->tgid != target_pid) return 0;
  bpf_printk("FENTRY do_unlinkat dfd=%d name=%s", dfd, name->name);
  bpf_printk("FENTRY task pid=%d comm=%s", task->pid - target_pid, task->comm);
  bpf_printk("FENTRY parent comm=%s func_ip_set=%d", task->real_parent->comm,
             bpf_get_func_ip(ctx) != 0);
  __u64 value = 0;
  bpf_printk("FENTRY helpers arg2=%ld ret=%ld", bpf_get_func_arg(ctx, 2, &value),
             bpf_get_func_ret(ctx, &value));
  return 0;
}

SEC("fexit/do_unlinkat")
int BPF_PROG(unlink_exit, int dfd, struct filename* name, int ret) {
  if (bpf_get_current_task_btf()->tgid != target_pid) return 0;
  bpf_printk("FEXIT do_unlinkat dfd=%d ret=%d", dfd, ret);
  // The trampoline's helpers read the same context: the count, an argument, the return value.
  __u64 first = 0, value = 0;
  long got = bpf_get_func_arg(ctx, 0, &first) | bpf_get_func_ret(ctx, &value);
  bpf_printk("FEXIT helpers count=%d arg0=%d ret=%d", (int)bpf_get_func_arg_cnt(ctx), (int)first,
             got == 0 ? (int)value : 999);
  return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec, struct task_struct* task, pid_t old_pid, struct linux_binprm* bprm) {
  if (task->real_parent->tgid != target_pid) return 0;
  bpf_printk("TP_BTF exec filename=%s comm=%s same_pid=%d", bprm->filename, task->comm,
             old_pid == task->pid);
  bpf_printk("TP_BTF exec interp=%s argc=%d", bprm->interp, bprm->argc);
  return 0;
}
