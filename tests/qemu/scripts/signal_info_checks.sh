# SPDX-License-Identifier: MIT
# userland/linux-tests/signal_info_checks (added with --add): the siginfo a handler finds for
# signals sent by kill, tgkill, sigqueue, a child's change of state, a pipe and alarm.
/bin/signal_info_checks
echo "status $?"
