# SPDX-License-Identifier: MIT
# Crash isolation: 100 trace-server deaths, each with a kprobe armed on the function a running
# shell loop hits (each pass opens and writes a file: shell builtins only), one inside it (its
# instruction stepped out of line: a thread may be on its way through the slot when the server
# dies) and a return probe on vfs_write. Every other one is a crash inside a probe hit (the trace server faults while a
# POSIX thread waits on its breakpoint: the kernel lets that thread run on, the root task
# restarts the server), the rest restarts on request (the request runs inside vfs_write, whose
# probed return must still reach its caller). The loop never notices, the probe works again on
# the last instance, bpf() works there, and fds of a dead instance are stale.
/bin/bpf_checks --restart
echo "status $?"
T=/sys/kernel/tracing
(n=0; while [ ! -e /tmp/stop ]; do n=$((n+1)); echo $n > /tmp/count; done) &
i=0
while [ $i -lt 100 ]; do
  echo 'p:loop do_sys_openat2' > $T/kprobe_events || break
  echo 'r:wret vfs_write' >> $T/kprobe_events || break
  echo 'p:inner do_sys_openat2+5' >> $T/kprobe_events || break
  echo 1 > $T/events/kprobes/enable || break
  if [ $((i % 2)) -eq 0 ]; then
    echo crash-at-hit > /proc/sonde/trace-server || break
  else
    echo restart > /proc/sonde/trace-server || break
  fi
  i=$((i+1))
done
echo "deaths: $i"
cat $T/kprobe_events
echo 'p:loop do_sys_openat2' > $T/kprobe_events
echo 1 > $T/events/kprobes/loop/enable
: > /tmp/stop
wait
echo 0 > $T/events/kprobes/loop/enable
[ "$(cat /tmp/count)" -gt 0 ] && echo "the loop ran on"
grep -c 'loop: (do_sys_openat2' $T/trace | sed 's/^[1-9][0-9]*$/hits after the restarts/'
cat /proc/sonde/trace-server
/bin/bpf_checks | tail -1
