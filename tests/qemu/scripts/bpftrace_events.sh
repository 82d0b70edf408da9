# SPDX-License-Identifier: MIT
# Debian's bpftrace on software events and load averages (trace:
# bpftrace_lib.sh): what the counts are varies, what is compared does not.
. /bin/bpftrace_lib.sh
# software:page-faults: the event's program runs at each fault of the period (counts vary).
trace 'software:page-faults:1 /comm == "cat"/ { @[comm] = count(); }' 'cat /proc/version > /dev/null' |
  sed -E 's/: [0-9]+$/: N/'
# software:context-switches: the program runs at the switches of the task leaving (the
# microkernel's sched_switch; counts vary).
trace 'software:context-switches:1 /comm == "sleep"/ { @[comm] = count(); }' 'sleep 1' |
  sed -E 's/: [0-9]+$/: N/'
# Load averages: the POSIX server keeps Linux's avenrun (kallsyms lists it at its kernel alias,
# loads.bt reads it through kaddr) and /proc/loadavg shows it; a busy shell moves the 1-minute
# average at the next 5-second step.
trace 'interval:s:8 { $a = kaddr("avenrun"); printf("avenrun[0] above 0: %d\n", *$a > 0); exit(); }' 'end=$(($(date +%s)+7)); while [ $(date +%s) -lt $end ]; do :; done; awk "{ print \"loadavg load1 above 0: \" (\$1 > 0) }" /proc/loadavg'
sed -E 's/^[0-9]+\.[0-9]{2} [0-9]+\.[0-9]{2} [0-9]+\.[0-9]{2} [0-9]+\/[0-9]+ [0-9]+$/loadavg: Linux format/' /proc/loadavg
