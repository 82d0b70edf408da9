# SPDX-License-Identifier: MIT
# userland/libbpf/fentry (added with --add): fentry and fexit programs on do_unlinkat and a
# tp_btf program on sched_process_exec, loaded by libbpf against /sys/kernel/btf/vmlinux's FUNC
# and btf_trace_* records; they read kernel structs directly through their BTF-typed arguments
# and bpf_get_current_task_btf. Their links are tracing links (raw tracepoint for tp_btf), not
# kprobes: /sys/kernel/debug/kprobes/list stays empty. A tracing program aimed at a struct is
# EINVAL.
touch /tmp/fentry_one
printf '#!/bin/sh\nexit 3\n' > /tmp/fentry_script
chmod +x /tmp/fentry_script
/bin/fentry /tmp/fentry_one /tmp/fentry_missing > /tmp/fentry.out
echo "status $?"
cat /tmp/fentry.out
grep -E 'FENTRY|FEXIT|TP_BTF' /sys/kernel/tracing/trace | sed -E 's/^.*bpf_trace_printk: //'
echo "kprobes listed: $(wc -l < /sys/kernel/debug/kprobes/list)"
