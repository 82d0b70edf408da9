# SPDX-License-Identifier: MIT
# What perf sched needs, compared with Linux 6.1: sched:sched_stat_runtime and
# sched:sched_migrate_task (the microkernel's, when a task stops being a CPU's and when
# sched_setaffinity moves it), /proc/<pid>/task/<tid>/ (perf names a system-wide recording's
# tasks from them); then Debian's perf sched record, latency and timehist.
ls /proc/$$/task | wc -l
cat /proc/$$/task/$$/comm
grep -E '^(Name|Threads):' /proc/$$/task/$$/status | tr '\t' ' '
[ "$(cut -d' ' -f1 /proc/$$/task/$$/stat)" = "$$" ] && echo "task stat: the tid"
cd /sys/kernel/tracing
for event in sched_stat_runtime sched_migrate_task; do
  grep -v '^ID:' events/sched/$event/format
done
taskset -p 1 $$ > /dev/null
echo > trace
echo 1 > events/sched/sched_stat_runtime/enable
echo 1 > events/sched/sched_migrate_task/enable
taskset -p 2 $$ > /dev/null
cat /proc/version > /dev/null
taskset -p 1 $$ > /dev/null
echo 0 > events/sched/sched_stat_runtime/enable
echo 0 > events/sched/sched_migrate_task/enable
grep -q "sched_stat_runtime: comm=sh pid=$$ runtime=[1-9]" trace && echo "sh's runtime: reported"
grep "sched_migrate_task: comm=sh pid=$$ " trace | sed -E 's/.*(orig_cpu=[0-9]+ dest_cpu=[0-9]+)/\1/'
cd /tmp
perf sched record -o /tmp/sched.data -- sh -c 'sleep 0.1; cat /proc/version > /dev/null' \
  > /dev/null 2>&1
echo "record: $?"
perf sched latency -i /tmp/sched.data 2> /dev/null | grep -E '^ +(sleep|cat):' |
  sed -E 's/^ +([a-z]+):.*/\1/' | sort
echo "unnamed tasks in timehist: $(perf sched timehist -i /tmp/sched.data 2> /dev/null |
  grep -c ' :[0-9]*\[')"
