// SPDX-License-Identifier: MIT
// A kprobe on do_unlinkat as libbpf's examples write one (BPF_KPROBE, bpf_printk), without
// CO-RE: struct filename's first field is the name, as in Linux and the POSIX server.
#include <asm/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <linux/bpf.h>

char LICENSE[] SEC("license") = "GPL";

struct filename {
  const char* name;
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} calls SEC(".maps");

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(do_unlinkat, int dfd, struct filename* name) {
  __u32 pid = bpf_get_current_pid_tgid() >> 32;
  const char* text = 0;
  char filename[64];
  bpf_probe_read_kernel(&text, sizeof(text), &name->name);
  bpf_probe_read_kernel_str(filename, sizeof(filename), text);
  __u32 key = 0;
  __u64* count = bpf_map_lookup_elem(&calls, &key);
  if (count) __sync_fetch_and_add(count, 1);
  bpf_printk("KPROBE ENTRY pid = %d, filename = %s", pid, filename);
  return 0;
}
