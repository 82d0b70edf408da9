// SPDX-License-Identifier: MIT
// The Linux records (struct inode, dentry, file) the server's inodes, names and open files
// hold for tracing programs, brought up to date before a Linux-named function is handed one.
#pragma once

#include "kernel/linux_types.h"
#include "vfs/file.hpp"
#include "vfs/inode.hpp"

extern "C" {
// Linux's initial user namespace: the mount user namespace vfs_create and vfs_unlink take
// (defined with the capability checks, task/capability.cpp).
extern struct user_namespace init_user_ns;
}

namespace posix {

// `inode`'s record: i_mode, i_ino, i_nlink, i_size as they are now.
struct inode* linux_inode_of(Inode* inode);
// The dentry of `entry` in `directory` (d_inode NULL while the entry is not linked), with its
// parents' dentries up to the root's.
struct dentry* linux_dentry_of(DirectoryEntry* entry, Inode* directory);
// The dentry an inode is reached by: its entry in the directory it was first linked in (the
// root's dentry for the root and for what is no longer linked there).
struct dentry* linux_dentry_of(Inode* inode);
// Fills a new open file's record (f_flags, f_mode, f_inode, private_data).
void init_linux_file(File* file);
// `file`'s record with f_pos as it is now.
struct file* linux_file_of(File* file);

}  // namespace posix
