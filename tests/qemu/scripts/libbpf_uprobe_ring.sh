# SPDX-License-Identifier: MIT
# userland/libbpf/uprobe_ring (Debian's libbpf): uprobes and a uretprobe attached by function
# name in a musl and a glibc program; the events come through a BPF ring buffer.
/bin/uprobe_ring /bin/uprobe_checks /bin/uprobe_checks_glibc
echo "status $?"
