# SPDX-License-Identifier: MIT
# userland/libbpf/sched_raw (Debian's libbpf): raw tracepoint programs on sched_process_fork,
# sched_process_exec, sched_switch, sched_wakeup, signal_generate and sched_process_exit with
# Linux's raw arguments: the task_structs (CO-RE reads of pid, tgid, comm, exit_code), exec's
# linux_binprm (filename, argc), sched_switch's prev_state (TASK_DEAD at the child's last
# switch). The microkernel's switch and wakeup reach their programs as kernel samples.
/bin/sched_raw
echo "status $?"
