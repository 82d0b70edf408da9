# SPDX-License-Identifier: MIT
# CPUs and affinity as Linux programs see them (the guest has two): nproc, taskset (the
# sched_setaffinity/sched_getaffinity calls), refused masks and pids; then probe hits of a
# workload pinned to CPU 0 or CPU 1 show that CPU in trace_pipe's CPU column, from the CPU the
# kernel's fault message names: uprobes on the workload's function, a kprobe on the POSIX
# server's do_unlinkat (which runs for the task on the task's CPU). Pids, times and addresses
# are masked.
nproc
taskset -p $$ | sed 's/^pid [0-9]*/pid PID/'
taskset -c 1 sh -c 'taskset -p $$' | sed 's/^pid [0-9]*/pid PID/'
taskset -c 0,1 sh -c 'taskset -p $$' | sed 's/^pid [0-9]*/pid PID/'
taskset -p 4 $$ 2>&1 | sed 's/pid [0-9]*/pid PID/'
taskset -p 1 99999 2>&1
cd /sys/kernel/tracing
offset=$(/bin/uprobe_checks offset)
echo "p:add /bin/uprobe_checks:$offset a=%di:s64" > uprobe_events
echo 'p:unlink do_unlinkat' > kprobe_events
echo 1 > events/uprobes/add/enable
echo 1 > events/kprobes/unlink/enable
touch /tmp/on0 /tmp/on1
taskset -c 0 /bin/uprobe_checks call 5 -7
taskset -c 0 rm /tmp/on0
taskset -c 1 /bin/uprobe_checks call 5 -7
taskset -c 1 rm /tmp/on1
echo 0 > events/uprobes/add/enable
echo 0 > events/kprobes/unlink/enable
head -n 6 trace_pipe |
  sed -E 's/^ *([^ ]+)-[0-9]+ +(\[[0-9]+\]) [^ ]+ +[0-9]+\.[0-9]+: /\1 \2 /; s/0x[0-9a-f]+/ADDR/g; s/\+ADDR\/ADDR//'
echo '-:unlink' >> kprobe_events
echo '-:add' >> uprobe_events
