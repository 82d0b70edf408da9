# SPDX-License-Identifier: MIT
# Debian's libbpf-tools, unmodified (dynamically linked, added with --add with their loader
# and libraries): each attaches, a workload runs, and the events it must show are checked
# (pids and times vary, so the lines are filtered). Their output goes to files, fully buffered
# until they exit, so a tool counts as attached once /proc shows its perf event and link fds.
attached() {  # PID COUNT: until PID holds COUNT such fds (at most 60 s), then a moment
  n=0
  while [ "$(ls -l /proc/$1/fd 2>/dev/null | grep -c 'perf_event\|bpf_link')" -lt "$2" ] &&
    [ $n -lt 300 ]; do
    sleep 0.2
    n=$((n+1))
  done
  sleep 1
}

# opensnoop (tracepoints syscalls:sys_{enter,exit}_openat, a BPF ring buffer read through mmap
# and epoll): the file cat opens, its fd and no error.
opensnoop > /tmp/opensnoop.out 2>&1 &
attached $! 2
cat /etc/passwd > /dev/null
cat /no/such/file 2> /dev/null
sleep 2
kill -INT $!; wait $!
head -1 /tmp/opensnoop.out | tr -s ' '
grep -E ' cat +3 +0 /etc/passwd$' /tmp/opensnoop.out | sed -E 's/^[0-9]+ +/PID /' | tr -s ' '
grep -E ' cat +-1 +2 /no/such/file$' /tmp/opensnoop.out | sed -E 's/^[0-9]+ +/PID /' | tr -s ' '

# funclatency (a kprobe and a kretprobe on a POSIX-server function): three calls timed.
funclatency do_unlinkat > /tmp/funclatency.out 2>&1 &
attached $! 2
touch /tmp/a /tmp/b /tmp/c
rm /tmp/a /tmp/b /tmp/c
sleep 1
kill -INT $!; wait $!
head -1 /tmp/funclatency.out
awk -F: '/->/ { split($2, c, " "); n += c[1] } END { print "calls timed: " n }' /tmp/funclatency.out

# syscount (raw_syscalls:sys_enter/sys_exit, hash maps read at the end): the calls counted.
# (Its -d option needs alarm(), which the POSIX server does not have yet: ^C ends it here.)
syscount > /tmp/syscount.out 2>&1 &
attached $! 2
ls / > /dev/null
kill -INT $!; wait $!
head -1 /tmp/syscount.out
awk '/^SYSCALL/ { t = 1; next } t && NF == 2 && $2 > 0 { n++ } END { print (n >= 3 ? "3 or more system calls counted" : "counted: " n) }' /tmp/syscount.out

# killsnoop (syscalls:sys_{enter,exit}_kill): the signal the shell sends and its result.
killsnoop > /tmp/killsnoop.out 2>&1 &
attached $! 2
sleep 30 &
kill -USR1 $!
sleep 1
kill -INT %1; wait %1
head -1 /tmp/killsnoop.out | tr -s ' '
awk '$3 == "sh" && $4 == 10 { print "sh sent signal 10, result " $6 }' /tmp/killsnoop.out

# Every tool has exited: what they attached went with them (issue 13): no kprobe is
# registered, no process holds a BPF program, link or perf event.
echo "kprobes registered: $(wc -l < /sys/kernel/debug/kprobes/list)"
echo "BPF and perf fds held: $(ls -l /proc/[0-9]*/fd 2>/dev/null | grep -c 'bpf-prog\|bpf_link\|bpf-map\|perf_event')"
