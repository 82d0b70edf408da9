# SPDX-License-Identifier: MIT
# A return probe and an entry probe on do_unlinkat through tracefs; the return line names the
# caller it returned to (masked: a C++ name of the POSIX server) and the return value.
cd /sys/kernel/tracing
echo 'r:myret do_unlinkat ret=$retval' > kprobe_events
echo 'p:myent do_unlinkat dfd=%di' >> kprobe_events
cat kprobe_events
echo 1 > events/kprobes/enable
touch /tmp/a
rm /tmp/a
echo 0 > events/kprobes/enable
grep -v '^#' trace | sed -E 's/-[0-9]+ +\[/-PID [/; s/ [0-9]+\.[0-9]+:/ TIME:/; s/\+0x0\/0x[0-9a-f]+/+0x0\/SIZE/; s/\(.* <- /(CALLER <- /'
ls /tmp
