# SPDX-License-Identifier: MIT
# userland/linux-tests/kprobe_checks (added with --add): kprobe programs through perf_event_open;
# then per-CPU maps as a program on CPU 1 fills them.
/bin/kprobe_checks
echo "status $?"
taskset -c 1 /bin/kprobe_checks --per-cpu
echo "status $?"
