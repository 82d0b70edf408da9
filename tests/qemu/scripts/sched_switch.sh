# SPDX-License-Identifier: MIT
# sched:sched_switch, sched_wakeup, sched_wakeup_new and sched_waking through tracefs: their
# format files (ids included) and, around a background `sleep 0.2` the shell waits for, the
# events Linux shows for it: the child's sched_wakeup_new, the sleeper switched out asleep (S),
# waking and woken, switched in, switched out for good (Z), the shell woken. Which other
# switches happen depends on the scheduler, so the checks look for these lines; every line
# must have Linux's shape.
cd /sys/kernel/tracing
for event in sched_switch sched_wakeup sched_wakeup_new sched_waking; do
  cat events/sched/$event/format
done
echo > trace
echo 1 > events/sched/sched_switch/enable
echo 1 > events/sched/sched_wakeup/enable
echo 1 > events/sched/sched_wakeup_new/enable
echo 1 > events/sched/sched_waking/enable
sleep 0.2 &
child=$!
wait $child
sleep 0.1
echo 0 > events/sched/sched_switch/enable
echo 0 > events/sched/sched_wakeup/enable
echo 0 > events/sched/sched_wakeup_new/enable
echo 0 > events/sched/sched_waking/enable
grep -v '^#' trace > /tmp/sched.trace
found() {
  if grep -q -E "$2" /tmp/sched.trace; then echo "$1: yes"; else echo "$1: no"; fi
}
found "the child's sched_wakeup_new" "sched_wakeup_new: comm=sh pid=$child prio=120 target_cpu=00[0-9]$"
found "sleep switched out asleep" "sched_switch: prev_comm=sleep prev_pid=$child prev_prio=120 prev_state=S ==> next_comm=[^ ]+ next_pid=[0-9]+ next_prio=120$"
found "sleep waking" "sched_waking: comm=sleep pid=$child prio=120 target_cpu=00[0-9]$"
found "sleep woken" "sched_wakeup: comm=sleep pid=$child prio=120 target_cpu=00[0-9]$"
found "sleep switched in" "==> next_comm=sleep next_pid=$child next_prio=120$"
found "sleep's last switch" "sched_switch: prev_comm=sleep prev_pid=$child prev_prio=120 prev_state=Z ==> "
found "the shell woken" "sched_wakeup: comm=sh pid=$$ prio=120 target_cpu=00[0-9]$"
# Every line: TASK-PID [CPU] flags TIME: event: text, the idle task as <idle>-0 / swapper/N.
# The flags take Linux 6.1's letters (irqs-off/BH, need-resched, hardirq/softirq/NMI, preempt
# depth, migrate-disable): Linux shows a wakeup from a hard irq inside a softirq as dNH2.
shape='^ +[^ ]+-[0-9]+ +\[00[0-9]\] [dbDX.][.Nnp][.zZHhs][0-9a-f.][0-9.] +[0-9]+\.[0-9]{6}: sched_(switch|wakeup|wakeup_new|waking): '
echo "lines of another shape: $(grep -c -v -E "$shape" /tmp/sched.trace)"
echo "idle lines not named swapper/CPU: $(grep 'prev_pid=0 ' /tmp/sched.trace | grep -c -v -E '\[00([0-9])\] .* prev_comm=swapper/\1 ')"
