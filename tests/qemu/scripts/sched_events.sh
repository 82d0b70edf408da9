# SPDX-License-Identifier: MIT
# The sched and signal tracepoints through tracefs: a format file; exec alone; then fork, exec,
# exit, wait, free and signal_generate around a background sleep the shell signals (times and
# pids masked; the second part sorted, as the background child's order against the shell's
# next commands varies; sched_switch, the wakeups, sched_stat_runtime and sched_migrate_task,
# which the system's enable turns on too, are sched_switch.sh's and perf_sched.sh's).
cd /sys/kernel/tracing
grep -v '^ID:' events/sched/sched_process_exec/format
normalise() {
  grep -v '^#' trace | sed -E 's/-[0-9]+ +\[/-PID [/; s/ [0-9]+\.[0-9]+:/ TIME:/; s/pid=[0-9]+/pid=PID/g'
}
echo 1 > events/sched/sched_process_exec/enable
/bin/true
echo 0 > events/sched/sched_process_exec/enable
normalise
echo > trace
echo 1 > events/sched/enable
echo 1 > events/signal/signal_generate/enable
cat events/sched/enable events/signal/enable
sleep 30 &
sleep 1
kill -USR1 $!
wait
echo 0 > events/sched/enable
echo 0 > events/signal/signal_generate/enable
normalise | grep -v -E ': sched_(switch|wakeup|wakeup_new|waking|stat_runtime|migrate_task): ' | sort -u
