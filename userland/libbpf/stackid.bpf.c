// SPDX-License-Identifier: MIT
// bpf_get_stackid in a kprobe on do_unlinkat: the POSIX server's stack (a kernel stack to the
// program) and the calling process's user stack into stack trace maps, with a count per id.
#include <asm/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <linux/bpf.h>

char LICENSE[] SEC("license") = "GPL";

#define MAX_DEPTH 16

struct {
  __uint(type, BPF_MAP_TYPE_STACK_TRACE);
  __uint(max_entries, 64);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, MAX_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 64);
  __type(key, __u32);
  __type(value, __u64);
} counts SEC(".maps");

const volatile int target = 0;  // the loader's pid: other processes' unlinks do not count
long kernel_error = 0;          // the last negative bpf_get_stackid result, if any
long user_id = -1;              // the user stack's id (or error) of the last call

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(stackid_unlinkat) {
  if ((bpf_get_current_pid_tgid() >> 32) != target) return 0;
  long id = bpf_get_stackid(ctx, &stacks, 0);
  if (id < 0) {
    kernel_error = id;
    return 0;
  }
  __u32 key = id;
  __u64 one = 1;
  __u64* count = bpf_map_lookup_elem(&counts, &key);
  if (count)
    __sync_fetch_and_add(count, 1);
  else
    bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
  user_id = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
  return 0;
}
