# SPDX-License-Identifier: MIT
# userland/linux-tests/bpf_checks (added with --add): bpf(2) through the trace server.
/bin/bpf_checks
echo "status $?"
