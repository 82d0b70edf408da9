# SPDX-License-Identifier: MIT
# Kprobes on a microkernel function: a program through the kprobe PMU
# (userland/linux-tests/kernel_kprobe_checks, added with --add), then a kprobe_events line on
# kernel::fast_foreign_syscall (every Linux system call) through tracefs. Sample counts, times and addresses are masked.
grep -F '_ZN6kernel20fast_foreign_syscallEPNS_3TcbE' /proc/kallsyms | cut -c17-
/bin/kernel_kprobe_checks > /tmp/checks.out
echo "status $?"
grep -v samples /tmp/checks.out
cd /sys/kernel/tracing
echo 'p:kforeign microkernel:_ZN6kernel20fast_foreign_syscallEPNS_3TcbE tcb=%di' > kprobe_events
cat kprobe_events
echo 'r:kret microkernel:_ZN6kernel20fast_foreign_syscallEPNS_3TcbE' >> kprobe_events
echo 1 > events/kprobes/kret/enable || echo "return probes on microkernel functions refused"
echo 1 > events/kprobes/kforeign/enable
ls / > /dev/null
echo 0 > events/kprobes/kforeign/enable
grep -m1 kforeign trace | sed -E 's/ [0-9]+\.[0-9]+:/ TIME:/; s/\+0x0\/0x[0-9a-f]+/+0x0\/SIZE/; s/tcb=0xffff[0-9a-f]+/tcb=KERNEL/'
echo -:kforeign >> kprobe_events && echo removed
echo -:kret >> kprobe_events
cat kprobe_events
