# SPDX-License-Identifier: MIT
# userland/linux-tests/posix_checks (added with --add): Linux behaviour, checked from musl.
/bin/posix_checks
echo "status $?"
