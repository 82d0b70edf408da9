// SPDX-License-Identifier: MIT
// A USDT program (libbpf's usdt.bpf.h): attached by the loader to its own sonde:tick probe, a
// SystemTap SDT note in its ELF. libbpf turns the note into a uprobe at the probe's address, a
// spec of where each argument lives (a register, an offset from one, a constant) in its maps,
// and the spec's id as the uprobe's BPF cookie, which bpf_usdt_arg finds the spec by.
// clang-format off: vmlinux.h defines the types libbpf's headers use, so it comes first.
#include "vmlinux.h"
// clang-format on
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

char LICENSE[] SEC("license") = "GPL";

SEC("usdt")
int BPF_USDT(tick, int i, const char* name, long square) {
  char text[16] = {};
  bpf_probe_read_user_str(text, sizeof(text), name);
  bpf_printk("USDT sonde:tick i=%d name=%s square=%ld", i, text, square);
  bpf_printk("USDT args=%d", bpf_usdt_arg_cnt(ctx));
  return 0;
}
