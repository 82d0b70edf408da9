// SPDX-License-Identifier: MIT
// The Linux-named VFS operations tracers probe by name (vfs_create, vfs_unlink, vfs_open,
// vfs_fsync, security_inode_create: Linux 6.1's signatures, over the records of
// vfs/linux_objects.cpp), the creation of regular files, and mknod.
#include <string.h>

#include "fs/bpffs.hpp"
#include "fs/tracefs.hpp"
#include "kernel/syscalls.hpp"
#include "vfs/linux_objects.hpp"
#include "vfs/permission.hpp"
#include "vfs/vfs.hpp"

namespace posix {

namespace {

constexpr int kAtFdCwd = -100;
constexpr uint32_t kTypeBlockDevice = 0060000, kTypeSocket = 0140000;

// Linux's i_op->create: the inode of a regular file for a name not linked yet, linked.
rt::Result<Inode*> instantiate(Inode* directory, DirectoryEntry* entry, uint32_t mode) {
  Inode* inode = TRY(file_tree().make_inode(kTypeRegular | (mode & 07777)));
  init_owner(current_context()->process->credentials, *inode, *directory);
  file_tree().link_entry(directory, entry, inode);
  entry->linux_dentry.d_inode = linux_inode_of(inode);
  return inode;
}

}  // namespace

rt::Result<Inode*> create_regular_file(Inode* directory, const char* name, size_t length,
                                       uint32_t mode) {
  DirectoryEntry* entry = TRY(file_tree().new_entry(directory, name, length));
  struct dentry* dentry = linux_dentry_of(entry, directory);
  int denied = security_inode_create(linux_inode_of(directory), dentry,
                                     static_cast<umode_t>(kTypeRegular | (mode & 07777)));
  auto made = denied < 0 ? rt::err(-denied) : instantiate(directory, entry, mode);
  if (!made.ok()) file_tree().free_entry(entry);
  return made;
}

}  // namespace posix

using posix::current_context;
using posix::DirectoryEntry;
using posix::File;
using posix::file_tree;
using posix::FileKind;
using posix::Inode;
using posix::instantiate;
using posix::is_tracefs;
using posix::kTypeRegular;
using posix::may_delete;
using posix::release_pin;
using posix::tracefs_open;

// Linux's LSM hook before a regular file is made (vfs_create; open's may_o_create): no security
// module denies anything here. The empty asm keeps the calls to it (clang drops calls to a
// function it sees does nothing).
extern "C" __attribute__((noinline)) int security_inode_create(struct inode* dir,
                                                               struct dentry* dentry,
                                                               umode_t mode) {
  asm volatile("" : : "r"(dir), "r"(dentry), "r"(mode) : "memory");
  return 0;
}

// `dentry` is a name in `dir` not linked yet (made by FileTree::new_entry).
extern "C" __attribute__((noinline)) int vfs_create(struct user_namespace* mnt_userns,
                                                    struct inode* dir, struct dentry* dentry,
                                                    umode_t mode, bool want_excl) {
  (void)mnt_userns;
  (void)want_excl;  // new_entry found the name free
  auto* directory = static_cast<Inode*>(dir->i_private);
  auto* entry = static_cast<DirectoryEntry*>(dentry->d_fsdata);
  if (entry->inode != nullptr) return -rt::kEEXIST;
  mode = static_cast<umode_t>((mode & 07777) | kTypeRegular);
  if (int denied = security_inode_create(dir, dentry, mode); denied < 0) return denied;
  auto made = instantiate(directory, entry, mode);
  return made.ok() ? 0 : -made.error().code;
}

// Removes `dentry`'s name from `dir` (do_unlinkat found it); the dentry is gone afterwards.
extern "C" __attribute__((noinline)) int vfs_unlink(struct user_namespace* mnt_userns,
                                                    struct inode* dir, struct dentry* dentry,
                                                    struct inode** delegated_inode) {
  (void)mnt_userns;
  (void)delegated_inode;  // no NFS delegations
  auto* directory = static_cast<Inode*>(dir->i_private);
  auto* entry = static_cast<DirectoryEntry*>(dentry->d_fsdata);
  Inode* inode = entry->inode;
  // may_delete: write and search permission on the directory, the sticky bit, then the type.
  if (auto allowed = may_delete(current_context()->process->credentials, *directory, *inode);
      !allowed.ok()) {
    return -allowed.error().code;
  }
  if (inode->is_directory()) return -rt::kEISDIR;
  if (is_tracefs(inode)) return -rt::kEPERM;  // tracefs has no unlink operation
  bool pinned = inode->pinned != nullptr;     // else the unlink may have freed the inode
  auto unlinked = file_tree().unlink(directory, entry->name, strlen(entry->name));
  if (!unlinked.ok()) return -unlinked.error().code;
  if (pinned) release_pin(inode);
  return 0;
}

