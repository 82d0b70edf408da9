# SPDX-License-Identifier: MIT
# tracefs's set_event_pid, as Linux 6.1's: the list (ascending, one a line; '>' empties it first,
# even when the write then fails; a token that is no pid is EINVAL), and what it keeps: the
# listed task's events only (its children's not: event-fork is off), a sched_switch when the
# listed task is its prev or its next. Pids and times vary: masked.
cd /sys/kernel/tracing
cat set_event_pid
echo "empty: $?"
echo 5 > set_event_pid
cat set_event_pid
echo 3 9 >> set_event_pid
printf '7\n0x10\n010\n' >> set_event_pid
cat set_event_pid
echo abc > set_event_pid 2> /dev/null
echo "abc: $?"
echo "after a failed write: $(wc -l < set_event_pid) pids"
echo 4 5 -1 >> set_event_pid 2> /dev/null
echo "negative: $? ($(wc -l < set_event_pid) pids)"
echo > set_event_pid
echo "emptied: $(wc -c < set_event_pid) bytes"
echo > trace
echo $$ > set_event_pid
echo 1 > events/syscalls/sys_enter_getpid/enable
echo 1 > events/syscalls/sys_enter_close/enable
sh -c 'cat /etc/passwd > /dev/null'
echo 0 > events/syscalls/sys_enter_getpid/enable
echo 0 > events/syscalls/sys_enter_close/enable
grep -v '^#' trace | awk '{ print $1 }' | sed -E "s/-$$\$/-SHELL/; s/-[0-9]+\$/-OTHER/" | sort | uniq -c
echo > trace
echo 1 > events/sched/sched_switch/enable
sleep 0.1
echo 0 > events/sched/sched_switch/enable
[ "$(grep -c 'sched_switch:' trace)" -gt 0 ] && echo "switches of the shell: some"
echo "without the shell: $(grep 'sched_switch:' trace | grep -v "prev_pid=$$ " | grep -vc "next_pid=$$ ")"
echo > set_event_pid
