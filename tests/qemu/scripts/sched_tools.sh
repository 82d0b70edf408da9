# SPDX-License-Identifier: MIT
# Debian's runqlat, runqslower and cpudist, unmodified: raw tracepoint programs on
# sched_wakeup, sched_wakeup_new and sched_switch (the microkernel's scheduler; their programs
# run on kernel samples with the samples' clock) reading the task_structs they are passed
# (pid, tgid, comm, __state) with CO-RE. libbpf first asks whether tp_btf programs could attach
# (the vmlinux BTF has the btf_trace_* prototypes; the trace server says no) and falls back to
# raw_tp, silently as on Linux. See libbpf_tools.sh for how a tool counts as attached.
attached() {  # PID COUNT: until PID holds COUNT such fds (at most 60 s), then a moment
  n=0
  while [ "$(ls -l /proc/$1/fd 2>/dev/null | grep -c 'perf_event\|bpf_link')" -lt "$2" ] &&
    [ $n -lt 300 ]; do
    sleep 0.2
    n=$((n+1))
  done
  sleep 1
}

# runqlat: one interval of a second; its own wakeup at the end of it is counted at least.
runqlat 1 1 > /tmp/runqlat.out 2>&1
echo "runqlat status $?"
head -1 /tmp/runqlat.out
grep -c 'usecs *: count *distribution' /tmp/runqlat.out
awk '$2 == "->" && $4 == ":" { n += $5 } END { print (n > 0 ? "runqlat counted wakeups" : "runqlat counted none") }' /tmp/runqlat.out

# runqslower 1: every task's wait from wakeup to running; three sleeps are among them.
runqslower 1 > /tmp/runqslower.out 2>&1 &
attached $! 3
sleep 0.2; sleep 0.2; sleep 0.2
sleep 1
kill -INT %1; wait %1
head -2 /tmp/runqslower.out | tr -s ' '
awk '$2 == "sleep" && $3 > 0 && $4 >= 0 { n++ } END { print (n >= 3 ? "runqslower saw the sleeps run" : "runqslower saw " n " sleeps run") }' /tmp/runqslower.out

# cpudist: on-CPU time of tasks switched out while runnable, over one second.
cpudist 1 1 > /tmp/cpudist.out 2>&1
echo "cpudist status $?"
head -1 /tmp/cpudist.out
grep -c 'usecs *: count *distribution' /tmp/cpudist.out

# The tools have exited: no process holds a BPF object or a perf event.
echo "BPF and perf fds held: $(ls -l /proc/[0-9]*/fd 2>/dev/null | grep -c 'bpf-prog\|bpf_link\|bpf-map\|perf_event')"
