// SPDX-License-Identifier: MIT
// A kprobe.multi program as libbpf 1.1 attaches one (BPF_TRACE_KPROBE_MULTI over the names
// /proc/kallsyms matches): it counts do_unlinkat's calls and keeps bpf_get_func_ip's address.
#include <asm/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <linux/bpf.h>

char LICENSE[] SEC("license") = "GPL";

__u64 calls = 0;
__u64 function = 0;

SEC("kprobe.multi/do_unlinkat")
int count_unlinks(struct pt_regs* ctx) {
  __sync_fetch_and_add(&calls, 1);
  function = bpf_get_func_ip(ctx);
  return 0;
}
