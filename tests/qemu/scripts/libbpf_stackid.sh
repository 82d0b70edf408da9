# SPDX-License-Identifier: MIT
# userland/libbpf/stackid (Debian's libbpf): bpf_get_stackid in a kprobe on do_unlinkat stores
# the POSIX server's stack (its frame-pointer chain from the probe's registers) in a stack trace
# map; three unlinks have one stack id. The loader names the frames from /proc/kallsyms: the
# POSIX server's own callers (posix::sys_unlink, then dispatch_syscall: __x64_sys_unlink ends
# in a tail call, so it has no frame). Its user stack starts in libc's unlink. Not compared
# with Linux: the stack is the POSIX server's, not Linux's.
/bin/stackid
echo "status $?"
