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
# software:page-faults: the event's program runs at each fault of the period (counts vary).
trace 'software:page-faults:1 /comm == "cat"/ { @[comm] = count(); }' 'cat /proc/version > /dev/null' |
  sed -E 's/: [0-9]+$/: N/'
# software:context-switches: the program runs at the switches of the task leaving (the
# microkernel's sched_switch; counts vary).
trace 'software:context-switches:1 /comm == "sleep"/ { @[comm] = count(); }' 'sleep 1' |
  sed -E 's/: [0-9]+$/: N/'
# profile: CPU-clock samples on each CPU, current being the interrupted task (counts vary).
yes > /dev/null &
y=$!
echo "== profile"
bpftrace -e 'profile:hz:99 /comm == "yes"/ { @samples[comm] = count(); } interval:s:2 { exit(); }' |
  sed 's/: [0-9][0-9]*$/: N/'
kill $y
wait $y 2>/dev/null || :  # 143: killed, as meant
# Load averages: the POSIX server keeps Linux's avenrun (kallsyms lists it at its kernel alias,
# loads.bt reads it through kaddr) and /proc/loadavg shows it; a busy shell moves the 1-minute
# average at the next 5-second step.
trace 'interval:s:8 { $a = kaddr("avenrun"); printf("avenrun[0] above 0: %d\n", *$a > 0); exit(); }' 'end=$(($(date +%s)+7)); while [ $(date +%s) -lt $end ]; do :; done; awk "{ print \"loadavg load1 above 0: \" (\$1 > 0) }" /proc/loadavg'
sed -E 's/^[0-9]+\.[0-9]{2} [0-9]+\.[0-9]{2} [0-9]+\.[0-9]{2} [0-9]+\/[0-9]+ [0-9]+$/loadavg: Linux format/' /proc/loadavg
# profile's kernel stacks: where the tick found the kernel working for `yes` (the POSIX
# server's functions at its kernel alias here, Linux's own there): that there are some.
yes > /dev/null &
y=$!
bpftrace -e 'profile:hz:99 /comm == "yes"/ { @k[kstack(1)] = count(); } interval:s:2 { exit(); }' > /tmp/profile.out 2>&1
kill $y
wait $y 2>/dev/null || :  # 143: killed, as meant
frames=$(grep -cE '^ +[A-Za-z_][A-Za-z0-9_.]*\+[0-9]+$' /tmp/profile.out)
echo "profile kernel frames: $([ "$frames" -gt 0 ] && echo some || echo none)"
