# SPDX-License-Identifier: MIT
# tracefs through the POSIX server and the trace server: the files Linux tools read and write.
cd /sys/kernel/tracing
ls
ls events events/bpf_trace
cat events/enable events/syscalls/enable
cat tracing_on current_tracer
grep mkdir available_events
cat events/syscalls/sys_enter_mkdirat/format
cat events/syscalls/sys_enter_mkdirat/id
# cwd inside tracefs
cd events/syscalls
pwd
ls sys_enter_mkdirat
cat sys_enter_mkdirat/enable
cd ../..
# the trace buffer's size
cat buffer_size_kb
echo 4 > buffer_size_kb
cat buffer_size_kb buffer_total_size_kb
echo 0 > buffer_size_kb
echo "status $?"
cat buffer_size_kb
# the trace file: its header, then no entries
cat trace
# set_event: append, then clear with a truncating write
cat set_event
echo 'syscalls:sys_enter_mkdirat' >> set_event
cat set_event
cat events/syscalls/sys_enter_mkdirat/enable
echo > set_event
cat set_event
cat events/syscalls/sys_enter_mkdirat/enable
# tracing_on, through the debugfs path too
echo 0 > /sys/kernel/debug/tracing/tracing_on
cat tracing_on
echo 1 > tracing_on
# kprobe_events: a missing symbol (ENOENT) and a syntax error (EINVAL), shown in error_log
echo 'p:badprobe no_such_function_xyz' >> kprobe_events
echo "status $?"
echo 'p:bad do_unlinkat %zz' >> kprobe_events
echo "status $?"
cat kprobe_events
sed 's/^\[ *[0-9]*\.[0-9]*\]/[TIME]/' error_log
echo > error_log
cat error_log
# tracefs makes no files and removes none
echo hi > no_such_file
echo "status $?"
rm trace
echo "status $?"
cat no_such_file
echo "status $?"
