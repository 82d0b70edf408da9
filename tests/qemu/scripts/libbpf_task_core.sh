# SPDX-License-Identifier: MIT
# userland/libbpf/task_core (added with --add): libbpf relocates CO-RE programs against
# /sys/kernel/btf/vmlinux; what they read through bpf_get_current_task and struct filename is
# the process that ran them: its tgid and pid ($!), its parent (this shell, $$), its comm and
# the size of its argv in its mm_struct (43 bytes: three strings and their NULs), its flags
# (100: PF_SUPERPRIV from its bpf() calls, no PF_FORKNOEXEC after execve; Linux's also have
# PF_RANDOMIZE, 400000, which Sonde's fixed address spaces do not earn: docs/LINUX-VM.md).
ls -l /sys/kernel/btf/vmlinux | cut -c1-10
head -c 4 /sys/kernel/btf/vmlinux | od -An -tx1
touch /tmp/core_one /tmp/core_two
/bin/task_core /tmp/core_one /tmp/core_two > /tmp/task_core.out &
child=$!
wait $child
echo "status $?"
sed -e "s/pid=$child /pid=CHILD /; s/ppid=$$\$/ppid=SHELL/" /tmp/task_core.out
ls /tmp/core_one /tmp/core_two 2>&1 | sed 's/.*: //'
grep 'CORE' /sys/kernel/tracing/trace | sed -E "s/^.*bpf_trace_printk: //; s/tgid=$child( |\$)/tgid=CHILD\1/; s/parent=$$ /parent=SHELL /; s/task pid=$child /task pid=CHILD /"
