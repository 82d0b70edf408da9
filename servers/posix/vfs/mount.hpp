// SPDX-License-Identifier: MIT
// The mount table as /proc/mounts shows it, and which file system a directory is on.
#pragma once

#include <stddef.h>

namespace posix {

struct Inode;

struct Mount {
  char source[64];
  char target[128];
  char type[16];
  Inode* root;  // the directory mounted over (nullptr: the tree's root)
};
inline constexpr size_t kMaxMounts = 32;

const Mount* mount_table(size_t& count);
// The type ("proc", "bpf", ...) of the file system `inode` is on: the newest mount over it or
// over the nearest directory above it.
const char* filesystem_type(const Inode* inode);

}  // namespace posix
