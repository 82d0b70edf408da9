# SPDX-License-Identifier: MIT
# Debian's gethostlatency, unmodified: uprobes and uretprobes on getaddrinfo, gethostbyname and
# gethostbyname2 in the C library that a dynamic program (Debian's getent, with its loader and
# libc.so.6) maps; each lookup shows with the program's name and the host asked for. Lookups
# are answered from /etc/hosts.
attached() {  # PID COUNT: until PID holds COUNT such fds (at most 60 s), then a moment
  n=0
  while [ "$(ls -l /proc/$1/fd 2>/dev/null | grep -c 'perf_event\|bpf_link')" -lt "$2" ] &&
    [ $n -lt 300 ]; do
    sleep 0.2
    n=$((n+1))
  done
  sleep 1
}

echo "127.0.0.1 localhost" > /etc/hosts
gethostlatency > /tmp/gethostlatency.out 2>&1 &
attached $! 6
getent hosts localhost
getent ahosts localhost | head -1
sleep 1
kill -INT %1; wait %1
head -1 /tmp/gethostlatency.out | tr -s ' '
awk 'NR > 1 { print $3 " looked up " $5 (($4 + 0) > 0 ? " (a latency)" : " (no latency)") }' /tmp/gethostlatency.out
echo "BPF and perf fds held: $(ls -l /proc/[0-9]*/fd 2>/dev/null | grep -c 'bpf-prog\|bpf_link\|bpf-map\|perf_event')"
