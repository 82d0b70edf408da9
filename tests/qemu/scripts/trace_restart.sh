# SPDX-License-Identifier: MIT
# Trace-server restarts (crash isolation): 100 restarts while a shell loop keeps running (shell
# builtins only: each pass opens and writes a file); bpf() works after them; fds of a dead
# instance are stale (bpf_checks --restart).
/bin/bpf_checks --restart
echo "status $?"
(n=0; while [ ! -e /tmp/stop ]; do n=$((n+1)); echo $n > /tmp/count; done) &
i=0
while [ $i -lt 100 ]; do
  echo restart > /proc/sonde/trace-server || break
  i=$((i+1))
done
echo "restarts: $i"
: > /tmp/stop
wait
[ "$(cat /tmp/count)" -gt 0 ] && echo "the loop ran on"
head -1 /proc/sonde/trace-server
/bin/bpf_checks | tail -1
