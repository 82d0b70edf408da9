# SPDX-License-Identifier: MIT
# userland/libbpf/kernel_kprobe (added with --add): libbpf attaches a kprobe program to a
# microkernel function by its /proc/kallsyms name ("microkernel:" module prefix); the program
# runs on the kernel's samples and counts them in its .bss. Not compared with Linux (Sonde's own
# kernel). Nothing stays attached after the program exits.
/bin/kernel_kprobe
echo "status $?"
echo "kprobes listed: $(wc -l < /sys/kernel/debug/kprobes/list)"
