# SPDX-License-Identifier: MIT
# tracefs's trace_clock, as Linux 6.1's: the clocks with the current one in brackets (global, as
# Debian starts), a choice with white space around it, the buffer emptied by any choice (the
# same one too), EINVAL for a name that is no clock. (Sonde refuses counter, uptime, tai and
# x86-tsc, which Linux accepts: docs/TRACE.md; not shown here.)
cd /sys/kernel/tracing
cat trace_clock
echo hello > trace_marker
echo global > trace_clock
echo "global: $?"
cat trace_clock
echo "lines left: $(grep -c tracing_mark trace)"
echo nosuch > trace_clock 2> /dev/null
echo "nosuch: $?"
echo ' mono ' > trace_clock
echo "spaces: $?"
cat trace_clock
printf 'boot' > trace_clock
echo "no newline: $?"
cat trace_clock
echo hello again > trace_marker
echo "lines with boot: $(grep -c tracing_mark trace)"
echo local > trace_clock
cat trace_clock
