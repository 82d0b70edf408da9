# SPDX-License-Identifier: MIT
# Debian's perf probe (linux-perf 6.1, added with --add) on the POSIX server's do_unlinkat,
# compared with Linux 6.1: it writes `p:probe/do_unlinkat _text+OFFSET` (from /proc/kallsyms)
# to kprobe_events; perf stat and perf record then open the new events by their tracefs ids
# (PERF_TYPE_TRACEPOINT); an event a perf event holds cannot be deleted (EBUSY). Then perf probe
# -x on libc (getent, added too).
perf probe -q -a do_unlinkat; echo "probe: $?"
perf probe -q -a 'do_unlinkat%return'; echo "return probe: $?"
perf probe -l 2>/dev/null | awk '{ print $1, $2, $3 }'
touch /tmp/a /tmp/b
perf stat -e probe:do_unlinkat -e probe:do_unlinkat__return -- rm /tmp/a /tmp/b 2>&1 > /dev/null |
  grep probe: | awk '{ print $1, $2 }'
touch /tmp/a
perf record -e probe:do_unlinkat -o /tmp/probe.data -- sh -c \
  "rm /tmp/a; echo '-:probe/do_unlinkat' >> /sys/kernel/tracing/kprobe_events; echo \"busy: \$?\"" \
  2> /dev/null
echo "record: $?"
perf script -i /tmp/probe.data -F comm,event 2> /dev/null | sed -E 's/ +/ /g'
echo '-:probe/do_unlinkat__return' >> /sys/kernel/tracing/kprobe_events
echo "deleted one: $?"
perf probe -q -d 'probe:*'; echo "deleted: $?"
cat /sys/kernel/tracing/kprobe_events
# perf probe -x: a uprobe event on a library's function (uprobe_events, at its file offset),
# which perf stat and perf record open by its tracefs id as they open a kprobe event's: the exit
# of a dynamic program that calls libc's exit once.
perf probe -q -x /lib/x86_64-linux-gnu/libc.so.6 -a exit; echo "uprobe: $?"
perf probe -l 2>/dev/null | awk '{ print $1 }'
perf stat -e probe_libc:exit -- /usr/bin/getent passwd nobody-here 2>&1 > /dev/null |
  grep probe_ | awk '{ print $1, $2 }'
perf record -e probe_libc:exit -o /tmp/uprobe.data -- /usr/bin/getent passwd nobody-here \
  > /dev/null 2>&1
perf script -i /tmp/uprobe.data -F comm,event 2> /dev/null | sed -E 's/ +/ /g'
perf probe -q -d 'probe_libc:*'; echo "deleted uprobe: $?"
cat /sys/kernel/tracing/uprobe_events
