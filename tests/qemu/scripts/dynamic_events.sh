# SPDX-License-Identifier: MIT
# tracefs's dynamic_events, as Linux 6.1's: kprobe and uprobe definitions together in the order
# they were made (whichever file made them), definitions and removals through it (a target
# PATH:OFFSET is a uprobe's), its errors (ENOENT, EINVAL, error_log), EBUSY for emptying it while
# a probe is enabled (the truncating open fails).
cd /sys/kernel/tracing
echo 'p:myprobe do_unlinkat dfd=%di' > kprobe_events
echo 'p:bb /bin/busybox:0x1000' > uprobe_events
echo 'r:myret do_unlinkat' >> kprobe_events
cat dynamic_events
echo '---'
echo 'p:dk do_mkdirat' >> dynamic_events
echo "add kprobe: $?"
echo 'p:du /bin/busybox:0x2000' >> dynamic_events
echo "add uprobe: $?"
echo 'r:mygrp/dr do_unlinkat $retval' >> dynamic_events
echo "add return probe: $?"
cat dynamic_events
echo '---'
cat kprobe_events
cat uprobe_events
ls events/mygrp
echo '---'
echo '-:du' >> dynamic_events
echo "remove du: $?"
echo '-:mygrp/dr' >> dynamic_events
echo "remove dr: $?"
echo '-:nosuch' >> dynamic_events 2> /dev/null
echo "remove nosuch: $?"
echo 'x:bad foo' >> dynamic_events 2> /dev/null
echo "bad: $?"
echo 'p:nosym no_such_function_xyz' >> dynamic_events 2> /dev/null
echo "no symbol: $?"
tail -3 error_log | sed -E 's/^\[ *[0-9]+\.[0-9]+\]/[TIME]/'
cat dynamic_events
echo 1 > events/kprobes/myprobe/enable
(echo > dynamic_events) 2> /dev/null
echo "emptied while enabled: $? ($(wc -l < dynamic_events) left)"
echo 0 > events/kprobes/myprobe/enable
echo > dynamic_events
echo "emptied: $? ($(cat dynamic_events kprobe_events uprobe_events | wc -l) left)"
