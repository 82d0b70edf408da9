# SPDX-License-Identifier: MIT
# tools/bench's comparison with Linux: the same script on Sonde and on Debian's Linux 6.1 in the
# same QEMU (tests/bench/posix/run_compare.py parses what it prints).
# 1. The POSIX costs (userland/linux-tests/posix_bench.c).
/bin/posix_bench
# 2. What a kprobe+kretprobe pair with a map counter on do_unlinkat adds to an unlink, then a
#    kprobe alone at the entry and inside the function (Linux: an int3; its optimizer, which
#    would turn the int3 into a jump, is off).
if [ -w /proc/sys/debug/kprobes-optimization ]; then
  echo 0 > /proc/sys/debug/kprobes-optimization
fi
/bin/kprobe_checks --bench 2000 | sed 's/^/kprobe_pair /'
# 3. What a uprobe with a map counter adds to a call of a function of the probed program.
if [ -x /bin/uprobe_checks ]; then
  /bin/uprobe_checks --bench 2000 | sed 's/^/uprobe_hit /'
fi
# 4. opensnoop's cost to a loop that opens a file: the loop alone, then with opensnoop attached
#    (attached once /proc shows its perf event and link fds; its output goes to a file).
if [ -x /usr/sbin/opensnoop ]; then
  /bin/posix_bench open_close | sed -n 's/^op open_close/opensnoop_off open_close/p'
  # TZ: without it glibc's localtime opens the missing /etc/localtime for every line opensnoop
  # prints, an open opensnoop then reports: a feedback loop (on Linux too) that would compete
  # with the loop for the CPU and measure nothing of the tracing cost.
  TZ=UTC0 /usr/sbin/opensnoop > /tmp/opensnoop.out 2>&1 &
  n=0
  while [ "$(ls -l /proc/$!/fd 2>/dev/null | grep -c 'perf_event\|bpf_link')" -lt 2 ] &&
    [ $n -lt 300 ]; do
    sleep 0.2
    n=$((n+1))
  done
  sleep 1
  /bin/posix_bench open_close | sed -n 's/^op open_close/opensnoop_on open_close/p'
  kill -INT $!
  wait $!
  echo "opensnoop_events $(grep -c posix_bench /tmp/opensnoop.out)"
fi
