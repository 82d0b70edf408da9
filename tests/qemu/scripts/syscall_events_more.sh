# SPDX-License-Identifier: MIT
# Syscall tracepoints beyond openat: syscalls:sys_enter_kill/sys_exit_kill from the shell's kill
# builtin and sys_enter_newuname from uname(1) (pids and pointers masked).
cd /sys/kernel/tracing
echo > trace
echo 1 > events/syscalls/sys_enter_kill/enable
echo 1 > events/syscalls/sys_exit_kill/enable
echo 1 > events/syscalls/sys_enter_newuname/enable
kill -0 $$
uname -s > /dev/null
echo 0 > events/syscalls/sys_enter_kill/enable
echo 0 > events/syscalls/sys_exit_kill/enable
echo 0 > events/syscalls/sys_enter_newuname/enable
grep -v '^#' trace | sed -E 's/-[0-9]+ +\[/-PID [/; s/ [0-9]+\.[0-9]+:/ TIME:/; s/pid: [0-9a-f]+/pid: PID/; s/name: [0-9a-f]+/name: PTR/'
# A call that sleeps enters once: the shell's wait4 for sleep(1) and sleep's nanosleep each show
# one sys_enter however long they block (the shell's second wait4, WNOHANG, is the other line).
echo > trace
echo 1 > events/raw_syscalls/sys_enter/enable
sleep 0.5
echo 0 > events/raw_syscalls/sys_enter/enable
echo "wait4 entered: $(grep -c 'sys_enter: NR 61 ' trace)"
echo "nanosleep entered: $(grep -c 'sys_enter: NR 35 \|sys_enter: NR 230 ' trace)"
# A call a signal ends while it sleeps: sys_exit shows the restart code Linux's implementation
# returned (-ERESTARTSYS for wait4), as Linux traces the exit before it handles the signal. The
# shell waits for `sleep 1` while a background shell sends it a trapped USR1 and lives on.
echo > trace
echo 1 > events/syscalls/sys_exit_wait4/enable
trap 'echo trapped' USR1
(sleep 0.3; kill -USR1 $$; sleep 0.5) &
sleep 1
wait
trap - USR1
echo 0 > events/syscalls/sys_exit_wait4/enable
echo "wait4 ended by a signal: $(grep -c 'sys_wait4 -> 0xfffffffffffffe00' trace)"
