# SPDX-License-Identifier: MIT
# userland/libbpf/ksyscall (Debian's libbpf): ksyscall and kretsyscall programs on unlinkat and
# a kprobe on __x64_sys_getppid. They attach to the POSIX server's Linux-named system call
# entry points (`__x64_sys_NAME(const struct pt_regs *regs)`), and BPF_KSYSCALL reads the
# arguments from the caller's pt_regs, as on Linux.
/bin/ksyscall
echo "status $?"
