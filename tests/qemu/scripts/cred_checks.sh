# SPDX-License-Identifier: MIT
# userland/linux-tests/cred_checks (added with --add): user and group ids, their system calls
# and what they allow (file permissions, kill, bpf, perf_event_open, set-user-ID execve), as
# root's children that drop to uid 1000, on Sonde.
/bin/cred_checks
echo "status $?"
