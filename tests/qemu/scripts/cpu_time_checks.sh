# SPDX-License-Identifier: MIT
# userland/linux-tests/cpu_time_checks (added with --add): getrusage, times, wait4's rusage,
# the CPU-time clocks and /proc/self/stat's times.
/bin/cpu_time_checks
echo "status $?"
