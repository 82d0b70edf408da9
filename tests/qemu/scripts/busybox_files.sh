# SPDX-License-Identifier: MIT
# Files and errors through busybox: create, copy, move, link, remove, and Linux's messages;
# /proc, and the file systems /init mounted.
cd /tmp
mkdir work && cd work
echo alpha > a
cp a b
mv b c
ln -s c link
ln a hard
readlink link
cat link hard
ls -1
wc -c < c
rm a hard
ls -1 | tr '\n' ' '; echo
rmdir /tmp/work 2>&1
cat /nonexistent 2>&1
(cd /tmp/work/c) 2>&1 | sed 's/.*can.t cd/cannot cd/'
mkdir c 2>&1
dd if=/dev/zero of=zeros bs=512 count=3 2>/dev/null; wc -c < zeros
head -c 4 /dev/urandom | wc -c
echo hidden > /dev/null; echo "null ok"
printf 'x\ny\nx\n' | sort | uniq -c | sed 's/^ *//'
echo 'one:two:three' | awk -F: '{print $2}'
echo hello | sed 's/l/L/g'
f() { echo "in f $1"; return 2; }; f arg; echo "f returned $?"
i=0; while [ $i -lt 3 ]; do i=$((i+1)); done; echo "i=$i"
test -e /proc/self/status && echo "proc self"
grep -c '^Pid:' /proc/self/status
cat /proc/1/cmdline | tr '\0' ' '; echo
date +%Y | grep -c '^20[2-9][0-9]$'
grep -c . /proc/mounts
# No address randomization, as the sysctl says: two processes' stacks and mmaps are the same.
cat /proc/sys/kernel/randomize_va_space
a=$(grep -e stack -e ' /bin/busybox' /proc/self/maps | head -2)
b=$(grep -e stack -e ' /bin/busybox' /proc/self/maps | head -2)
[ -n "$a" ] && [ "$a" = "$b" ] && echo "fixed addresses"
