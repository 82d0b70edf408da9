// SPDX-License-Identifier: MIT
// Three small tracepoint programs as tools are written with libbpf: a per-process system call
// counter on raw_syscalls:sys_enter (a hash map keyed by tgid), the file names of openat calls
// through a BPF ring buffer (syscalls:sys_enter_openat), and their results through a perf
// buffer (syscalls:sys_exit_openat, bpf_perf_event_output). Only the loader's own process is
// counted and reported (target_tgid).
// clang-format off: vmlinux.h defines the types libbpf's headers use, so it comes first.
#include "vmlinux.h"
// clang-format on
#include <bpf/bpf_helpers.h>

#include "syscall_tools.h"

char LICENSE[] SEC("license") = "GPL";

int target_tgid = 0;

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 64);
  __type(key, int);
  __type(value, unsigned long long);
} counts SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} names SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(int));
  __uint(value_size, sizeof(int));
} results SEC(".maps");

SEC("tracepoint/raw_syscalls/sys_enter")
int count_syscall(struct trace_event_raw_sys_enter* ctx) {
  int tgid = bpf_get_current_pid_tgid() >> 32;
  if (tgid != target_tgid) return 0;
  unsigned long long one = 1;
  unsigned long long* count = bpf_map_lookup_elem(&counts, &tgid);
  if (count != 0) {
    __sync_fetch_and_add(count, 1);
  } else {
    bpf_map_update_elem(&counts, &tgid, &one, BPF_NOEXIST);
  }
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int openat_name(struct trace_event_raw_sys_enter* ctx) {
  if ((int)(bpf_get_current_pid_tgid() >> 32) != target_tgid) return 0;
  struct name_event* event = bpf_ringbuf_reserve(&names, sizeof(*event), 0);
  if (event == 0) return 0;
  event->flags = (unsigned int)ctx->args[2];
  bpf_probe_read_user_str(event->path, sizeof(event->path), (const char*)ctx->args[1]);
  bpf_ringbuf_submit(event, 0);
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int openat_result(struct trace_event_raw_sys_exit* ctx) {
  if ((int)(bpf_get_current_pid_tgid() >> 32) != target_tgid) return 0;
  struct result_event event = {};
  event.ret = ctx->ret;
  bpf_get_current_comm(event.comm, sizeof(event.comm));
  bpf_perf_event_output(ctx, &results, BPF_F_CURRENT_CPU, &event, sizeof(event));
  return 0;
}
