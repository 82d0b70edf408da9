# SPDX-License-Identifier: MIT
# Debian's capable (libbpf-tools: a kprobe and a kretprobe on cap_capable) while programs make
# capability checks: every check Linux 6.1 makes in the same QEMU shows, in the same order,
# with the capability, whether it is audited and its verdict (times and pids vary: not shown).
# The POSIX server asks each check of its Linux-named cap_capable (task/capability.cpp).
attached() {  # PID COUNT: until PID holds COUNT perf event or link fds (at most 60 s)
  n=0
  while [ "$(ls -l /proc/$1/fd 2>/dev/null | grep -c 'perf_event\|bpf_link')" -lt "$2" ] &&
    [ $n -lt 300 ]; do
    sleep 0.2
    n=$((n+1))
  done
  sleep 1
}

touch /tmp/f
mkdir /tmp/m
capable > /tmp/capable.out 2>&1 &
attached $! 2
# Busybox as root: chown and chgrp to another owner (CAP_CHOWN), chmod g+s of a file root does
# not own (CAP_FOWNER, then CAP_FSETID twice, as Linux's setattr_prepare and setattr_copy ask),
# a character device (CAP_MKNOD), the host name, a lower nice value, a higher hard limit, and a
# mount (may_mount and the file system's mount_capable) and unmount.
chown 1000 /tmp/f
chgrp 1000 /tmp/f
chmod 2755 /tmp/f
mknod /tmp/null2 c 1 3
hostname sonde-test
renice -n -5 -p $$ > /dev/null
sh -c 'ulimit -Hn 8192'
mount -t tmpfs none /tmp/m
umount /tmp/m
# The user and group id rules and the file permission checks as root and as uid 1000 (setuid
# and its kin ask CAP_SETUID/CAP_SETGID only where Linux asks; denied file access asks
# CAP_DAC_READ_SEARCH and CAP_DAC_OVERRIDE; bpf() and perf_event_open as uid 1000 ask CAP_BPF
# and CAP_SYS_ADMIN).
/bin/cred_checks > /tmp/cred.out 2>&1
tail -1 /tmp/cred.out
sleep 1
kill -INT $!
wait $!
awk '{ print $4, $5, $6, $7, $8 }' /tmp/capable.out
