// SPDX-License-Identifier: MIT
// libbpf's ksyscall programs and a kprobe on a system call's entry point: SEC("ksyscall/NAME")
// attaches to Linux's `__x64_sys_NAME(const struct pt_regs *regs)` and BPF_KSYSCALL reads the
// call's arguments from the caller's pt_regs that function gets; kretsyscall sees its return
// value. Only the loader's own calls count (its tgid is `target`, set before load).
// clang-format off: vmlinux.h defines the types libbpf's headers use, so it comes first.
#include "vmlinux.h"
// clang-format on
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

const volatile int target = 0;
int entered = 0, last_dfd = 0, last_flags = 0, returned = 0, getppid_calls = 0;
long last_result = 0;
char last_path[64] = {};

static int mine(void) { return (bpf_get_current_pid_tgid() >> 32) == (__u64)target; }

SEC("ksyscall/unlinkat")
int BPF_KSYSCALL(unlinkat_entry, int dfd, const char* pathname, int flags) {
  if (!mine()) return 0;
  ++entered;
  last_dfd = dfd;
  last_flags = flags;
  bpf_probe_read_user_str(last_path, sizeof last_path, pathname);
  return 0;
}

SEC("kretsyscall/unlinkat")
int BPF_KRETPROBE(unlinkat_exit, long ret) {
  if (!mine()) return 0;
  ++returned;
  last_result = ret;
  return 0;
}

SEC("kprobe/__x64_sys_getppid")
int BPF_KPROBE(getppid_entry) {
  if (mine()) ++getppid_calls;
  return 0;
}
