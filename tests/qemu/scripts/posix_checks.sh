# SPDX-License-Identifier: MIT
# userland/linux-tests/posix_checks and its glibc build (added with --add): Linux behaviour, checked from musl.
/bin/posix_checks
echo "status $?"
/bin/posix_checks_glibc
echo "status $?"
