# SPDX-License-Identifier: MIT
# userland/linux-tests/fault_signal_checks (added with --add): signals from page faults and
# exceptions to handlers, and the end of a process that does not take them.
/bin/fault_signal_checks
echo "status $?"
