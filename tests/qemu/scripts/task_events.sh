# SPDX-License-Identifier: MIT
# task:task_rename and exceptions:page_fault_user through tracefs, compared with Linux 6.1: their
# ids and format files; the renames of a busybox `sh -c` running cat (the exec of /proc/self/exe
# names the task "exe", each applet renames itself with prctl); a program's page faults with an
# error-code filter (irqs off: flags "d"). Tasks, CPUs, times and addresses are masked (Linux
# shows a pid's latest comm in every line, Sonde the comm at the event).
cd /sys/kernel/tracing
cat events/task/task_rename/id events/exceptions/page_fault_user/id
grep -v '^ID:' events/task/task_rename/format
grep -v '^ID:' events/exceptions/page_fault_user/format
normalise() {
  grep -v '^#' trace | sed -E 's/^ *[^ ]+-[0-9]+ +\[[0-9]+\]/TASK [CPU]/; s/ [0-9]+\.[0-9]+:/ TIME:/;
    s/pid=[0-9]+/pid=PID/g; s/address=0x[0-9a-f]+ ip=0x[0-9a-f]+/address=ADDR ip=IP/'
}
echo 1 > events/task/task_rename/enable
sh -c 'cat /proc/version > /dev/null'
echo 0 > events/task/task_rename/enable
normalise
echo > trace
echo 'error_code & 2' > events/exceptions/page_fault_user/filter
echo 1 > events/exceptions/page_fault_user/enable
cat /proc/version > /dev/null
echo 0 > events/exceptions/page_fault_user/enable
echo 0 > events/exceptions/page_fault_user/filter
cat events/exceptions/page_fault_user/filter
normalise | awk '{ print $1, $2, $3, $5, ($8 ~ /^error_code=0x[0-9a-f]*[2367abef]$/ ? "write" : $8) }' | sort -u
