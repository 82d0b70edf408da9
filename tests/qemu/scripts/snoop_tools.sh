# SPDX-License-Identifier: MIT
# Debian's sigsnoop, unmodified (see libbpf_tools.sh for how the tools are run and when they
# count as attached). With -k it traces kill/tkill/tgkill through the syscalls tracepoints:
# the signals the shell sends, to a live process (result 0) and to one that is gone (-3, ESRCH).
# (sigsnoop without -k needs signal:signal_generate, execsnoop and mountsnoop are refused by
# the verifier, exitsnoop needs sched:sched_process_exit: docs/TOOLS.md.)
attached() {  # PID COUNT: until PID holds COUNT such fds (at most 60 s), then a moment
  n=0
  while [ "$(ls -l /proc/$1/fd 2>/dev/null | grep -c 'perf_event\|bpf_link')" -lt "$2" ] &&
    [ $n -lt 300 ]; do
    sleep 0.2
    n=$((n+1))
  done
  sleep 1
}

sigsnoop -k > /tmp/sigsnoop.out 2>&1 &
attached $! 6
sleep 30 &
victim=$!
kill -USR1 $victim
wait $victim
kill -TERM $victim 2> /dev/null
kill -INT %1; wait %1
head -1 /tmp/sigsnoop.out | tr -s ' '
awk -v v=$victim '$3 == "sh" && $5 == v && $4 == 10 { print "sh sent signal 10 to the sleeper, result " $6 }
  $3 == "sh" && $5 == v && $4 == 15 { print "sh sent signal 15 to the dead sleeper, result " $6 }' /tmp/sigsnoop.out
