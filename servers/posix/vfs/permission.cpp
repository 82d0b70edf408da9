// SPDX-License-Identifier: MIT
// File permission checks (permission.hpp), from the man pages (path_resolution(7), chmod(2),
// chown(2), unlink(2)) and Linux's observable behaviour.
#include "vfs/permission.hpp"

namespace posix {

namespace {

constexpr uint32_t kSetUid = 04000, kSetGid = 02000, kSticky = 01000, kGroupExecute = 010;
constexpr uint32_t kAnyExecute = 0111;

}  // namespace

rt::Result<void> inode_permission(const Credentials& who, const Inode& inode, uint32_t mask) {
  mask &= kMayRead | kMayWrite | kMayExec;
  uint32_t bits = inode.mode;
  if (who.fsuid == inode.uid) {
    bits >>= 6;
  } else if (who.in_group(inode.gid)) {
    bits >>= 3;
  }
  if ((mask & ~bits & 7) == 0) return {};
  // CAP_DAC_OVERRIDE (and CAP_DAC_READ_SEARCH): directories may always be read and searched
  // and written; other files read and written, and executed when someone may execute them.
  if (who.fs_privileged() &&
      (inode.is_directory() || (mask & kMayExec) == 0 || (inode.mode & kAnyExecute) != 0)) {
    return {};
  }
  return rt::err(rt::kEACCES);
}

rt::Result<void> may_create(const Credentials& who, const Inode& directory) {
  return inode_permission(who, directory, kMayWrite | kMayExec);
}

rt::Result<void> may_delete(const Credentials& who, const Inode& directory, const Inode& victim) {
  TRY(inode_permission(who, directory, kMayWrite | kMayExec));
  if ((directory.mode & kSticky) != 0 && victim.uid != who.fsuid && directory.uid != who.fsuid &&
      !who.fs_privileged()) {
    return rt::err(rt::kEPERM);
  }
  return {};
}

bool owner_or_privileged(const Credentials& who, const Inode& inode) {
  return who.fsuid == inode.uid || who.fs_privileged();
}

rt::Result<uint32_t> chmod_mode(const Credentials& who, const Inode& inode, uint32_t mode) {
  if (!owner_or_privileged(who, inode)) return rt::err(rt::kEPERM);
  mode &= 07777;
  // CAP_FSETID: only a member of the file's group (or root) may set the set-group-ID bit.
  if (!who.in_group(inode.gid) && !who.fs_privileged()) mode &= ~kSetGid;
  return mode;
}

rt::Result<void> may_chown(const Credentials& who, const Inode& inode, uint32_t uid, uint32_t gid) {
  if (who.fs_privileged()) return {};  // CAP_CHOWN
  bool owner = who.fsuid == inode.uid;
  if (uid != Credentials::kNoChange && !(owner && uid == inode.uid)) return rt::err(rt::kEPERM);
  if (gid != Credentials::kNoChange && !(owner && (gid == inode.gid || who.in_group(gid)))) {
    return rt::err(rt::kEPERM);
  }
  return {};
}

rt::Result<void> may_link(const Credentials& who, const Inode& inode) {
  if (owner_or_privileged(who, inode)) return {};
  bool set_id = (inode.mode & kSetUid) != 0 ||
                (inode.mode & (kSetGid | kGroupExecute)) == (kSetGid | kGroupExecute);
  if (inode.is_regular() && !set_id && inode_permission(who, inode, kMayRead | kMayWrite).ok()) {
    return {};
  }
  return rt::err(rt::kEPERM);
}

void init_owner(const Credentials& who, Inode& inode, const Inode& directory) {
  inode.uid = who.fsuid;
  if ((directory.mode & kSetGid) != 0) {
    inode.gid = directory.gid;
    if (inode.is_directory()) inode.mode |= kSetGid;
  } else {
    inode.gid = who.fsgid;
  }
}

uint32_t mode_after_chown(uint32_t mode) {
  if ((mode & kTypeMask) == kTypeDirectory) return mode;
  mode &= ~kSetUid;
  if ((mode & kGroupExecute) != 0) mode &= ~kSetGid;
  return mode;
}

}  // namespace posix
