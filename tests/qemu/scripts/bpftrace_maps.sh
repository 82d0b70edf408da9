# SPDX-License-Identifier: MIT
# Debian's bpftrace, its maps and timers: one-liners as its users write them (trace:
# bpftrace_lib.sh).
. /bin/bpftrace_lib.sh
echo 'root:x:0:0:root:/root:/bin/sh' > /tmp/data
trace 'kprobe:vfs_read /comm == "dd"/ { @start[tid] = nsecs; } kretprobe:vfs_read /@start[tid]/ { @reads[comm] = count(); @bytes[comm] = sum(retval); delete(@start[tid]); }' 'dd if=/tmp/data of=/dev/null bs=16 2>/dev/null'
trace 'tracepoint:syscalls:sys_exit_read /comm == "dd"/ { @ret = stats(args->ret); @max = max(args->ret); @min = min(args->ret); @avg = avg(args->ret); }' 'dd if=/tmp/data of=/dev/null bs=16 2>/dev/null'
# Histograms: power-of-two and linear buckets of a kretprobe's return values.
trace 'kretprobe:vfs_read /comm == "dd"/ { @bytes = hist(retval); @l = lhist(retval, 0, 32, 8); }' 'dd if=/tmp/data of=/dev/null bs=16 2>/dev/null'
trace 'interval:ms:200 { printf("tick\n"); exit(); }' 'sleep 1'
trace 'tracepoint:sched:sched_process_exit /comm == "true"/ { printf("exit %s\n", comm); }' '/bin/true; /bin/true'
# profile: CPU-clock samples on each CPU, current being the interrupted task (counts vary).
yes > /dev/null &
y=$!
echo "== profile"
bpftrace -e 'profile:hz:99 /comm == "yes"/ { @samples[comm] = count(); } interval:s:2 { exit(); }' |
  sed 's/: [0-9][0-9]*$/: N/'
kill $y
wait $y 2>/dev/null || :  # 143: killed, as meant