// Linux's vfs_open: the file takes its path, then its file system's open (tracefs asks the
// trace server).
extern "C" __attribute__((noinline)) int vfs_open(const struct path* path, struct file* file) {
  file->f_path = *path;
  auto* opened = static_cast<File*>(file->private_data);
  if (opened->kind == FileKind::kTracefs) return static_cast<int>(tracefs_open(opened));
  return 0;
}

// Nothing is cached on the way to a disk, so there is nothing to write back (the asm keeps the
// calls, as in security_inode_create).
extern "C" __attribute__((noinline)) int vfs_fsync(struct file* file, int datasync) {
  asm volatile("" : : "r"(file), "r"(datasync) : "memory");
  return 0;
}

namespace posix {

namespace {

// Linux's do_mknodat: regular files through vfs_create, character devices as device nodes.
int64_t do_mknodat(SyscallContext& c, int dfd, uint64_t path_address, uint32_t mode,
                   uint64_t device) {
  uint32_t type = mode & kTypeMask;
  if (type == kTypeDirectory) return -rt::kEPERM;
  if (type != 0 && type != kTypeRegular && type != kTypeCharDevice && type != kTypeFifo &&
      type != kTypeBlockDevice && type != kTypeSocket) {
    return -rt::kEINVAL;
  }
  char path[kPathMax];
  if (auto r = copy_path(c, path_address, path); !r.ok()) return -r.error().code;
  auto found = resolve(c, dfd, path, kAllowMissing);
  if (!found.ok()) return -found.error().code;
  const LookupResult& at = found.value();
  if (at.inode != nullptr || at.last == nullptr) return -rt::kEEXIST;
  if (is_tracefs(at.parent)) return -rt::kEPERM;
  // vfs_mknod: may_create, then CAP_MKNOD for a device.
  if (auto allowed = may_create(c.process->credentials, *at.parent); !allowed.ok()) {
    return -allowed.error().code;
  }
  if (type == kTypeCharDevice && !capable(*c.process, kCapMknod)) return -rt::kEPERM;
  uint32_t permissions = mode & 07777 & ~c.process->umask;
  if (type == 0 || type == kTypeRegular) {
    auto entry = file_tree().new_entry(at.parent, at.last, at.last_length);
    if (!entry.ok()) return -entry.error().code;
    int created = vfs_create(&init_user_ns, linux_inode_of(at.parent),
                             linux_dentry_of(entry.value(), at.parent),
                             static_cast<umode_t>(kTypeRegular | permissions), true);
    if (created < 0) file_tree().free_entry(entry.value());
    return created;
  }
  // GAP: sockets and block devices cannot be made (no sockets or block layer).
  if (type != kTypeCharDevice && type != kTypeFifo) return -rt::kEPERM;
  auto made = file_tree().make_inode(type | permissions);
  if (!made.ok()) return -made.error().code;
  init_owner(c.process->credentials, *made.value(), *at.parent);
  // Linux's new_decode_dev; the tree keeps major << 8 | minor.
  auto major = static_cast<uint32_t>((device & 0xfff00) >> 8);
  auto minor = static_cast<uint32_t>((device & 0xff) | ((device >> 12) & 0xfff00));
  made.value()->device = major << 8 | minor;
  return to_rax(file_tree().link(at.parent, at.last, at.last_length, made.value()));
}

}  // namespace

int64_t sys_mknodat(SyscallContext& c) {
  return do_mknodat(c, static_cast<int>(c.arg(0)), c.arg(1), static_cast<uint32_t>(c.arg(2)),
                    c.arg(3));
}
int64_t sys_mknod(SyscallContext& c) {
  return do_mknodat(c, kAtFdCwd, c.arg(0), static_cast<uint32_t>(c.arg(1)), c.arg(2));
}

int64_t sys_fsync(SyscallContext& c) {
  File* file = fd_file(*c.process->files, static_cast<int>(c.arg(0)));
  return file == nullptr ? -rt::kEBADF : vfs_fsync(linux_file_of(file), 0);
}
int64_t sys_fdatasync(SyscallContext& c) {
  File* file = fd_file(*c.process->files, static_cast<int>(c.arg(0)));
  return file == nullptr ? -rt::kEBADF : vfs_fsync(linux_file_of(file), 1);
}

}  // namespace posix
