# SPDX-License-Identifier: MIT
# Busybox basics through tools/run --script: echo, ls, cat, pipes, redirections, exit status.
echo hello from the script
ls / | grep -c .
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
uname -srm
(sleep 2; echo late) | (read -t 1 x; echo "read status $?")
exit 5
