# SPDX-License-Identifier: MIT
# uprobe and uretprobe events through tracefs with busybox only, as Linux's
# Documentation/trace/uprobetracer: definitions, enable, the trace lines with fetched
# registers, hits in a second thread (its tid in comm-TID), errors for a missing file. The
# probed function's offset comes from the program (its own ELF headers); addresses in the
# lines vary with the build and are shown as ADDR.
cd /sys/kernel/tracing
offset=$(/bin/uprobe_checks offset)
echo "p:add /bin/uprobe_checks:$offset a=%di:s64 b=%si:u64" > uprobe_events
echo "r:addret /bin/uprobe_checks:$offset ret=%ax:s64" >> uprobe_events
sed "s/:0x[0-9a-f]*/:OFFSET/" uprobe_events
ls events/uprobes
echo 1 > events/uprobes/enable
/bin/uprobe_checks call 5 -7
echo 0 > events/uprobes/enable
grep -v '^#' trace | sed 's/^ *//; s/ \[00[0-9]\] [^ ]* */ /; s/[0-9]*\.[0-9]*: //; s/0x[0-9a-f]*/ADDR/g; s/-[0-9]* / /'
echo > trace
# Hits in a thread other than the leader: their lines' comm-TID has the thread's tid (the
# uprobes' and that of the thread's gettid system call).
echo 1 > events/uprobes/enable
echo 1 > events/syscalls/sys_enter_gettid/enable
tid=$(/bin/uprobe_checks threadcall 9)
echo 0 > events/syscalls/sys_enter_gettid/enable
echo 0 > events/uprobes/enable
echo "lines of thread: $(grep -c "uprobe_checks-$tid " trace)"
grep -v '^#' trace | sed 's/^ *//; s/ \[00[0-9]\] [^ ]* */ /; s/[0-9]*\.[0-9]*: //; s/0x[0-9a-f]*/ADDR/g; s/-[0-9]*  */ /'
echo > trace
cat uprobe_profile  # hits while enabled: the call and the thread's call, each entry and return
echo 'p:gone /no/such/file:0x10' >> uprobe_events
echo "missing file: $?"
echo 'p:dir /tmp:0x10' >> uprobe_events
echo "directory: $?"
echo '-:add' >> uprobe_events
echo '-:addret' >> uprobe_events
cat uprobe_events
echo "left: $(wc -l < uprobe_events)"
