# SPDX-License-Identifier: MIT
# userland/linux-tests/orphan_checks against musl and glibc (added with --add): orphaned process
# groups (job control), on Sonde.
/bin/orphan_checks
echo "status $?"
/bin/orphan_checks_glibc
echo "status $?"
