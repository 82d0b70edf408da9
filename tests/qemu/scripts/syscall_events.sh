# SPDX-License-Identifier: MIT
# Syscall tracepoints through tracefs: syscalls:sys_enter_openat/sys_exit_openat and
# raw_syscalls:sys_exit around one shell redirection (time, pid and pointers masked).
cd /sys/kernel/tracing
echo 1 > events/syscalls/sys_enter_openat/enable
echo 1 > events/syscalls/sys_exit_openat/enable
echo 1 > events/raw_syscalls/sys_exit/enable
echo hi > /tmp/x
echo 0 > events/raw_syscalls/sys_exit/enable
echo 0 > events/syscalls/sys_enter_openat/enable
echo 0 > events/syscalls/sys_exit_openat/enable
grep -v '^#' trace | sed -E 's/-[0-9]+ +\[/-PID [/; s/ [0-9]+\.[0-9]+:/ TIME:/; s/filename: [0-9a-f]+/filename: PTR/'
