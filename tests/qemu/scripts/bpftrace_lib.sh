# SPDX-License-Identifier: MIT
# trace PROGRAM WORKLOAD, for the bpftrace scripts: runs Debian's bpftrace on PROGRAM in the
# background, runs WORKLOAD once it is attached, stops it with SIGINT (bpftrace then prints its
# maps) and prints its output after a "== PROGRAM" line. bpftrace prints "Attaching" before its
# probes are attached: the workload waits 2 s more. The shell spins until bpftrace has exited
# (an idle Linux guest can take minutes to end the RCU grace period bpftrace's exit waits for).
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
