# SPDX-License-Identifier: MIT
# userland/linux-tests/async_signal_checks against musl and glibc (added with --add): signals
# for threads that make no system call, on Sonde.
/bin/async_signal_checks
echo "status $?"
/bin/async_signal_checks_glibc
echo "status $?"
