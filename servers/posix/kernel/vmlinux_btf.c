// SPDX-License-Identifier: MIT
// The translation unit /sys/kernel/btf/vmlinux is generated from (pahole over its DWARF at
// build time): the Linux-named types the POSIX server keeps (linux_types.h) and Linux's uapi
// BPF types (the map types and flags programs name), compiled with every type kept.
#include <linux/bpf.h>

#include "linux_types.h"
