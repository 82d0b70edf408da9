# SPDX-License-Identifier: MIT
# userland/linux-tests/uprobe_checks (added with --add): uprobe and uretprobe programs through
# perf_event_open on the program's own file.
/bin/uprobe_checks
echo "status $?"
