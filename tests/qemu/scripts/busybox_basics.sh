# SPDX-License-Identifier: MIT
# Busybox basics through tools/run --script: echo, ls, cat, pipes, redirections, exit status.
echo hello from the script
# / without /boot: Sonde makes /boot/config-6.1.0 (libbpf reads /boot/config-$(uname -r), as
# on an installed Debian), which the initramfs of tools/run --linux does not have.
ls / | grep -vc '^boot$'
ls -d /bin /etc /tmp | cat
cat /etc/group
echo one two three | wc -w
printf 'b\na\nc\n' | sort | tr a-z A-Z
echo written > /tmp/file
cat /tmp/file
echo appended >> /tmp/file
wc -l < /tmp/file
mkdir -p /tmp/d/e && cd /tmp/d/e && pwd && cd /
rm /tmp/file && ls /tmp/file 2>&1 | sed 's/^ls: //'
sh -c 'exit 3'
echo "status $?"
for i in 1 2 3; do printf '%s ' "$i"; done; echo
sleep 1
(sleep 1; echo background job done) &
wait
echo after wait
# Named pipes, a directory emptied while it is read, /proc/stat and mountinfo, free space that
# follows the files written and removed.
mkfifo /tmp/fifo && (echo via-fifo > /tmp/fifo &) && cat /tmp/fifo
(exec 3<>/tmp/fifo; readlink /proc/self/fd/3); rm /tmp/fifo
mkdir /tmp/many; i=0; while [ $i -lt 300 ]; do : > /tmp/many/f$i; i=$((i+1)); done
rm -r /tmp/many && echo "removed 300"
grep -c '^cpu ' /proc/stat
grep -c ' - proc proc ' /proc/self/mountinfo
(cd /tmp && readlink /proc/self/cwd && readlink /proc/self/root)
mkdir /tmp/y && mount -t tmpfs none /tmp/y && echo mounted; rmdir /tmp/y 2>&1
umount /tmp/y && echo unmounted; rmdir /tmp/y && echo "mount point gone"
mkdir /tmp/x; (cd /tmp/x && rmdir /tmp/x && ls . && echo "listed a removed directory")
a=$(stat -f -c %f /); dd if=/dev/zero of=/big bs=1M count=8 2>/dev/null; b=$(stat -f -c %f /)
[ $((a - b)) -ge 2000 ] && echo "statfs counts the file"
rm /big; c=$(stat -f -c %f /); [ $((c - b)) -ge 2000 ] && echo "and gives it back"
# The release to major.minor: Debian's kernel says 6.1.0-57-amd64 (its package's ABI name,
# which changes with each Debian update), Sonde says 6.1.0; both are Linux 6.1.
uname -srm | sed -E 's/ ([0-9]+\.[0-9]+)[^ ]* / \1 /'
(sleep 2; echo late) | (read -t 1 x; echo "read status $?")
exit 5
