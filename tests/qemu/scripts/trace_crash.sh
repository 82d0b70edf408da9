# SPDX-License-Identifier: MIT
# Crash drills: the trace server faults inside a kprobe hit (rm still runs through and
# removes its file) and on request; the root task restarts it each time and probes work again.
T=/sys/kernel/tracing
echo 'p:unl do_unlinkat' > $T/kprobe_events
echo 1 > $T/events/kprobes/unl/enable
touch /tmp/one /tmp/two
echo crash-at-hit > /proc/sonde/trace-server
rm /tmp/one && echo "rm ran through the crash"
ls /tmp
cat /proc/sonde/trace-server
echo crash > /proc/sonde/trace-server && echo "crashed on request"
cat /proc/sonde/trace-server
cat $T/kprobe_events
echo 'p:unl do_unlinkat' > $T/kprobe_events
echo 1 > $T/events/kprobes/unl/enable
rm /tmp/two
grep -c 'unl:' $T/trace
echo nonsense > /proc/sonde/trace-server || echo "an unknown command is refused"
head -1 /proc/sonde/trace-server
# A kprobe inside a function is refused at definition (Sonde probes function entries only, a
# GAP against Linux): armed there, a hit would resume past real instructions and break the
# POSIX server. So is the same probe point through the kprobe PMU (kprobe_checks' offsets).
echo 'p:inside do_unlinkat+5' >> $T/kprobe_events 2> /dev/null || echo "a kprobe inside a function: refused"
grep -c inside $T/kprobe_events
touch /tmp/three
rm /tmp/three && echo "rm still works"
# A crash inside a return probe's call: the POSIX thread waits in the return trampoline's call
# to the trace server when it dies; the call ends, the function returns to its real caller and
# rm completes. The next instance runs return probes again.
echo 'r:unlr do_unlinkat ret=$retval' >> $T/kprobe_events
echo 1 > $T/events/kprobes/unlr/enable
touch /tmp/four
echo crash-at-return > /proc/sonde/trace-server
rm /tmp/four && echo "rm returned through a crash in its return probe"
ls /tmp
cat /proc/sonde/trace-server
echo 'r:unlr do_unlinkat ret=$retval' >> $T/kprobe_events
echo 1 > $T/events/kprobes/unlr/enable
touch /tmp/five
rm /tmp/five
grep -c 'unlr: (.*ret=0x0' $T/trace
