# SPDX-License-Identifier: MIT
# userland/libbpf/unlink (added with --add): a libbpf skeleton program attaches a kprobe to
# do_unlinkat; its bpf_printk lines in trace_pipe as Linux prints them (time and pid masked).
touch /tmp/file_one /tmp/file_two
/bin/unlink /tmp/file_one /tmp/file_two /tmp/file_missing
echo "status $?"
cat /sys/kernel/tracing/trace | grep bpf_trace_printk | sed -E 's/-[0-9]+ +\[/-PID [/; s/ [0-9]+\.[0-9]+:/ TIME:/; s/pid = [0-9]+/pid = PID/'
