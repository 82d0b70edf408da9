# SPDX-License-Identifier: MIT
# userland/linux-tests/thread_checks against musl and glibc (added with --add): pthreads on Sonde.
/bin/thread_checks
echo "status $?"
/bin/thread_checks_glibc
echo "status $?"
