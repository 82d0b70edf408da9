# SPDX-License-Identifier: MIT
# userland/linux-tests/trace_printk (added with --add): bpf_trace_printk lines in trace_pipe.
/bin/trace_printk
echo "status $?"
# loading the program enabled the printk event, as on Linux
cat /sys/kernel/tracing/set_event
