# SPDX-License-Identifier: MIT
# tools/bench: the trace server's restart time (issue 11): 1,000 restarts on request (each
# write returns once the root task has started the new instance and the POSIX server has
# reconnected), then a kprobe event on the last instance is defined, enabled and hit.
T=/sys/kernel/tracing
n=${RESTARTS:-1000}
start=$(cut -d' ' -f1 /proc/uptime)
i=0
while [ $i -lt $n ]; do
  echo restart > /proc/sonde/trace-server || break
  i=$((i+1))
done
end=$(cut -d' ' -f1 /proc/uptime)
echo "restarts: $i"
awk -v s="$start" -v e="$end" -v n="$i" \
  'BEGIN { printf "trace-server restart: %.1f ms each (%d in %.2f s, QEMU TCG)\n", (e - s) * 1000 / n, n, e - s }'
cat /proc/sonde/trace-server
echo 'p:loop do_sys_openat2' > $T/kprobe_events
echo 1 > $T/events/kprobes/loop/enable
cat /etc/passwd > /dev/null
echo "hits on the last instance: $(grep -c 'loop:' $T/trace)"
