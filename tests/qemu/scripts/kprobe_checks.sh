# SPDX-License-Identifier: MIT
# userland/linux-tests/kprobe_checks (added with --add): kprobe programs through perf_event_open.
/bin/kprobe_checks
echo "status $?"
