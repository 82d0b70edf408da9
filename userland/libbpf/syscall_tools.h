// SPDX-License-Identifier: MIT
// The events syscall_tools.bpf.c sends to its loader: an openat's path (ring buffer) and its
// result (perf buffer).
#ifndef SONDE_USERLAND_LIBBPF_SYSCALL_TOOLS_H
#define SONDE_USERLAND_LIBBPF_SYSCALL_TOOLS_H

struct name_event {
  unsigned int flags;
  char path[60];
};

struct result_event {
  long long ret;
  char comm[16];
};

#endif
