// SPDX-License-Identifier: MIT
// File permission checks: whose ids may read, write, execute or search an inode, create or
// delete a name in a directory, or change an inode's mode and owner (Linux's
// generic_permission, may_create, may_delete, inode_owner_or_capable), with EACCES and EPERM.
#pragma once

#include <stdint.h>

#include "rt/result.hpp"
#include "task/credentials.hpp"
#include "vfs/inode.hpp"

namespace posix {

// Linux's MAY_* bits, as access(2)'s X_OK, W_OK and R_OK.
inline constexpr uint32_t kMayExec = 1;
inline constexpr uint32_t kMayWrite = 2;
inline constexpr uint32_t kMayRead = 4;

// `mask` (kMay* bits) on `inode` for `who`'s file system ids: the owner's, the group's or the
// others' bits; with the file system capabilities, everything but executing a file with no
// execute bit at all. EACCES when refused.
rt::Result<void> inode_permission(const Credentials& who, const Inode& inode, uint32_t mask);

// A new name in `directory`: write and search permission on it.
rt::Result<void> may_create(const Credentials& who, const Inode& directory);
// Removing (or renaming away) `victim` from `directory`: write and search permission, and in
// a sticky directory (01000, /tmp) only the file's or the directory's owner (or root): EPERM.
rt::Result<void> may_delete(const Credentials& who, const Inode& directory, const Inode& victim);
// Linux's inode_owner_or_capable: the file's owner or CAP_FOWNER (chmod, utimes' explicit
// times).
bool owner_or_privileged(const Credentials& who, const Inode& inode);

// chmod's rule: EPERM for anyone but the owner (or root); a caller outside the file's group
// loses the set-group-ID bit (Linux's setattr_prepare). Returns the mode bits to keep.
rt::Result<uint32_t> chmod_mode(const Credentials& who, const Inode& inode, uint32_t mode);
// chown's rule: only root changes the owner; the owner may change the group to one of its own
// (its file system gid or a supplementary group); -1 leaves an id. EPERM otherwise.
rt::Result<void> may_chown(const Credentials& who, const Inode& inode, uint32_t uid, uint32_t gid);
// link(2) of `inode` (Linux's may_linkat with Debian's fs.protected_hardlinks = 1): its
// owner, root, or someone who may read and write a regular file that is neither set-user-ID
// nor set-group-ID and executable. EPERM otherwise.
rt::Result<void> may_link(const Credentials& who, const Inode& inode);
// A new inode's owner (Linux's inode_init_owner): the creator's file system uid, and the
// directory's group when the directory is set-group-ID (a new directory inherits that bit),
// else the creator's file system gid.
void init_owner(const Credentials& who, Inode& inode, const Inode& directory);

// The mode after a chown: anything but a directory loses its set-user-ID bit, and its
// set-group-ID bit when group-executable, whoever made the call (root too, as Linux).
uint32_t mode_after_chown(uint32_t mode);

}  // namespace posix
