// SPDX-License-Identifier: MIT
// A uprobe and a uretprobe as libbpf's examples write them (BPF_KPROBE, BPF_KRETPROBE), on a
// user function `long traced_add(long a, long b)`, and a uprobe on `traced_length(const char*)`
// that reads the caller's string with bpf_probe_read_user_str; each hit sends an event through
// a BPF ring buffer: the process, its comm, the arguments, the return value or the string.
#include "uprobe_ring.h"

#include <asm/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <linux/bpf.h>

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 64 * 1024);
} events SEC(".maps");

static void fill(struct uprobe_event* event, __u32 kind) {
  event->tgid = bpf_get_current_pid_tgid() >> 32;
  event->kind = kind;
  bpf_get_current_comm(event->comm, sizeof event->comm);
}

SEC("uprobe")
int BPF_KPROBE(on_entry, long a, long b) {
  struct uprobe_event* event = bpf_ringbuf_reserve(&events, sizeof *event, 0);
  if (!event) return 0;
  fill(event, 0);
  event->a = a;
  event->b = b;
  event->value = 0;
  event->text[0] = 0;
  bpf_ringbuf_submit(event, 0);
  return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(on_return, long value) {
  struct uprobe_event* event = bpf_ringbuf_reserve(&events, sizeof *event, 0);
  if (!event) return 0;
  fill(event, 1);
  event->a = 0;
  event->b = 0;
  event->value = value;
  event->text[0] = 0;
  bpf_ringbuf_submit(event, 0);
  return 0;
}

SEC("uprobe")
int BPF_KPROBE(on_length, const char* text) {
  struct uprobe_event* event = bpf_ringbuf_reserve(&events, sizeof *event, 0);
  if (!event) return 0;
  fill(event, 2);
  event->a = 0;
  event->b = 0;
  event->value = bpf_probe_read_user_str(event->text, sizeof event->text, text);
  bpf_ringbuf_submit(event, 0);
  return 0;
}
