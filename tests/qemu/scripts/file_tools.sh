# SPDX-License-Identifier: MIT
# Debian's filelife, vfsstat and filetop, unmodified: kprobes and fentry programs on the POSIX
# server's Linux-named VFS functions (vfs_create, vfs_unlink, vfs_open, vfs_fsync, vfs_read,
# vfs_write and security_inode_create), CO-RE reads of the struct dentry, file and path they are handed (see
# libbpf_tools.sh for how the tools are run and when they count as attached).
attached() {  # PID COUNT: until PID holds COUNT such fds (at most 60 s), then a moment
  n=0
  while [ "$(ls -l /proc/$1/fd 2>/dev/null | grep -c 'perf_event\|bpf_link')" -lt "$2" ] &&
    [ $n -lt 300 ]; do
    sleep 0.2
    n=$((n+1))
  done
  sleep 1
}

# filelife: files created (by open(O_CREAT): security_inode_create and vfs_open with
# FMODE_CREATED; by mknod: vfs_create) and deleted while it runs, with their ages. A name
# longer than the dentry's inline name (32 bytes) is cut to 31 characters, as on Linux. A file
# made before it started and a file only opened are not shown.
echo before > /tmp/before.txt
filelife > /tmp/filelife.out 2>&1 &
attached $! 9
echo short > /tmp/short.txt
sleep 1
rm /tmp/short.txt
touch /tmp/a_name_longer_than_thirty_two_bytes.txt
sleep 2
rm /tmp/a_name_longer_than_thirty_two_bytes.txt
mknod_file /tmp/made.txt
sleep 1
rm /tmp/made.txt
cat /etc/passwd > /dev/null
rm /tmp/before.txt
sleep 1
kill -INT $!; wait $!
head -2 /tmp/filelife.out | tr -s ' '
awk 'NR > 2 {
  want = $5 == "made.txt" || $5 == "short.txt" ? 1 : 2
  age = $4 >= want && $4 < want + 1.5 ? "about " want " s" : "an unexpected " $4 " s"
  print $3 " deleted " $5 " after " age
}' /tmp/filelife.out

# vfsstat 1 5: five one-second intervals while fsync (3), fdatasync (1), mknod (2), open, read
# and write run; the sums of its columns. It counts with fentry programs (the kernel BTF has
# FUNC records of the five functions, so its fentry_can_attach says yes, as on Linux): five
# bpf_link fds, no perf events. Only the workload makes or syncs files, so FSYNC and
# CREATE are exact; the shell's reads, writes and opens add to the rest.
dd if=/dev/zero of=/tmp/vfs.dat bs=512 count=4 2> /dev/null
vfsstat 1 5 > /tmp/vfsstat.out 2>&1 &
attached $! 5
for i in 1 2 3; do sync /tmp/vfs.dat; done
sync -d /tmp/vfs.dat
mknod_file /tmp/m1 /tmp/m2
rm /tmp/m1 /tmp/m2
dd if=/tmp/vfs.dat of=/tmp/vfs.copy bs=512 2> /dev/null
wait $!
head -1 /tmp/vfsstat.out | tr -s ' '
awk 'NR > 1 { n++; r += $2; w += $3; f += $4; o += $5; c += $6 }
  END {
    print n " intervals"
    print "FSYNC " f ", CREATE " c
    print (o >= 6 ? "OPEN at least 6" : "OPEN only " o)
    print (r >= 5 ? "READ at least 5" : "READ only " r)
    print (w >= 4 ? "WRITE at least 4" : "WRITE only " w)
  }' /tmp/vfsstat.out

# filetop -C 5 1: five seconds (the loop must start in the 4 left after `attached`, on a loaded
# machine too) while a loop reads a file (dd: busybox's cat would sendfile, which
# does not go through vfs_read, on Linux either) and appends to another; kprobes on
# vfs_read and vfs_write read each call's struct file (f_inode's mode, number and super_block,
# f_path's dentry name): the loop's files show with their reads and writes.
echo hello > /tmp/top_data.txt
filetop -C 5 1 > /tmp/filetop.out 2>&1 &
attached $! 4
i=0
while [ $i -lt 10 ]; do
  dd if=/tmp/top_data.txt of=/dev/null 2> /dev/null
  echo x >> /tmp/top_out.txt
  i=$((i+1))
done
wait $!
grep -c 'TID *COMM *READS *WRITES *R_Kb *W_Kb *T FILE' /tmp/filetop.out
awk '$2 == "dd" && $8 == "top_data.txt" && $3 > 0 && $7 == "R" { read = 1 }
  $8 == "top_out.txt" && $4 > 0 && $7 == "R" { wrote = 1 }
  END {
    print (read ? "dd read top_data.txt" : "no read of top_data.txt")
    print (wrote ? "top_out.txt written" : "no write to top_out.txt")
  }' /tmp/filetop.out
