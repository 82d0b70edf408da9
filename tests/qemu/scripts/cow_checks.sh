# SPDX-License-Identifier: MIT
# userland/linux-tests/cow_checks against musl and glibc (added with --add): fork's
# copy-on-write on Sonde.
/bin/cow_checks
echo "status $?"
/bin/cow_checks_glibc
echo "status $?"
