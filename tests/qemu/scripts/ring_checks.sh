# SPDX-License-Identifier: MIT
# userland/linux-tests/ring_checks (added with --add): BPF ring buffers and perf rings mmapped
# and polled as libbpf does, records from PROG_TEST_RUN and from kprobes on do_unlinkat (a
# blocking poll woken by a child's unlink); then a ring mapped across a trace-server restart.
/bin/ring_checks --attach
echo "status $?"
/bin/ring_checks --restart
echo "status $?"
