// SPDX-License-Identifier: MIT
// File attribute system calls: access, chmod, chown, umask, utimensat and utimes.
#include "kernel/syscalls.hpp"
#include "vfs/at_flags.hpp"
#include "vfs/permission.hpp"
#include "vfs/vfs.hpp"

namespace posix {

namespace {
int64_t do_access(SyscallContext& c, int dfd, uint64_t path_address, uint64_t mode,
                  uint64_t flags) {
  char path[kPathMax];
  if ((mode & ~7u) != 0) return -rt::kEINVAL;
  if ((flags & ~(kAtSymlinkNoFollow | kAtEaccess | kAtEmptyPath)) != 0) return -rt::kEINVAL;
  if (auto r = copy_path(c, path_address, path); !r.ok()) return -r.error().code;
  // The real ids stand for the file system ones (and root's capabilities follow the real uid),
  // unless AT_EACCESS asks for the effective ones.
  Credentials who = c.process->credentials;
  if ((flags & kAtEaccess) == 0) {
    who.fsuid = who.uid;
    who.fsgid = who.gid;
  }
  auto found = resolve(c, dfd, path, (flags & kAtSymlinkNoFollow) != 0 ? 0 : kFollowLast, &who);
  if (!found.ok()) return -found.error().code;
  // F_OK (0) asks only whether the path resolves.
  return to_rax(inode_permission(who, *found.value().inode, static_cast<uint32_t>(mode)));
}
}  // namespace

int64_t sys_access(SyscallContext& c) { return do_access(c, kAtFdCwd, c.arg(0), c.arg(1), 0); }
int64_t sys_faccessat(SyscallContext& c) {
  return do_access(c, static_cast<int>(c.arg(0)), c.arg(1), c.arg(2), 0);
}
int64_t sys_faccessat2(SyscallContext& c) {
  return do_access(c, static_cast<int>(c.arg(0)), c.arg(1), c.arg(2), c.arg(3));
}

namespace {
// chmod's end: the owner (or root) sets the mode (setattr_prepare's rules).
int64_t set_mode(SyscallContext& c, Inode* inode, uint32_t mode) {
  auto allowed = chmod_mode(c.process->credentials, *inode, mode);
  if (!allowed.ok()) return -allowed.error().code;
  inode->mode = (inode->mode & kTypeMask) | allowed.value();
  return 0;
}
// chown's end: the ids (-1 leaves one), then the set-ID bits a chown clears.
int64_t set_owner(SyscallContext& c, Inode* inode, uint64_t uid, uint64_t gid) {
  auto new_uid = static_cast<uint32_t>(uid), new_gid = static_cast<uint32_t>(gid);
  if (auto allowed = may_chown(c.process->credentials, *inode, new_uid, new_gid); !allowed.ok()) {
    return -allowed.error().code;
  }
  if (new_uid != Credentials::kNoChange) inode->uid = new_uid;
  if (new_gid != Credentials::kNoChange) inode->gid = new_gid;
  inode->mode = mode_after_chown(inode->mode);
  return 0;
}
int64_t change_mode(SyscallContext& c, int dfd, uint64_t path_address, uint32_t mode) {
  char path[kPathMax];
  if (auto r = copy_path(c, path_address, path); !r.ok()) return -r.error().code;
  auto found = resolve(c, dfd, path, kFollowLast);
  if (!found.ok()) return -found.error().code;
  return set_mode(c, found.value().inode, mode);
}
int64_t change_owner(SyscallContext& c, int dfd, uint64_t path_address, uint64_t uid, uint64_t gid,
                     uint32_t follow) {
  char path[kPathMax];
  if (auto r = copy_path(c, path_address, path); !r.ok()) return -r.error().code;
  auto found = resolve(c, dfd, path, follow);
  if (!found.ok()) return -found.error().code;
  return set_owner(c, found.value().inode, uid, gid);
}
}  // namespace

int64_t sys_chmod(SyscallContext& c) {
  return change_mode(c, kAtFdCwd, c.arg(0), static_cast<uint32_t>(c.arg(1)));
}
int64_t sys_fchmodat(SyscallContext& c) {
  return change_mode(c, static_cast<int>(c.arg(0)), c.arg(1), static_cast<uint32_t>(c.arg(2)));
}
int64_t sys_fchmod(SyscallContext& c) {
  File* file = fd_file(*c.process->files, static_cast<int>(c.arg(0)));
  if (file == nullptr) return -rt::kEBADF;
  if (file->inode == nullptr) return 0;  // GAP: pipes and anonymous files have no mode to set
  return set_mode(c, file->inode, static_cast<uint32_t>(c.arg(1)));
}
int64_t sys_chown(SyscallContext& c) {
  return change_owner(c, kAtFdCwd, c.arg(0), c.arg(1), c.arg(2), kFollowLast);
}
int64_t sys_lchown(SyscallContext& c) {
  return change_owner(c, kAtFdCwd, c.arg(0), c.arg(1), c.arg(2), 0);
}
int64_t sys_fchownat(SyscallContext& c) {
  return change_owner(c, static_cast<int>(c.arg(0)), c.arg(1), c.arg(2), c.arg(3),
                      (c.arg(4) & kAtSymlinkNoFollow) != 0 ? 0 : kFollowLast);
}
int64_t sys_fchown(SyscallContext& c) {
  File* file = fd_file(*c.process->files, static_cast<int>(c.arg(0)));
  if (file == nullptr) return -rt::kEBADF;
  if (file->inode == nullptr) return 0;  // GAP: pipes and anonymous files have no owner to set
  return set_owner(c, file->inode, c.arg(1), c.arg(2));
}

int64_t sys_umask(SyscallContext& c) {
  uint32_t old = c.process->umask;
  c.process->umask = static_cast<uint32_t>(c.arg(0)) & 0777;
  return old;
}

// utimensat(dfd, path, times, flags): Linux's lookup and errors; the modification time is the
// only one inodes keep (times[1], UTIME_NOW or UTIME_OMIT; NULL times: now).
namespace {
constexpr int64_t kUtimeNow = (1 << 30) - 1, kUtimeOmit = (1 << 30) - 2;

// The end of utimensat and utimes: `times` (atime, mtime as timespec words) already checked.
int64_t set_times(SyscallContext& c, int dfd, uint64_t path_address, const int64_t (&times)[4],
                  uint64_t flags) {
  Inode* inode = nullptr;
  if (path_address == 0) {  // futimens
    if (dfd == kAtFdCwd) return -rt::kEFAULT;
    File* file = fd_file(*c.process->files, dfd);
    if (file == nullptr) return -rt::kEBADF;
    inode = file->inode;
  } else {
    char path[kPathMax];
    if (auto r = copy_path(c, path_address, path); !r.ok()) return -r.error().code;
    auto found = resolve(c, dfd, path, (flags & kAtSymlinkNoFollow) != 0 ? 0 : kFollowLast);
    if (!found.ok()) return -found.error().code;
    inode = found.value().inode;
  }
  if (inode == nullptr) return 0;
  if (times[1] == kUtimeOmit && times[3] == kUtimeOmit) return 0;
  // Both times "now" (or none given): the owner, root, or whoever may write the file (EACCES);
  // any other time only the owner or root (EPERM).
  const Credentials& who = c.process->credentials;
  if (!owner_or_privileged(who, *inode)) {
    if (times[1] != kUtimeNow || times[3] != kUtimeNow) return -rt::kEPERM;
    if (auto allowed = inode_permission(who, *inode, kMayWrite); !allowed.ok()) {
      return -allowed.error().code;
    }
  }
  if (times[3] == kUtimeOmit) return 0;
  inode->mtime_seconds = times[3] == kUtimeNow ? wall_clock_seconds() : times[2];
  return 0;
}
}  // namespace

int64_t sys_utimensat(SyscallContext& c) {
  uint64_t flags = c.arg(3);
  if ((flags & ~(kAtSymlinkNoFollow | kAtEmptyPath)) != 0) return -rt::kEINVAL;
  int64_t times[4] = {0, kUtimeNow, 0, kUtimeNow};
  if (c.arg(2) != 0) {
    if (!user(c).copy_in(times, c.arg(2), sizeof(times)).ok()) return -rt::kEFAULT;
    for (int i = 0; i < 2; ++i) {
      int64_t nsec = times[2 * i + 1];
      if (nsec != kUtimeNow && nsec != kUtimeOmit && (nsec < 0 || nsec > 999999999)) {
        return -rt::kEINVAL;
      }
    }
  }
  return set_times(c, static_cast<int>(c.arg(0)), c.arg(1), times, flags);
}

// utimes(path, timeval[2]): microseconds 0..999999 (EINVAL otherwise); NULL: now.
int64_t sys_utimes(SyscallContext& c) {
  int64_t times[4] = {0, kUtimeNow, 0, kUtimeNow};
  if (c.arg(1) != 0) {
    int64_t timeval[4];
    if (!user(c).copy_in(timeval, c.arg(1), sizeof(timeval)).ok()) return -rt::kEFAULT;
    for (int i = 0; i < 2; ++i) {
      if (timeval[2 * i + 1] < 0 || timeval[2 * i + 1] > 999999) return -rt::kEINVAL;
      times[2 * i] = timeval[2 * i];
      times[2 * i + 1] = timeval[2 * i + 1] * 1000;
    }
  }
  if (c.arg(0) == 0) return -rt::kEFAULT;
  return set_times(c, kAtFdCwd, c.arg(0), times, 0);
}

}  // namespace posix
