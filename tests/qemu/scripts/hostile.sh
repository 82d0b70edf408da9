# SPDX-License-Identifier: MIT
# A program making random system calls (fixed seed) ends normally or by a signal; the POSIX
# server and the kernel go on, and later commands work. Also a musl program added with --add.
/bin/hello x | head -1
/bin/syscall_fuzz 100000 > /tmp/fuzz.out 2>&1
status=$?
if [ $status -eq 0 ] || [ $status -gt 128 ]; then echo "fuzz ended: normal or signal"; fi
echo ok
ls /bin/hello
