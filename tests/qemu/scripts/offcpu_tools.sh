# SPDX-License-Identifier: MIT
# Debian's offcputime (libbpf-tools: sched_switch, stack ids) on a program blocked in a known
# call chain: the user stack of its one-second sleep, walked by frame pointers from the
# registers of its system call, as Linux 6.1 shows it (pids and times vary: masked). On Sonde
# the task_struct of a task waiting in a system call says where its call's registers are
# (servers/posix/kernel/task_struct.cpp). The kernel stack before it is Linux's own (ending at
# entry_SYSCALL_64_after_hwframe); Sonde has none there ([Missed Kernel Stack], GAP): neither
# is compared.
attached() {  # PID COUNT: until PID holds COUNT perf event or link fds (at most 60 s)
  n=0
  while [ "$(ls -l /proc/$1/fd 2>/dev/null | grep -c 'perf_event\|bpf_link')" -lt "$2" ] &&
    [ $n -lt 300 ]; do
    sleep 0.2
    n=$((n+1))
  done
  sleep 1
}

# MODE: "" (the first thread sleeps) or "thread" (a second thread sleeps while the first makes
# system calls all along: the sleeper's stack is its own, not the first thread's).
profile() {
  /bin/offcpu_chain $1 > /tmp/chain.out &
  chain=$!
  offcputime -p $chain > /tmp/offcpu.out 2> /dev/null &
  tool=$!
  attached $tool 1
  # Quiet while it sleeps: the kernel's sample rings hold 31 switches each (a busy burst could
  # drop the one that starts its sleep).
  kill -USR1 $chain
  # The one-second sleep, and time for its switch samples to be drained before the tool stops
  # (a CI run under load once stopped it before: no stack at all).
  sleep 4
  kill -INT $tool
  wait $tool
  kill $chain
  cat /tmp/chain.out
  # The stack that holds wait_outer from its user part on (after Linux's kernel part, which ends
  # at entry_SYSCALL_64_after_hwframe; Sonde has none: "[Missed Kernel Stack]" goes to stderr),
  # and its time in whole seconds (one second asleep). wait_inner does not show: the walk starts
  # in musl's sccp, which keeps no frame, so the first saved rbp is wait_inner's and its return
  # address is in wait_outer (so on Linux too). The thread's id is masked as the process's.
  awk 'BEGIN { first = 1 }
       function flush() { if (keep) { for (i = first; i <= n; i++) print line[i]; print "" }
                          n = 0; first = 1; keep = 0 }
       /^[[:space:]]*$/ { if (n > 0) flush(); next }
       { line[++n] = $0; if ($1 == "entry_SYSCALL_64_after_hwframe") first = n + 1
         if ($1 == "wait_outer") keep = 1 }
       END { flush() }' /tmp/offcpu.out |
    sed -E "s/\([0-9]+\)\$/(PID)/" |
    awk '$1 ~ /^[0-9]+$/ && NF == 1 { printf "    %d s\n", int($1 / 1000000 + 0.5); next } { print }'
}

profile
profile thread
