# SPDX-License-Identifier: MIT
# userland/libbpf/unlink_multi (added with --add): libbpf attaches a kprobe.multi/do_unlinkat
# program through a skeleton; it counts the unlinks and sees do_unlinkat's address. After it
# exits nothing is left armed: /sys/kernel/debug/kprobes/list is empty.
touch /tmp/file_one /tmp/file_two
/bin/unlink_multi /tmp/file_one /tmp/file_two /tmp/file_missing
echo "status $?"
cat /sys/kernel/debug/kprobes/list
echo "list: $?"
