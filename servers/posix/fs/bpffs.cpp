// SPDX-License-Identifier: MIT
// Pinned BPF objects: a regular file (mode 0600, as Linux's) of the bpf file system whose inode
// holds a reference to the open file of the fd that was pinned, so the trace server's handle
// stays open after the program closes its fds, until the file is unlinked.
#include "fs/bpffs.hpp"

#include <string.h>

#include "kernel/syscalls.hpp"
#include "vfs/file.hpp"
#include "vfs/mount.hpp"
#include "vfs/vfs.hpp"

namespace posix {

int64_t bpf_obj_pin(SyscallContext& c, uint64_t pathname, int fd) {
  File* file = fd_file(*c.process->files, fd);
  if (file == nullptr || file->kind != FileKind::kTrace) return -rt::kEINVAL;
  char path[kPathMax];
  if (auto r = copy_path(c, pathname, path); !r.ok()) return -r.error().code;
  // kern_path_create: the parent must exist, the name must not.
  auto found = resolve_path(c.process, path, kAllowMissing);
  if (!found.ok()) return -found.error().code;
  if (found.value().inode != nullptr) return -rt::kEEXIST;
  if (found.value().last == nullptr) return -rt::kEEXIST;
  Inode* parent = found.value().parent;
  if (strcmp(filesystem_type(parent), "bpf") != 0) return -rt::kEPERM;
  auto inode = file_tree().make_inode(kTypeRegular | (0600 & ~c.process->umask));
  if (!inode.ok()) return -inode.error().code;
  if (auto r =
          file_tree().link(parent, found.value().last, found.value().last_length, inode.value());
      !r.ok()) {
    return -r.error().code;
  }
  get_file(file);
  inode.value()->pinned = file;
  // bpf_mkobj_ops: a new inode's atime, mtime and ctime are the current time.
  inode.value()->mtime_seconds = wall_clock_seconds();
  return 0;
}

int64_t bpf_obj_get(SyscallContext& c, uint64_t pathname) {
  char path[kPathMax];
  if (auto r = copy_path(c, pathname, path); !r.ok()) return -r.error().code;
  auto found = resolve_path(c.process, path, kFollowLast);
  if (!found.ok()) return -found.error().code;
  File* file = found.value().inode->pinned;
  if (file == nullptr) return -rt::kEACCES;  // bpf_inode_type: not a pinned object
  // GAP: the new fd shares the pinned open file (BPF_F_RDONLY/WRONLY are checked, not kept
  // per fd), and after a trace-server restart a pin names a stale object (every use: EBADF).
  get_file(file);
  auto fd = install_fd(*c.process->files, file, 0, true);  // O_CLOEXEC, as bpf fds
  if (!fd.ok()) {
    put_file(file);
    return -fd.error().code;
  }
  return fd.value();
}

void release_pin(Inode* inode) {
  if (inode->pinned == nullptr || inode->links != 0) return;
  File* file = inode->pinned;
  inode->pinned = nullptr;
  put_file(file);
  file_tree().forget_if_unused(inode);  // its name went before its object
}

}  // namespace posix
