// SPDX-License-Identifier: MIT
// The Linux records of inodes, names and open files (kernel/linux_types.h), refreshed from the
// file tree when a Linux-named function is handed one.
#include "vfs/linux_objects.hpp"

#include <string.h>

#include "task/process.hpp"

namespace posix {

namespace {

// The file tree's super_block: st_dev 1 (MKDEV(0, 1)), a tmpfs as the root is (statfs).
struct super_block tree_super_block = {.s_dev = 1, .s_magic = 0x01021994};

// A device number as stat shows it (new_encode_dev) in the kernel's form (MKDEV).
__kernel_dev_t kernel_dev(uint64_t encoded) {
  auto major = static_cast<uint32_t>((encoded >> 8) & 0xfff);
  auto minor = static_cast<uint32_t>((encoded & 0xff) | ((encoded >> 12) & 0xfff00));
  return major << 20 | minor;
}

// The root directory's dentry, "/", its own parent (as Linux's).
struct dentry root_dentry = {};

struct dentry* root_dentry_of(Inode* root) {
  root_dentry.d_parent = &root_dentry;
  root_dentry.d_name.len = 1;
  root_dentry.d_iname[0] = '/';
  root_dentry.d_name.name = root_dentry.d_iname;
  root_dentry.d_inode = linux_inode_of(root);
  return &root_dentry;
}

// `entry`'s own fields; its parent is the root's until the caller knows better.
struct dentry* fill_dentry(DirectoryEntry* entry) {
  struct dentry& dentry = entry->linux_dentry;
  size_t length = strlen(entry->name);
  if (length < sizeof(dentry.d_iname)) {
    memcpy(dentry.d_iname, entry->name, length + 1);
    dentry.d_name.name = dentry.d_iname;
  } else {
    dentry.d_name.name = reinterpret_cast<const unsigned char*>(entry->name);
  }
  dentry.d_name.hash = 0;
  dentry.d_name.len = static_cast<u32>(length);
  dentry.d_inode = entry->inode != nullptr ? linux_inode_of(entry->inode) : nullptr;
  dentry.d_fsdata = entry;
  dentry.d_parent = &root_dentry;
  return &dentry;
}

// Linux's f_flags: the open flags without those that only act at the open (do_dentry_open).
unsigned int linux_file_flags(uint32_t flags) {
  return flags & ~(kO_CREAT | kO_EXCL | kO_NOCTTY | kO_TRUNC);
}

// The entry naming `inode` in the directory it was first linked in.
DirectoryEntry* entry_of(Inode* inode) {
  if (inode->parent == nullptr) return nullptr;
  for (DirectoryEntry* e = inode->parent->entries; e != nullptr; e = e->next) {
    if (e->inode == inode) return e;
  }
  return nullptr;
}

}  // namespace

struct inode* linux_inode_of(Inode* inode) {
  struct inode& record = inode->linux_inode;
  record.i_mode = static_cast<umode_t>(inode->mode);
  record.i_ino = inode->number;
  record.i_nlink = inode->links;
  record.i_size = static_cast<__kernel_loff_t>(inode->size);
  record.i_sb = &tree_super_block;
  record.i_rdev = (inode->mode & kTypeMask) == kTypeCharDevice ? kernel_dev(inode->device) : 0;
  record.i_private = inode;
  return &record;
}

struct dentry* linux_dentry_of(DirectoryEntry* entry, Inode* directory) {
  Inode* root = file_tree().root();
  root_dentry_of(root);
  struct dentry* dentry = fill_dentry(entry);
  struct dentry* child = dentry;
  for (int depth = 0; directory != root && depth < kSymlinkMax * 8; ++depth) {
    DirectoryEntry* up = entry_of(directory);
    if (up == nullptr) break;  // a directory no longer linked: it hangs off the root
    child->d_parent = fill_dentry(up);
    child = child->d_parent;
    directory = directory->parent;
  }
  return dentry;
}

struct dentry* linux_dentry_of(Inode* inode) {
  Inode* root = file_tree().root();
  DirectoryEntry* entry = inode != root ? entry_of(inode) : nullptr;
  if (entry == nullptr) return root_dentry_of(root);
  return linux_dentry_of(entry, inode->parent);
}

void init_linux_file(File* file) {
  struct file& record = file->linux_file;
  record.f_flags = linux_file_flags(file->flags);
  uint32_t access = file->flags & kO_ACCMODE;
  record.f_mode = (access == kO_RDONLY || access == kO_RDWR ? FMODE_READ : 0) |
                  (access == kO_WRONLY || access == kO_RDWR ? FMODE_WRITE : 0);
  record.f_inode = file->inode != nullptr ? linux_inode_of(file->inode) : nullptr;
  record.private_data = file;
}

struct file* linux_file_of(File* file) {
  file->linux_file.f_flags = linux_file_flags(file->flags);  // fcntl(F_SETFL) changes them
  file->linux_file.f_pos = static_cast<__kernel_loff_t>(file->position);
  if (file->inode != nullptr) linux_inode_of(file->inode);
  return &file->linux_file;
}

}  // namespace posix
