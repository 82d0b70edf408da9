# SPDX-License-Identifier: MIT
# Debian's bpftrace, its maps and timers: one-liners as its users write them, each in the background while a
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
echo 'root:x:0:0:root:/root:/bin/sh' > /tmp/data
trace 'kprobe:vfs_read /comm == "dd"/ { @start[tid] = nsecs; } kretprobe:vfs_read /@start[tid]/ { @reads[comm] = count(); @bytes[comm] = sum(retval); delete(@start[tid]); }' 'dd if=/tmp/data of=/dev/null bs=16 2>/dev/null'
trace 'tracepoint:syscalls:sys_exit_read /comm == "dd"/ { @ret = stats(args->ret); @max = max(args->ret); @min = min(args->ret); @avg = avg(args->ret); }' 'dd if=/tmp/data of=/dev/null bs=16 2>/dev/null'
trace 'interval:ms:200 { printf("tick\n"); exit(); }' 'sleep 1'
trace 'tracepoint:sched:sched_process_exit /comm == "true"/ { printf("exit %s\n", comm); }' '/bin/true; /bin/true'
# profile: CPU-clock samples on each CPU, current being the interrupted task (counts vary).
yes > /dev/null &
y=$!
echo "== profile"
bpftrace -e 'profile:hz:99 /comm == "yes"/ { @samples[comm] = count(); } interval:s:2 { exit(); }' |
  sed 's/: [0-9][0-9]*$/: N/'
kill $y
wait $y 2>/dev/null
