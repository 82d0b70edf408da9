# SPDX-License-Identifier: MIT
# Debian's sigsnoop, execsnoop and exitsnoop, unmodified (see libbpf_tools.sh for how the tools
# are run and when they count as attached). sigsnoop -k traces kill/tkill/tgkill through the
# syscalls tracepoints, plain sigsnoop signal:signal_generate; execsnoop the syscalls:
# sys_{enter,exit}_execve tracepoints (its argument loop over a read-only bound, its hundreds
# of line_info records); exitsnoop sched:sched_process_exit with the task's exit code.
attached() {  # PID COUNT: until PID holds COUNT such fds (at most 60 s), then a moment
  n=0
  while [ "$(ls -l /proc/$1/fd 2>/dev/null | grep -c 'perf_event\|bpf_link')" -lt "$2" ] &&
    [ $n -lt 300 ]; do
    sleep 0.2
    n=$((n+1))
  done
  sleep 1
}

# sigsnoop -k: the signals the shell sends, to a live process (result 0) and to one that is
# gone (-3, ESRCH).
sigsnoop -k > /tmp/sigsnoop.out 2>&1 &
attached $! 6
sleep 30 &
victim=$!
kill -USR1 $victim
wait $victim
kill -TERM $victim 2> /dev/null
sleep 1  # the tool prints the last event before it is stopped (CI once lost it)
kill -INT %1; wait %1
head -1 /tmp/sigsnoop.out | tr -s ' '
awk -v v=$victim '$3 == "sh" && $5 == v && $4 == 10 { print "sh sent signal 10 to the sleeper, result " $6 }
  $3 == "sh" && $5 == v && $4 == 15 { print "sh sent signal 15 to the dead sleeper, result " $6 }' /tmp/sigsnoop.out

# sigsnoop (signal:signal_generate): the same signal, seen where it is generated; the
# sleeper's SIGCHLD to the shell too.
sigsnoop > /tmp/sigsnoop.out 2>&1 &
attached $! 2
sleep 30 &
victim=$!
sleep 1
kill -USR1 $victim
wait $victim
sleep 1
kill -INT %1; wait %1
head -1 /tmp/sigsnoop.out | tr -s ' '
awk -v v=$victim '$3 == "sh" && $5 == v && $4 == 10 { print "sh generated signal 10 for the sleeper, result " $6 }
  $2 == v && $4 == 17 { print "the sleeper generated signal 17 for its parent, result " $6; exit }' /tmp/sigsnoop.out

# execsnoop: two programs and their arguments, the exec of a script's interpreter.
execsnoop > /tmp/execsnoop.out 2>&1 &
attached $! 4
/bin/true
sh -c '/bin/echo hi there' > /dev/null
sleep 1
kill -INT %1; wait %1
head -1 /tmp/execsnoop.out | tr -s ' '
awk '$1 == "true" || $1 == "echo" { $2 = "PID"; $3 = "PPID"; print }' /tmp/execsnoop.out

# exitsnoop: an exit, a death by signal and an exit code (the `sh -c 'exit 3'`: a subshell of
# attached()'s last poll may end, with grep's 1, after exitsnoop attached).
exitsnoop > /tmp/exitsnoop.out 2>&1 &
attached $! 2
/bin/true
sleep 30 &
victim=$!
sleep 1
kill -USR1 $victim
wait $victim
sh -c 'exit 3'
sleep 1
kill -INT %1; wait %1
head -1 /tmp/exitsnoop.out | tr -s ' '
awk -v v=$victim '$1 == "true" { print "true exited: " $6 }
  $2 == v { $1 = $2 = $3 = $4 = $5 = ""; sub(/^ +/, ""); print "the sleeper: " $0 }
  $1 == "sh" && $6 == "code" && $7 == 3 { print "sh -c: code " $7 }' /tmp/exitsnoop.out
