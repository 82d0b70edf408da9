# SPDX-License-Identifier: MIT
# A kprobe on a POSIX-server function through tracefs, as on Linux: define, enable, hit, read
# the trace; removal while enabled is EBUSY; /sys/kernel/debug/kprobes/list shows it. Timestamps
# and pids are masked.
grep -w do_unlinkat /proc/kallsyms | cut -c17-
cd /sys/kernel/tracing
echo 'p:myprobe do_unlinkat dfd=%di name=+0(+0(%si)):string' > kprobe_events
cat kprobe_events
cat events/kprobes/myprobe/format | head -3
# debugfs's kprobes/list: the defined event's kprobe, disabled, then armed (addresses masked).
list() { sed -E 's/^[0-9a-f]{16}  /ADDRESS  /' /sys/kernel/debug/kprobes/list; }
ls -1 /sys/kernel/debug/kprobes
cat /sys/kernel/debug/kprobes/enabled
list
echo 1 > events/kprobes/myprobe/enable
list
touch /tmp/victim
rm /tmp/victim
echo -:myprobe >> kprobe_events || echo "removal while enabled refused"
echo 0 > events/kprobes/myprobe/enable
touch /tmp/after
rm /tmp/after
grep myprobe trace | sed -E 's/-[0-9]+ +\[/-PID [/; s/ [0-9]+\.[0-9]+:/ TIME:/; s/\+0x0\/0x[0-9a-f]+/+0x0\/SIZE/'
cat kprobe_profile  # one hit while enabled (the unlink after it was disabled is not counted)
echo -:myprobe >> kprobe_events && echo removed
echo "profile lines left: $(wc -l < kprobe_profile)"
list
echo "list after removal: $?"
cat kprobe_events
# kprobes/blacklist lists the code kprobes refuse; a probe defined on its first function is
# refused (EINVAL) at once, as Linux registers a kprobe when it is defined.
first=$(head -1 /sys/kernel/debug/kprobes/blacklist | cut -f2)
echo "p:refused $first" >> kprobe_events 2> /dev/null || echo "a blacklisted function: refused"
echo "refused definitions kept: $(grep -c refused kprobe_events)"
# %ip is the registers' ip, which Linux's kprobe handlers see just past the int3 (ftrace-based
# kprobes set it so too): the probed function + 1.
echo 'p:ipcheck do_unlinkat ip=%ip' >> kprobe_events
echo 1 > events/kprobes/ipcheck/enable
touch /tmp/ipcheck_file
rm /tmp/ipcheck_file
echo 0 > events/kprobes/ipcheck/enable
ip=$(grep ipcheck: trace | tail -1 | sed -E 's/^.*ip=//')
function=0x$(grep ' do_unlinkat$' /proc/kallsyms | cut -d' ' -f1)
echo "ip - do_unlinkat: $((ip - function))"
echo -:ipcheck >> kprobe_events
# Inside a function a kprobe sits on an instruction boundary only (Linux decodes the function
# from its start): offset 1 is inside the first instruction on both (Sonde's entry NOP, Linux's
# endbr64 or its ftrace NOP), EILSEQ with its own text in error_log.
echo > error_log
echo 'p:middle do_unlinkat+1' >> kprobe_events 2> /dev/null || echo "inside an instruction: refused"
sed 's/^\[ *[0-9]*\.[0-9]*\]/[TIME]/' error_log
echo "refused definitions kept: $(grep -c middle kprobe_events)"
