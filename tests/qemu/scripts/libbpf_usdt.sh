# SPDX-License-Identifier: MIT
# userland/libbpf/usdt (added with --add): a USDT probe in the program's own binary (a SystemTap
# SDT note), attached by libbpf as a uprobe with a BPF cookie naming the spec of its arguments
# (registers, offsets from them, constants); the program reads them with bpf_usdt_arg and a
# string argument with bpf_probe_read_user_str. Nothing is seen after the link goes. The probe's
# semaphore (its file offset is the uprobe's ref_ctr_offset) counts the attached uprobe.
/bin/usdt
echo "status $?"
grep 'USDT' /sys/kernel/tracing/trace | sed -E 's/^.*bpf_trace_printk: //'
