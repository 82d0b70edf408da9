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
# A kprobe inside a function (an int3 whose instruction runs out of line): a crash in its hit
# leaves the thread stopped on the int3; the kernel takes the dead instance's probes away and
# the thread runs the original instruction, back in place: rm completes. The next instance
# takes probes inside functions again.
echo 0 > $T/events/kprobes/unl/enable
echo 'p:inside do_unlinkat+5' >> $T/kprobe_events
echo 1 > $T/events/kprobes/inside/enable
touch /tmp/three
echo crash-at-hit > /proc/sonde/trace-server
rm /tmp/three && echo "rm ran through a crash in a probe inside do_unlinkat"
head -1 /proc/sonde/trace-server
echo 'p:inside do_unlinkat+5' > $T/kprobe_events
echo 1 > $T/events/kprobes/inside/enable
touch /tmp/three
rm /tmp/three && echo "rm still works"
grep -c 'inside:' $T/trace
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
