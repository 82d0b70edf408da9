# SPDX-License-Identifier: MIT
# Debian's bpftrace: one-liners as its users write them (trace: bpftrace_lib.sh).
. /bin/bpftrace_lib.sh
bpftrace -e 'BEGIN { printf("hello\n"); exit(); }'
bpftrace -l 'tracepoint:syscalls:sys_enter_unlink*'
bpftrace -l 'kprobe:do_unlinkat'
echo 'root:x:0:0:root:/root:/bin/sh' > /tmp/data
trace 'tracepoint:syscalls:sys_enter_unlink* /comm == "rm"/ { printf("%s %s\n", probe, str(args->pathname)); }' 'touch /tmp/a /tmp/b; rm /tmp/a /tmp/b'
trace 'kprobe:do_unlinkat { @[comm] = count(); } kretprobe:do_unlinkat { @ret[retval] = count(); }' 'touch /tmp/a /tmp/b /tmp/c; rm /tmp/a /tmp/b /tmp/c; rm /tmp/a 2>/dev/null'
trace 'kprobe:vfs_open /comm == "cat"/ { printf("open %s\n", str(((struct path *)arg0)->dentry->d_name.name)); }' 'cat /tmp/data > /dev/null'
# kfunc and kretfunc: fentry and fexit programs on BTF-typed POSIX-server functions.
trace 'kfunc:vfs_read /comm == "dd"/ { @[comm] = count(); }' 'dd if=/tmp/data of=/dev/null bs=16 2>/dev/null'
trace 'kretfunc:do_unlinkat { @ret[retval] = count(); @n[str(args->name->name)] = count(); }' 'touch /tmp/q; rm /tmp/q'
# Kernel addresses name their functions: func, ksym and kstack (bcc's symbol cache, which
# bpftrace uses, takes only kernel-half addresses from /proc/kallsyms; the POSIX server's show
# at its kernel alias). The frames' offsets differ between kernels: only the names are compared.
trace 'kprobe:do_unlinkat { @f[func] = count(); @s[ksym(reg("ip"))] = count(); @k[kstack(1)] = count(); }' 'touch /tmp/q; rm /tmp/q' | sed -E 's/^( +[a-z_]+)\+[0-9]+$/\1/'
# A library by its short name: bpftrace finds libc through /etc/ld.so.cache (the image lists
# its glibc libraries there, images/mkinitramfs.py), as gethostlatency.bt does.
trace 'uprobe:libc:getaddrinfo { printf("getaddrinfo %s\n", str(arg0)); }' '/usr/bin/getent ahosts localhost > /dev/null'
# Every syscall tracepoint at once: a perf event and a program's descriptor each (hundreds, past
# RLIMIT_NOFILE's soft limit, which bpftrace raises to the hard one). Linux has more system calls
# to attach to: the count is masked.
trace 'tracepoint:syscalls:sys_enter_* /comm == "cat"/ { @[probe] = count(); }' 'cat /proc/version > /dev/null' |
  sed -E 's/Attaching [0-9]+ probes/Attaching N probes/' |
  grep -E '^(==|Attaching|@\[tracepoint:syscalls:sys_enter_openat\]|ERROR|FATAL)'
# bpftrace's first example: kprobe:do_nanosleep (Linux's name and prototype, the start of every
# nanosleep), and its struct hrtimer_sleeper through BTF (the request's relative expiry at
# entry, as Linux's hrtimer_nanosleep hands it over). The sleeps are this script's own.
trace 'kprobe:do_nanosleep /comm == "sleep"/ { printf("%s sleeping\n", comm); }' 'sleep 1'
trace 'kfunc:do_nanosleep /comm == "sleep"/ { printf("mode %d, expires %d ms\n", args->mode, args->t->timer.node.expires / 1000000); }' 'sleep 1'
