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
  // Linux's generic_permission: CAP_DAC_READ_SEARCH reads and searches directories and reads
  // files, CAP_DAC_OVERRIDE does anything to directories and reads and writes files, and
  // executes them when someone may execute them (asked in this order).
  if (inode.is_directory()) {
    if ((mask & kMayWrite) == 0 && who.capable(kCapDacReadSearch)) return {};
    if (who.capable(kCapDacOverride)) return {};
    return rt::err(rt::kEACCES);
  }
  if (mask == kMayRead && who.capable(kCapDacReadSearch)) return {};
  if (((mask & kMayExec) == 0 || (inode.mode & kAnyExecute) != 0) && who.capable(kCapDacOverride)) {
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
      !who.capable(kCapFowner)) {
    return rt::err(rt::kEPERM);
  }
  return {};
}

bool owner_or_privileged(const Credentials& who, const Inode& inode) {
  return who.fsuid == inode.uid || who.capable(kCapFowner);
}

rt::Result<uint32_t> chmod_mode(const Credentials& who, const Inode& inode, uint32_t mode) {
  if (!owner_or_privileged(who, inode)) return rt::err(rt::kEPERM);
  mode &= 07777;
  // CAP_FSETID: only a member of the file's group (or root) may set the set-group-ID bit.
  // Linux asks twice, in setattr_prepare and again in setattr_copy.
  for (int i = 0; i < 2; ++i) {
    if (!who.in_group(inode.gid) && !who.capable(kCapFsetid)) mode &= ~kSetGid;
  }
  return mode;
}

rt::Result<void> may_chown(const Credentials& who, const Inode& inode, uint32_t uid, uint32_t gid) {
  // Linux's chown_ok and chgrp_ok: the owner may keep the owner and pick one of its groups;
  // anything else takes CAP_CHOWN.
  bool owner = who.fsuid == inode.uid;
  if (uid != Credentials::kNoChange && !(owner && uid == inode.uid) && !who.capable(kCapChown)) {
    return rt::err(rt::kEPERM);
  }
  if (gid != Credentials::kNoChange && !(owner && (gid == inode.gid || who.in_group(gid))) &&
      !who.capable(kCapChown)) {
    return rt::err(rt::kEPERM);
  }
  return {};
}

rt::Result<void> may_link(const Credentials& who, const Inode& inode) {
  // Linux's may_linkat: a safe source first, then the owner (or CAP_FOWNER).
  bool set_id = (inode.mode & kSetUid) != 0 ||
                (inode.mode & (kSetGid | kGroupExecute)) == (kSetGid | kGroupExecute);
  if (inode.is_regular() && !set_id && inode_permission(who, inode, kMayRead | kMayWrite).ok()) {
    return {};
  }
  if (owner_or_privileged(who, inode)) return {};
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
