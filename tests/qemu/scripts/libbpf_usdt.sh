# SPDX-License-Identifier: MIT
# userland/libbpf/usdt (added with --add): a USDT probe in the program's own binary (a SystemTap
# SDT note), attached by libbpf as a uprobe with a BPF cookie naming the spec of its arguments
# (registers, offsets from them, constants); the program reads them with bpf_usdt_arg and a
# string argument with bpf_probe_read_user_str. Nothing is seen after the link goes.
/bin/usdt
echo "status $?"
grep 'USDT' /sys/kernel/tracing/trace | sed -E 's/^.*bpf_trace_printk: //'
