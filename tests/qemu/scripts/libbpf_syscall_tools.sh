# SPDX-License-Identifier: MIT
# userland/libbpf/syscall_tools (added with --add): tools as libbpf programs are written: a
# per-process system call counter on raw_syscalls:sys_enter (hash map), openat's file names
# through a BPF ring buffer and its results through a perf buffer, each consumed the way libbpf's
# ring_buffer__poll and perf_buffer__poll do (epoll on the map fds). libbpf's own openat calls
# while it attaches are seen too (a tracepoint's id file, the online CPUs for the perf buffer);
# the perf buffer has no ring yet for the first (dropped), as on Linux.
/bin/syscall_tools
echo "status $?"
