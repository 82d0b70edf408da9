// SPDX-License-Identifier: MIT
// The Linux-named entry points of the VFS (probeable: extern "C", not inlined, C structs) and
// the helpers the system calls share.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/linux_types.h"  // struct filename
#include "task/process.hpp"
#include "vfs/file.hpp"

// Linux's struct open_how (openat2).
struct open_how {
  uint64_t flags;
  uint64_t mode;
  uint64_t resolve;
};

extern "C" {
// Linux's: `file` is an open file's record (its private_data the server's File), `buf` a user
// address in the current process. Returns bytes, -errno, or kDeferred. (`pos` points at the
// server's 64-bit position, where Linux's is a loff_t.)
long vfs_read(struct file* file, char* buf, size_t count, uint64_t* pos);
long vfs_write(struct file* file, const char* buf, size_t count, uint64_t* pos);
long do_sys_openat2(int dfd, const char* filename, struct open_how* how);
int do_unlinkat(int dfd, struct filename* name);
int do_mkdirat(int dfd, struct filename* name, unsigned short mode);
// Linux 6.1's (vfs/namei.cpp): `dir` and `dentry` are records of the file tree
// (vfs/linux_objects.hpp), `file` an open file's.
int security_inode_create(struct inode* dir, struct dentry* dentry, umode_t mode);
int vfs_create(struct user_namespace* mnt_userns, struct inode* dir, struct dentry* dentry,
               umode_t mode, bool want_excl);
int vfs_unlink(struct user_namespace* mnt_userns, struct inode* dir, struct dentry* dentry,
               struct inode** delegated_inode);
int vfs_open(const struct path* path, struct file* file);
int vfs_fsync(struct file* file, int datasync);
}

namespace posix {

// The system call being served.
SyscallContext* current_context();
void set_current_context(SyscallContext* context);
// Where current_context() keeps it (the trace server reads it in probe hits).
SyscallContext* const* current_context_slot();

// `path` from the process's working directory, as every path of a system call is looked up
// (procfs brought up to date first when the path is in it), with the process's permission to
// search each directory on the way.
rt::Result<LookupResult> resolve_path(Process* process, const char* path, uint32_t flags);
// `path` from `dfd` (AT_FDCWD or a directory's fd) for the system call being served, searched
// with `who`'s ids (nullptr: the caller's; access(2) passes its real ids).
rt::Result<LookupResult> resolve(SyscallContext& c, int dfd, const char* path, uint32_t flags,
                                 const Credentials* who = nullptr);

// poll(2) events a file has now (POLLIN 1, POLLOUT 4, POLLHUP 0x10).
int poll_file(File* file);

// The files a poll, select or epoll_wait watches: while every one is the trace server's, the
// call, blocked, waits only for the trace server's wakeups (WaitReason::kTrace). A file that
// is not (or an fd that names none) keeps it WaitReason::kAny.
class WatchedFiles {
 public:
  void add(const File* file) {
    any_ = true;
    trace_only_ = trace_only_ && file != nullptr && file->kind == FileKind::kTrace;
  }
  WaitReason reason() const { return any_ && trace_only_ ? WaitReason::kTrace : WaitReason::kAny; }

 private:
  bool any_ = false;
  bool trace_only_ = true;
};

// A new regular file `name` in `directory` as open(O_CREAT) makes it (Linux's lookup_open):
// its name goes through security_inode_create, then the inode is made and linked.
rt::Result<Inode*> create_regular_file(Inode* directory, const char* name, size_t length,
                                       uint32_t mode);

int64_t tty_ioctl(SyscallContext& c, uint64_t request, uint64_t argument);

}  // namespace posix
