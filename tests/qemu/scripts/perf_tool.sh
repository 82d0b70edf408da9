# SPDX-License-Identifier: MIT
# Debian's perf (linux-perf 6.1, added with --add) on syscall tracepoints, compared with Linux
# 6.1 in the same QEMU: perf stat counts a command's calls (events opened disabled with
# enable_on_exec on the workload), perf record writes perf.data from the mmapped rings (write(2)
# of ring pages, the tracefs headers, PERF_RECORD_COMM at the exec) and perf script prints the
# samples. Pids, times, CPUs and user addresses are masked.
perf --version
perf stat -e syscalls:sys_enter_getpid -e syscalls:sys_enter_openat -e syscalls:sys_exit_openat \
  -- cat /proc/version > /dev/null 2> /tmp/stat.txt
echo "stat: $?"
grep syscalls: /tmp/stat.txt | awk '{print $1, $2}'
perf record -e syscalls:sys_enter_openat -e syscalls:sys_exit_openat -o /tmp/perf.data \
  -- cat /proc/version > /dev/null 2> /tmp/record.txt
echo "record: $?"
grep -o 'Captured and wrote .* (.*samples)' /tmp/record.txt | sed -E 's/wrote [0-9.]+ MB/wrote N MB/'
perf script -i /tmp/perf.data -F comm,event,trace 2>&1 |
  sed -E 's/0x7f[0-9a-f]+/ADDR/g; s/ +/ /g'
echo "script: $?"
perf report -i /tmp/perf.data --stdio --sort comm 2>/dev/null | grep -E '^ +[0-9]' | sed -E 's/ +/ /g'
# A syscall tracepoint's samples are at the call's user ip (Linux passes its user registers):
# in busybox, the same instruction on both kernels (masked: it moves with busybox's build).
perf report -i /tmp/perf.data --stdio --sort dso,sym 2>/dev/null | grep -E '^ +[0-9]' |
  sed -E 's/ +/ /g; s/0x[0-9a-f]+$/ADDRESS/'
# The workload's children count too (attr.inherit: sched_process_fork makes them heirs); -i
# (no inherit) counts the shell alone.
perf stat -e syscalls:sys_enter_openat -- sh -c 'cat /proc/version > /dev/null; cat /proc/version' \
  > /dev/null 2> /tmp/stat.txt
echo "inherit: $?"
grep syscalls: /tmp/stat.txt | awk '{print $1, $2}'
perf stat -i -e syscalls:sys_enter_openat -- sh -c 'cat /proc/version > /dev/null; cat /proc/version' \
  > /dev/null 2> /tmp/stat.txt
grep syscalls: /tmp/stat.txt | awk '{print $1, $2}'
# busybox's applets run by sh name themselves with prctl(PR_SET_NAME) after the exec of
# /proc/self/exe ("exe"): the rename is a PERF_RECORD_COMM, so perf script names them.
perf record -e syscalls:sys_enter_openat -o /tmp/rename.data \
  -- sh -c 'cat /proc/version > /dev/null; cat /proc/version' > /dev/null 2>&1
echo "rename: $?"
perf script -i /tmp/rename.data -F comm,event 2>/dev/null | sed -E 's/ +/ /g'
# perf record's default event in a guest without a PMU: cpu-clock, sampled on the kernel's
# timer ticks (the shell's loop gets most of them).
perf record -o /tmp/clock.data -- sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done' \
  > /dev/null 2>&1
echo "cpu-clock record: $?"
perf script -i /tmp/clock.data -F comm 2>/dev/null | sort | uniq -c | sort -rn |
  awk 'NR == 1 { print $2, ($1 > 100 ? "many samples" : $1) }'
perf record -e task-clock -o /tmp/task.data -- \
  sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done' > /dev/null 2>&1
