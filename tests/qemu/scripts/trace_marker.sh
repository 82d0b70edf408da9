# SPDX-License-Identifier: MIT
# tracefs's trace_marker, as Linux 6.1's: a line per write ("tracing_mark_write: TEXT", the
# writer's task, the text's last newline the line's own), nothing for an empty write, at most
# 1024 bytes a write (the writer writes the rest as the next line), EBADF while tracing is off;
# reading it is EINVAL. Pids and times vary: masked.
cd /sys/kernel/tracing
echo > trace
echo hello marker > trace_marker
echo "newline: $?"
printf 'no newline' > trace_marker
echo "no newline: $?"
printf 'two\nlines\n' > trace_marker
echo "two lines: $?"
printf '' > trace_marker
echo "empty: $?"
cat trace_marker 2> /dev/null
echo "read: $?"
echo 0 > tracing_on
echo off > trace_marker 2> /dev/null
echo "tracing off: $?"
echo 1 > tracing_on
dd if=/dev/zero bs=2000 count=1 2> /dev/null | tr '\0' 'a' > trace_marker
echo "2000 bytes: $?"
grep -v '^#' trace | sed -E 's/^ *[^ ]+-[0-9]+ +\[[0-9]+\] ([^ ]+) +[0-9]+\.[0-9]+: /TASK [CPU] \1 TIME: /' |
  awk 'length($0) > 100 { print substr($0, 1, 60) "... (" length($0) " bytes)"; next } { print }'
