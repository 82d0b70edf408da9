// SPDX-License-Identifier: MIT
// The Linux-named kernel types tracing programs read, laid out as the POSIX server keeps them;
// /sys/kernel/btf/vmlinux describes exactly these (kernel/vmlinux_btf.c, docs/LINUX.md).
//
// C and C++ both include this file: the server uses the types, and the BTF is generated from a
// C translation unit that includes it, so the two can never disagree. Field names and types are
// Linux's (6.1) for the fields a CO-RE program reads; the order and the rest of Linux's fields
// are not kept (CO-RE relocates by name). Which fields the server fills is said per struct.
#ifndef SONDE_POSIX_KERNEL_LINUX_TYPES_H
#define SONDE_POSIX_KERNEL_LINUX_TYPES_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;
typedef short s16;
typedef int s32;
typedef long long s64;
typedef int __kernel_pid_t;
typedef __kernel_pid_t pid_t;
typedef unsigned short umode_t;
// The kernel's device number: major << 20 | minor (MKDEV). Linux's dev_t is this; the name is
// not typedef'd here (glibc's dev_t differs).
typedef u32 __kernel_dev_t;
typedef long long __kernel_loff_t;
typedef unsigned int __kernel_uid32_t;
typedef __kernel_uid32_t uid_t;
typedef unsigned int __kernel_gid32_t;
typedef __kernel_gid32_t gid_t;
typedef unsigned int fmode_t;

