# SPDX-License-Identifier: MIT
# userland/linux-tests/epoll_checks (added with --add): epoll as Linux does it, on Sonde.
/bin/epoll_checks
echo "status $?"
