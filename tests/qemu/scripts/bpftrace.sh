# SPDX-License-Identifier: MIT
# Debian's bpftrace: one-liners as its users write them, each in the background while a
# workload runs, stopped with SIGINT (bpftrace then prints its maps). bpftrace prints
# "Attaching" before its probes are attached: the workload waits 2 s more. The shell spins
# until bpftrace has exited (an idle Linux guest can take minutes to end the RCU grace period
# bpftrace's exit waits for).
trace() {
  out=/tmp/bpftrace.out
  : > $out
  bpftrace -e "$1" > $out 2>&1 &
  pid=$!
  i=0
  while ! grep -q Attaching $out && [ $i -lt 120 ]; do sleep 1; i=$((i+1)); done
  sleep 2
  eval "$2"
  sleep 1
  kill -INT $pid 2>/dev/null
  while grep -q '^State:[[:space:]]*[RSD]' /proc/$pid/status 2>/dev/null; do :; done
  wait $pid
  echo "== $1"
  cat $out
}
bpftrace -e 'BEGIN { printf("hello\n"); exit(); }'
bpftrace -l 'tracepoint:syscalls:sys_enter_unlink*'
bpftrace -l 'kprobe:do_unlinkat'
echo 'root:x:0:0:root:/root:/bin/sh' > /tmp/data
trace 'tracepoint:syscalls:sys_enter_unlink* /comm == "rm"/ { printf("%s %s\n", probe, str(args->pathname)); }' 'touch /tmp/a /tmp/b; rm /tmp/a /tmp/b'
trace 'kprobe:do_unlinkat { @[comm] = count(); } kretprobe:do_unlinkat { @ret[retval] = count(); }' 'touch /tmp/a /tmp/b /tmp/c; rm /tmp/a /tmp/b /tmp/c; rm /tmp/a 2>/dev/null'
trace 'kprobe:vfs_open /comm == "cat"/ { printf("open %s\n", str(((struct path *)arg0)->dentry->d_name.name)); }' 'cat /tmp/data > /dev/null'