#ifdef __cplusplus
extern "C" {
#endif

// Linux's x86-64 struct pt_regs: the registers at system call entry (the first argument of
// trace_sys_enter/trace_sys_exit) and a kprobe program's context.
struct pt_regs {
  unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax, ip, cs,
      flags, sp, ss;
};

// The kernel copy of a path and the user pointer it came from (do_unlinkat, do_mkdirat).
struct filename {
  const char* name;
  const char* uptr;
};

// A namespace's identity (Linux's struct ns_common: inum is what /proc/PID/ns/* links show).
struct ns_common {
  void* stashed;
  const void* ops;
  unsigned int inum;
  int count;
};

// A name in the dentry cache: `name` points to the dentry's d_iname when the name fits there
// (as Linux's), else to the directory entry's own copy. GAP: `hash` is 0 (Linux's is a salted
// full_name_hash no tool compares with anything).
struct qstr {
  union {
    struct {
      u32 hash;
      u32 len;
    };
    u64 hash_len;
  };
  const unsigned char* name;
};

// The file tree's one file system (stat's st_dev is 1 for every file: major 0, minor 1).
struct super_block {
  __kernel_dev_t s_dev;
  unsigned long s_magic;
};

// Every inode of the server's file tree holds one (posix::Inode::linux_inode), refreshed from it
// before it is handed to a Linux-named function (vfs/linux_objects.cpp): i_mode, i_ino,
// i_nlink, i_size, i_rdev (a device's number); i_sb is the tree's super_block; i_private points
// back to the posix::Inode.
struct inode {
  umode_t i_mode;
  unsigned int i_flags;
  struct super_block* i_sb;
  unsigned long i_ino;
  unsigned int i_nlink;
  __kernel_dev_t i_rdev;
  __kernel_loff_t i_size;  // Linux: loff_t (not typedef'd here: glibc's differs)
  void* i_private;
};

// Every name in a directory holds one (posix::DirectoryEntry::linux_dentry), from before the
// name is linked (a negative dentry: d_inode NULL, as security_inode_create and vfs_create see
// it) until it is unlinked; the root's is the server's root_dentry. d_parent is the directory's
// dentry, d_fsdata points back to the posix::DirectoryEntry (NULL for the root).
struct dentry {
  unsigned int d_flags;
  struct dentry* d_parent;
  struct qstr d_name;
  struct inode* d_inode;
  unsigned char d_iname[32];  // Linux's DNAME_INLINE_LEN on x86-64
  void* d_fsdata;
};

struct vfsmount;

// GAP: `mnt` is NULL (no struct vfsmount is kept for the mount table).
struct path {
  struct vfsmount* mnt;
  struct dentry* dentry;
};

// Linux's f_mode bits the server sets.
#define FMODE_READ 0x1
#define FMODE_WRITE 0x2
#define FMODE_CREATED 0x100000

// Every open file holds one (posix::File::linux_file), filled when it is made: f_flags
// (without O_CREAT, O_EXCL, O_NOCTTY and O_TRUNC, as Linux), f_mode (FMODE_READ/WRITE from the
// access mode, FMODE_CREATED when the open made the file), f_inode; f_path when it was opened by
// path (vfs_open); f_flags and f_pos again when handed to a Linux-named function; private_data
// points back to the posix::File.
struct file {
  struct path f_path;
  struct inode* f_inode;
  unsigned int f_flags;
  fmode_t f_mode;
  __kernel_loff_t f_pos;
  void* private_data;
};

// The user namespace of a mount (Linux 5.12 to 6.2 pass one to vfs_create and vfs_unlink):
// Sonde has one, init_user_ns, with the inum Linux's initial one has (4026531837).
struct user_namespace {
  struct ns_common ns;
};

// Linux 6.1's argument of vfs_rename. Described only (no Linux-named function takes it yet):
// filelife asks whether it has old_mnt_userns to know that vfs_create and vfs_unlink take a
// user namespace first, as here.
struct renamedata {
  struct user_namespace* old_mnt_userns;
  struct inode* old_dir;
  struct dentry* old_dentry;
  struct user_namespace* new_mnt_userns;
  struct inode* new_dir;
  struct dentry* new_dentry;
  struct inode** delegated_inode;
  unsigned int flags;
};

// One per process (Linux shares one between threads; a Sonde process has one thread). The
// addresses are in the process's own address space: arg_start..arg_end is argv's strings,
// env_start..env_end the environment's, as the initial stack holds them.
struct mm_struct {
  unsigned long start_code, end_code, start_data, end_data;
  unsigned long start_brk, brk, start_stack;
  unsigned long arg_start, arg_end, env_start, env_end;
};

// A task's credentials (Linux 6.1's struct cred, its head: the ids and the capability sets).
// The server builds one from a process's ids for each capability check (cap_capable's first
// argument; task/capability.cpp): every capability when the effective uid is 0, the file
// system ones (CAP_FS_MASK) following the file system uid, none otherwise.
typedef struct {
  uid_t val;
} kuid_t;
typedef struct {
  gid_t val;
} kgid_t;
typedef struct kernel_cap_struct {
  u32 cap[2];
} kernel_cap_t;

struct cred {
  int usage;
  kuid_t uid, gid, suid, sgid, euid, egid, fsuid, fsgid;
  unsigned int securebits;
  kernel_cap_t cap_inheritable, cap_permitted, cap_effective, cap_bset, cap_ambient;
};

// cap_capable's options (Linux's security.h): the check is not audited (capable's AUDIT
// column says 0), the check is setuid's or setgid's.
#define CAP_OPT_NONE 0x0
#define CAP_OPT_NOAUDIT 0x2
#define CAP_OPT_INSETID 0x4

// Linux's task flags the server sets.
#define PF_EXITING 0x00000004
#define PF_FORKNOEXEC 0x00000040
#define PF_SUPERPRIV 0x00000100
// An enum, as Linux's since 5.17, so that BTF (and vmlinux.h) has it.
enum { TASK_COMM_LEN = 16 };

// The server keeps one per process, filled from its table: pid and tgid (the process id: one
// thread each), comm, real_parent and parent (the parent's task_struct; the first process's
// is init_task, pid 0 "swapper/0", as Linux), group_leader (itself), mm (NULL once it exited),
// flags (PF_FORKNOEXEC until execve, PF_SUPERPRIV once it used root's privilege, PF_EXITING
// once it exited; never PF_RANDOMIZE: Sonde does not randomize address spaces), exit_code (its
// wait status once a zombie), exit_signal (SIGCHLD), start_time (ns since boot) and nsproxy
// (the one namespace set, init_nsproxy).
// Sonde has one mount namespace; every task's nsproxy points at it (mountsnoop reads
// task->nsproxy->mnt_ns->ns.inum). Its inum is the one Linux's initial mount namespace
// usually gets (4026531841).
struct mnt_namespace {
  struct ns_common ns;
};

struct nsproxy {
  int count;
  struct mnt_namespace* mnt_ns;
};

struct task_struct {
  unsigned int __state;
  unsigned int flags;
  int prio;
  struct mm_struct* mm;
  struct mm_struct* active_mm;
  int exit_state;
  int exit_code;
  int exit_signal;
  pid_t pid;
  pid_t tgid;
  struct task_struct* real_parent;
  struct task_struct* parent;
  struct task_struct* group_leader;
  u64 start_time;
  char comm[TASK_COMM_LEN];
  struct nsproxy* nsproxy;
  // Sonde's own, after Linux's fields (no program names them): while the task waits in a
  // system call, the user registers it made the call with (the server's abi::UserRegisters,
  // Linux's task_pt_regs) and its process's user page map, else NULL and 0. The trace server
  // walks the user stack of a scheduling event's task with them.
  const void* sonde_user_regs;
  unsigned long sonde_user_pages;
};

// Linux's hrtimer_sleeper (include/linux/hrtimer.h), as nanosleep hands it to do_nanosleep:
// the timer's expiry (node.expires and _softexpires: ns on CLOCK_MONOTONIC, where a realtime
// sleep's deadline is converted to) and the task that sleeps; Linux's layout up to them.
typedef s64 ktime_t;
struct rb_node {
  unsigned long __rb_parent_color;
  struct rb_node* rb_right;
  struct rb_node* rb_left;
};
struct timerqueue_node {
  struct rb_node node;
  ktime_t expires;
};
struct hrtimer_clock_base;
enum hrtimer_restart { HRTIMER_NORESTART = 0, HRTIMER_RESTART = 1 };
struct hrtimer {
  struct timerqueue_node node;
  ktime_t _softexpires;
  enum hrtimer_restart (*function)(struct hrtimer*);
  struct hrtimer_clock_base* base;
  u8 state;
  u8 is_rel;
  u8 is_soft;
  u8 is_hard;
};
struct hrtimer_sleeper {
  struct hrtimer timer;
  struct task_struct* task;
};
enum hrtimer_mode {
  HRTIMER_MODE_ABS = 0x00,
  HRTIMER_MODE_REL = 0x01,
  HRTIMER_MODE_PINNED = 0x02,
  HRTIMER_MODE_SOFT = 0x04,
  HRTIMER_MODE_HARD = 0x08,
};

// What an execve loaded: do_execveat_common builds one for sched_process_exec's raw tracepoint
// (GAP: no probeable Linux-named function takes it yet).
struct linux_binprm {
  struct mm_struct* mm;
  unsigned long p;
  struct file* file;
  int argc, envc;
  const char* filename;
  const char* interp;
};

// The common head of a trace event record (Linux's struct trace_entry).
struct trace_entry {
  unsigned short type;
  unsigned char flags;
  unsigned char preempt_count;
  int pid;
};

// The records of raw_syscalls:sys_enter and sys_exit as the trace server writes them
// (servers/trace/probes/syscall_tracepoints.cpp) and their format files describe.
struct trace_event_raw_sys_enter {
  struct trace_entry ent;
  long id;
  unsigned long args[6];
  char __data[];
};

struct trace_event_raw_sys_exit {
  struct trace_entry ent;
  long id;
  long ret;
  char __data[];
};

// Records of the sched and signal tracepoints, as Linux 6.1's format files lay them out
// (BTF only: CO-RE programs name them for their tracepoint contexts; the trace server builds
// them in servers/trace/core/src/tracefs/sched_events.cpp).
struct trace_event_raw_sched_process_exec {
  struct trace_entry ent;
  u32 __data_loc_filename;
  pid_t pid;
  pid_t old_pid;
  char __data[];
};

struct trace_event_raw_sched_process_template {
  struct trace_entry ent;
  char comm[16];
  pid_t pid;
  int prio;
  char __data[];
};

struct trace_event_raw_sched_process_wait {
  struct trace_entry ent;
  char comm[16];
  pid_t pid;
  int prio;
  char __data[];
};

struct trace_event_raw_sched_process_fork {
  struct trace_entry ent;
  char parent_comm[16];
  pid_t parent_pid;
  char child_comm[16];
  pid_t child_pid;
  char __data[];
};

#ifndef __cplusplus  // a field named errno: for the BTF's C translation unit only
struct trace_event_raw_signal_generate {
  struct trace_entry ent;
  int sig;
  int errno;
  int code;
  char comm[16];
  pid_t pid;
  int group;
  int result;
  char __data[];
};
#endif

// Named so that bpf_core_type_exists(struct bpf_ringbuf) finds it, as on Linux 5.8 and later
// (libbpf-tools' compat code then uses BPF_MAP_TYPE_RINGBUF, which the trace server has).
// Only the name matters; these are not the fields of Sonde's ring buffers.
struct bpf_ringbuf {
  u64 mask;
  unsigned long consumer_pos;
  unsigned long producer_pos;
};

#ifdef __cplusplus
}
#endif

#endif  // SONDE_POSIX_KERNEL_LINUX_TYPES_H
