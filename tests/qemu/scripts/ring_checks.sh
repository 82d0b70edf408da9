# SPDX-License-Identifier: MIT
# userland/linux-tests/ring_checks (added with --add): BPF ring buffers and perf rings mmapped
# and polled as libbpf does, records from PROG_TEST_RUN and from kprobes on do_unlinkat (a
# blocking poll, epoll_wait and perf poll woken by a child's unlink, a reader blocked in epoll_wait
# not polled for each call another process makes); then a ring mapped across a trace-server
# restart, which wakes a reader blocked on a ring.
/bin/ring_checks --attach
echo "status $?"
/bin/ring_checks --restart
echo "status $?"
