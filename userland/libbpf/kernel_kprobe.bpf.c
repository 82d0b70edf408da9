// SPDX-License-Identifier: MIT
// A kprobe on a microkernel function, attached through libbpf like any kprobe: its program
// runs on the kernel's samples of the function (docs/TRACE.md), here counting them and keeping
// the first argument (the calling TCB, a kernel address).
// clang-format off: vmlinux.h defines the types libbpf's headers use, so it comes first.
#include "vmlinux.h"
// clang-format on
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

unsigned long long samples = 0;
unsigned long long last_tcb = 0;

SEC("kprobe")
int BPF_KPROBE(foreign_syscall, unsigned long tcb) {
  __sync_fetch_and_add(&samples, 1);
  last_tcb = tcb;
  return 0;
}
