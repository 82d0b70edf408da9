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
// Whether a file system is mounted over `inode` (rmdir and rename of it are EBUSY, as Linux's).
bool is_mount_root(const Inode* inode);
// /proc/mounts (and /proc/<pid>/mounts): Linux's "source target type options 0 0" lines.
size_t format_mounts(char* out, size_t capacity);
// /proc/<pid>/mountinfo as Linux's show_mountinfo: mount id, parent id (the mount the target is
// on; the root's is its own), major:minor, root, mount point, options, "-", type, source, super
// options. Ids are 1 + the table's index. GAP: every mount shows device 0:1 (what stat shows as
// st_dev for every file), and no propagation fields (no shared mounts).
size_t format_mountinfo(char* out, size_t capacity);
// The type ("proc", "bpf", ...) of the file system `inode` is on: the newest mount over it or
// over the nearest directory above it.
const char* filesystem_type(const Inode* inode);

}  // namespace posix