echo "task-clock record: $?"
perf script -i /tmp/task.data -F comm 2>/dev/null | sort | uniq -c | sort -rn |
  awk 'NR == 1 { print $2, ($1 > 100 ? "many samples" : $1) }'
# Its user samples land in busybox: the exec's PERF_RECORD_MMAP2 names the file.
perf report -i /tmp/clock.data --stdio --sort comm,dso 2>/dev/null | grep -v -e '^#' -e '^$' |
  head -1 | awk '{ print $2, $3 }'
# page-faults sampled with their addresses (-d: PERF_SAMPLE_ADDR and DATA_SRC).
perf record -e page-faults -d -o /tmp/faults.data -- cat /proc/version > /dev/null 2>&1
echo "page-faults record: $?"
perf script -i /tmp/faults.data -F comm,event 2> /dev/null | sed -E 's/ +/ /g' | sort | uniq -c |
  awk '{ print $2, $3, ($1 > 1 ? "several" : $1) }'
# A subshell the workload forks is a PERF_RECORD_FORK, each task's end an EXIT.
perf record -o /tmp/fork.data -- sh -c '(true); true' > /dev/null 2>&1
perf report -D -i /tmp/fork.data 2> /dev/null | grep -o -E 'PERF_RECORD_(FORK|EXIT)' | sort |
  uniq -c | awk '{ print $2, $1 }'
# perf record -g: every sample carries its callchain (perf report -D prints each "FP chain"). A
# sched tracepoint's has a kernel part (PERF_CONTEXT_KERNEL, then the kernel's frames) and a user
# part (PERF_CONTEXT_USER, then the process's); a syscalls one the user part alone (Linux's
# samples of them carry the system call's user registers). The frames are each kernel's own.
perf record -g -o /tmp/graph.data -- sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done' \
  > /dev/null 2>&1
echo "record -g: $?"
perf report -D -i /tmp/graph.data 2> /dev/null |
  awk '/PERF_RECORD_SAMPLE/ { s++ } /FP chain: nr:/ { c++ }
       END { print (s > 100 && s == c) ? "many samples, each with a callchain" : s " samples, " c " chains" }'
# The workload's own exec enables its events (enable_on_exec) before its sched_process_exec
# fires, so they count it.
perf stat -x, -e sched:sched_process_exec -- cat /proc/version 2>&1 > /dev/null |
  awk -F, '{ print "exec events counted: " $1 }'
for event in syscalls:sys_enter_openat sched:sched_process_exec; do
  perf record -g -e $event -o /tmp/tp.data -- cat /proc/version > /dev/null 2>&1
  perf report -D -i /tmp/tp.data 2> /dev/null |
    awk -v event=$event '/FP chain: nr:/ { chain = 1; next }
         chain && $1 == "....." { k += $3 == "ffffffffffffff80"; u += $3 == "fffffffffffffe00"; next }
         { chain = 0 }
         END { print event " chains: kernel part " (k > 0) ", user part " (u > 0) }'
done
# The software counters: perf stat's default ones (task-clock, context-switches, cpu-migrations,
# page-faults count; the hardware ones are unsupported in this guest as in Linux's), and the
# rest. The numbers are each kernel's own: counted or zero is compared (migrations: a number).
perf stat -x, -- cat /proc/version 2>&1 > /dev/null |
  awk -F, '{ print $3, ($1 ~ /^[0-9.]+$/ ? "number" : $1) }'
perf stat -x, -e task-clock,page-faults,minor-faults,major-faults,context-switches,cpu-migrations \
  -e dummy,alignment-faults,emulation-faults,cgroup-switches -- sh -c 'cat /proc/version; sleep 0.1' \
  > /dev/null 2> /tmp/stat.txt
echo "counters: $?"
awk -F, '{ v = $1; if (v ~ /^[0-9.]+$/) v = ($3 == "cpu-migrations" ? "number" : (v + 0 > 0 ? "counted" : "zero")); print $3, v }' /tmp/stat.txt
