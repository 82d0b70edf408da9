// SPDX-License-Identifier: MIT
// The event uprobe_ring.bpf.c sends through its ring buffer (shared with the loader).
#ifndef SONDE_UPROBE_RING_H
#define SONDE_UPROBE_RING_H

#include <linux/types.h>

struct uprobe_event {
  __u32 tgid;
  __u32 kind;  // 0: traced_add's entry (a, b), 1: its return (value), 2: traced_length (text)
  __s64 a;
  __s64 b;
  __s64 value;
  char comm[16];
  char text[32];
};

#endif
