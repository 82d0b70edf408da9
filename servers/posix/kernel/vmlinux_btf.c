// SPDX-License-Identifier: MIT
// The translation unit /sys/kernel/btf/vmlinux is generated from (pahole over its DWARF at
// build time): the Linux-named types the POSIX server keeps (linux_types.h) and Linux's uapi
// BPF types (the map types and flags programs name), compiled with every type kept.
#include <linux/bpf.h>
#include <linux/time_types.h>  // struct __kernel_timespec: nanosleep's and others' arguments

#include "linux_types.h"

// The raw tracepoints' prototypes, as Linux's BTF has one `btf_trace_<event>` per tracepoint
// (the probe's data pointer first, then the event's TP_PROTO): tp_btf programs attach to them
// (their arguments are the prototype's, typed), and libbpf looks them up to tell whether one
// could attach.
struct kernel_siginfo;
typedef _Bool bool;  // as Linux's types.h: programs written against its vmlinux.h use it
typedef void (*btf_trace_sys_enter)(void*, struct pt_regs*, long);
typedef void (*btf_trace_sys_exit)(void*, struct pt_regs*, long);
typedef void (*btf_trace_sched_process_exec)(void*, struct task_struct*, pid_t,
                                             struct linux_binprm*);
typedef void (*btf_trace_sched_process_exit)(void*, struct task_struct*);
typedef void (*btf_trace_sched_process_free)(void*, struct task_struct*);
typedef void (*btf_trace_sched_process_fork)(void*, struct task_struct*, struct task_struct*);
typedef void (*btf_trace_signal_generate)(void*, int, struct kernel_siginfo*, struct task_struct*,
                                          int, int);
typedef void (*btf_trace_sched_switch)(void*, bool, struct task_struct*, struct task_struct*,
                                       unsigned int);
typedef void (*btf_trace_sched_wakeup)(void*, struct task_struct*);
typedef void (*btf_trace_sched_wakeup_new)(void*, struct task_struct*);

// The POSIX server's functions that fentry and fexit programs attach to (Linux's FUNC records
// of the same names), with Linux 6.1's prototypes, which the server's functions keep (their
// extra trailing parameters, where they have one, are the server's own). Defined here only so
// that their DWARF, and so pahole's FUNC records, exist: this object is never linked.
#include <linux/openat2.h>

#include "syscall_list.h"

typedef __kernel_size_t size_t;
typedef __kernel_ssize_t ssize_t;
typedef __kernel_loff_t loff_t;
struct kernel_clone_args;

#define SONDE_BTF_FUNCTION(type, name, ...) \
  type name(__VA_ARGS__) { __builtin_trap(); }
SONDE_BTF_FUNCTION(ssize_t, vfs_read, struct file* file, char* buf, size_t count, loff_t* pos)
SONDE_BTF_FUNCTION(ssize_t, vfs_write, struct file* file, const char* buf, size_t count,
                   loff_t* pos)
SONDE_BTF_FUNCTION(long, do_sys_openat2, int dfd, const char* filename, struct open_how* how)
SONDE_BTF_FUNCTION(int, do_mkdirat, int dfd, struct filename* name, umode_t mode)
SONDE_BTF_FUNCTION(int, do_unlinkat, int dfd, struct filename* name)
SONDE_BTF_FUNCTION(int, security_inode_create, struct inode* dir, struct dentry* dentry,
                   umode_t mode)
SONDE_BTF_FUNCTION(int, vfs_create, struct user_namespace* mnt_userns, struct inode* dir,
                   struct dentry* dentry, umode_t mode, bool want_excl)
SONDE_BTF_FUNCTION(int, vfs_unlink, struct user_namespace* mnt_userns, struct inode* dir,
                   struct dentry* dentry, struct inode** delegated_inode)
SONDE_BTF_FUNCTION(int, vfs_open, const struct path* path, struct file* file)
SONDE_BTF_FUNCTION(int, vfs_fsync, struct file* file, int datasync)
SONDE_BTF_FUNCTION(long, kernel_clone, struct kernel_clone_args* args)
SONDE_BTF_FUNCTION(int, sched_fork, unsigned long clone_flags, struct task_struct* p)
SONDE_BTF_FUNCTION(void, do_exit, long code)
SONDE_BTF_FUNCTION(int, do_nanosleep, struct hrtimer_sleeper* t, enum hrtimer_mode mode)
SONDE_BTF_FUNCTION(void, do_group_exit, int exit_code)
SONDE_BTF_FUNCTION(int, cap_capable, const struct cred* cred, struct user_namespace* targ_ns,
                   int cap, unsigned int opts)
// The system calls' entry points.
#define SONDE_BTF_SYSCALL(number, name) \
  SONDE_BTF_FUNCTION(long, __x64_sys_##name, const struct pt_regs* regs)
SONDE_SYSCALLS(SONDE_BTF_SYSCALL)
