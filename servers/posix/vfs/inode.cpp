// SPDX-License-Identifier: MIT
// The in-memory file tree and Linux's path walk over it.
#include "vfs/inode.hpp"

#include <string.h>

#include "rt/new.hpp"
#include "vfs/permission.hpp"

namespace posix {

using rt::err;

FileTree::FileTree(rt::Allocator& allocator) : allocator_(allocator) {
  auto made = make_inode(kTypeDirectory | 0755);
  if (made.ok()) {
    root_ = made.value();
    root_->parent = root_;
    root_->links = 2;
  }
}

rt::Result<Inode*> FileTree::make_inode(uint32_t mode) {
  void* memory = allocator_.allocate(sizeof(Inode), alignof(Inode));
  if (memory == nullptr) return err(rt::kENOMEM);
  auto* inode = new (memory) Inode{};
  inode->number = next_number_++;
  inode->mode = mode;
  inode->links = 1;
  return inode;
}

DirectoryEntry* FileTree::find_entry(Inode* directory, const char* name, size_t length) const {
  for (DirectoryEntry* e = directory->entries; e != nullptr; e = e->next) {
    if (strlen(e->name) == length && memcmp(e->name, name, length) == 0) return e;
  }
  return nullptr;
}

Inode* FileTree::find(Inode* directory, const char* name, size_t length) const {
  DirectoryEntry* entry = find_entry(directory, name, length);
  return entry != nullptr ? entry->inode : nullptr;
}

rt::Result<DirectoryEntry*> FileTree::new_entry(Inode* directory, const char* name, size_t length) {
  if (!directory->is_directory()) return err(rt::kENOTDIR);
  if (length == 0) return err(rt::kENOENT);
  if (length > kNameMax) return err(rt::kENAMETOOLONG);
  if (find(directory, name, length) != nullptr) return err(rt::kEEXIST);
  auto* entry = static_cast<DirectoryEntry*>(
      allocator_.allocate(sizeof(DirectoryEntry), alignof(DirectoryEntry)));
  auto* copy = static_cast<char*>(allocator_.allocate(length + 1, 1));
  if (entry == nullptr || copy == nullptr) {
    if (entry != nullptr) allocator_.deallocate(entry, sizeof(DirectoryEntry));
    if (copy != nullptr) allocator_.deallocate(copy, length + 1);
    return err(rt::kENOMEM);
  }
  memcpy(copy, name, length);
  copy[length] = '\0';
  new (entry) DirectoryEntry{};
  entry->name = copy;
  return entry;
}

void FileTree::link_entry(Inode* directory, DirectoryEntry* entry, Inode* inode) {
  entry->inode = inode;
  entry->order = next_order_++;
  entry->next = directory->entries;
  directory->entries = entry;
  if (inode->is_directory()) {
    set_parent(inode, directory);
    directory->links++;
  } else if (inode->parent == nullptr) {
    set_parent(inode, directory);  // which file system it is on (statfs)
  }
}

void FileTree::free_entry(DirectoryEntry* entry) {
  allocator_.deallocate(entry->name, strlen(entry->name) + 1);
  allocator_.deallocate(entry, sizeof(DirectoryEntry));
}

rt::Result<void> FileTree::link(Inode* directory, const char* name, size_t length, Inode* inode) {
  DirectoryEntry* entry = TRY(new_entry(directory, name, length));
  link_entry(directory, entry, inode);
  return {};
}

size_t FileTree::path_of(const Inode* inode, char* out, size_t capacity) const {
  if (capacity < 2) return 0;
  // Built backwards from the end of `out`, then moved to its start.
  size_t at = capacity - 1;
  out[at] = '\0';
  for (int depth = 0; inode != root_; ++depth) {
    const Inode* parent = inode->parent;
    if (parent == nullptr || depth > 256) return 0;
    const DirectoryEntry* entry = parent->entries;
    while (entry != nullptr && entry->inode != inode) entry = entry->next;
    if (entry == nullptr) return 0;  // unlinked
    size_t length = strlen(entry->name);
    if (length + 1 > at) return 0;
    at -= length;
    memcpy(out + at, entry->name, length);
    out[--at] = '/';
    inode = parent;
  }
  if (at == capacity - 1) out[--at] = '/';  // the root itself
  size_t length = capacity - 1 - at;
  memmove(out, out + at, length + 1);
  return length;
}

rt::Result<void> FileTree::unlink(Inode* directory, const char* name, size_t length) {
  for (DirectoryEntry** at = &directory->entries; *at != nullptr; at = &(*at)->next) {
    DirectoryEntry* e = *at;
    if (strlen(e->name) != length || memcmp(e->name, name, length) != 0) continue;
    *at = e->next;
    if (e->inode->is_directory()) directory->links--;
    Inode* inode = e->inode;
    inode->links--;
    // A directory's last name (it cannot have another but while a rename links it twice): the
    // link its `.` counted goes too, as Linux's rmdir clears the count.
    if (inode->is_directory() && inode->links < 2) inode->links = 0;
    // GAP: an open file's f_path.dentry (vfs_open) is left pointing at the freed entry.
    free_entry(e);
    forget_if_unused(inode);
    return {};
  }
  return err(rt::kENOENT);
}

void FileTree::forget_if_unused(Inode* inode) {
  while (inode != nullptr && inode != root_ && inode->links == 0 && inode->holds == 0 &&
         inode->maps == 0 && inode->remote == nullptr && inode->pinned == nullptr &&
         (!inode->is_directory() || (inode->entries == nullptr && inode->parented == 0))) {
    if (inode->frames != nullptr) {
      inode->frames->release(*inode);
    } else if (inode->owned && inode->data != nullptr) {
      allocator_.deallocate(inode->data, inode->capacity);
    }
    Inode* parent = inode->parent;
    allocator_.deallocate(inode, sizeof(Inode));
    // The parent loses what kept it: a removed directory may go now (it is looked at next).
    if (parent == nullptr || parent == inode || --parent->parented != 0) return;
    inode = parent;
  }
}

void FileTree::set_parent(Inode* inode, Inode* parent) {
  Inode* old = inode->parent;
  if (old == parent) return;
  if (parent != nullptr && parent != inode) parent->parented++;
  inode->parent = parent;
  if (old != nullptr && old != inode && --old->parented == 0) forget_if_unused(old);
}

rt::Result<Inode*> FileTree::create(Inode* directory, const char* path, uint32_t mode) {
  if (path[0] == '/') directory = root_;
  const char* p = path;
  for (;;) {
    while (*p == '/') ++p;
    if (*p == '\0') return directory;  // the path named an existing directory
    const char* end = p;
    while (*end != '\0' && *end != '/') ++end;
    size_t length = static_cast<size_t>(end - p);
    const char* rest = end;
    while (*rest == '/') ++rest;
    bool last = *rest == '\0';
    if (length == 1 && p[0] == '.') {
      if (last) return directory;
      p = end;
      continue;
    }
    if (length == 2 && p[0] == '.' && p[1] == '.') {
      directory = directory->parent;
      if (last) return directory;
      p = end;
      continue;
    }
    Inode* existing = find(directory, p, length);
    if (last) {
      if (existing != nullptr) return err(rt::kEEXIST);
      Inode* inode = TRY(make_inode(mode));
      if (inode->is_directory()) inode->links = 2;
      TRY(link(directory, p, length, inode));
      return inode;
    }
    if (existing == nullptr) {
      existing = TRY(make_inode(kTypeDirectory | 0755));
      existing->links = 2;
      TRY(link(directory, p, length, existing));
    } else if (!existing->is_directory()) {
      return err(rt::kENOTDIR);
    }
    directory = existing;
    p = end;
  }
}

rt::Result<void> FileTree::reserve(Inode* file, uint64_t size) {
  if (file->frames != nullptr) return file->frames->reserve(*file, size);
  if (file->owned && size <= file->capacity) return {};
  uint64_t capacity = file->owned && file->capacity > 0 ? file->capacity : 64;
  while (capacity < size) capacity *= 2;
  auto* bytes = static_cast<uint8_t*>(allocator_.allocate(capacity, 16));
  if (bytes == nullptr) return err(rt::kENOMEM);
  if (file->size > 0) memcpy(bytes, file->data, file->size);
  memset(bytes + file->size, 0, capacity - file->size);
  if (file->owned && file->data != nullptr) allocator_.deallocate(file->data, file->capacity);
  file->data = bytes;
  file->capacity = capacity;
  file->owned = true;
  return {};
}

rt::Result<void> FileTree::set_contents(Inode* file, const uint8_t* data, uint64_t size,
                                        bool copy) {
  if (!copy && file->frames == nullptr) {
    if (file->owned && file->data != nullptr) allocator_.deallocate(file->data, file->capacity);
    file->data = const_cast<uint8_t*>(data);
    file->size = size;
    file->capacity = size;
    file->owned = false;
    return {};
  }
  file->size = 0;
  TRY(reserve(file, size));
  memcpy(file->data, data, size);
  file->size = size;
  return {};
}

namespace {

struct Walker {
  FileTree& tree;
  const Credentials* who;  // whose search permission each directory needs (nullptr: none)
  int symlinks = 0;

  // Walks `path` from `start`; the last component is handled by the flags.
  rt::Result<LookupResult> walk(Inode* start, const char* path, uint32_t flags) {
    if (path[0] == '\0') return err(rt::kENOENT);
    size_t total = strlen(path);
    if (total >= kPathMax) return err(rt::kENAMETOOLONG);
    Inode* directory = path[0] == '/' ? tree.root() : start;
    bool trailing_slash = total > 0 && path[total - 1] == '/';
    const char* p = path;
    LookupResult result;
    result.inode = directory;
    result.parent = directory->parent;
    for (;;) {
      while (*p == '/') ++p;
      if (*p == '\0') return result;  // "/" or a path ending in slashes: the directory
      const char* end = p;
      while (*end != '\0' && *end != '/') ++end;
      size_t length = static_cast<size_t>(end - p);
      if (length > kNameMax) return err(rt::kENAMETOOLONG);
      const char* rest = end;
      while (*rest == '/') ++rest;
      bool last = *rest == '\0';
      if (!directory->is_directory()) return err(rt::kENOTDIR);
      if (who != nullptr) TRY(inode_permission(*who, *directory, kMayExec));
      Inode* next;
      if (length == 1 && p[0] == '.') {
        next = directory;
      } else if (length == 2 && p[0] == '.' && p[1] == '.') {
        next = directory->parent;
      } else {
        next = tree.find(directory, p, length);
        if (directory->remote != nullptr && (next == nullptr || last)) {
          next = TRY(directory->remote->lookup(tree, directory, p, length));
        }
      }
      if (next == nullptr) {
        if (last && (flags & kAllowMissing) != 0) {
          result.inode = nullptr;
          result.parent = directory;
          result.last = p;
          result.last_length = length;
          return result;
        }
        return err(rt::kENOENT);
      }
      bool follow = !last || (flags & kFollowLast) != 0 || trailing_slash;
      if (next->is_symlink() && follow) {
        if (++symlinks > kSymlinkMax) return err(rt::kELOOP);
        char target[kPathMax];
        uint64_t n = next->size < kPathMax - 1 ? next->size : kPathMax - 1;
        memcpy(target, next->data, n);
        target[n] = '\0';
        LookupResult inner = TRY(walk(directory, target, last ? flags : kFollowLast));
        if (last) {
          if (inner.inode == nullptr && trailing_slash) return err(rt::kENOENT);
          if (inner.inode != nullptr && trailing_slash && !inner.inode->is_directory()) {
            return err(rt::kENOTDIR);
          }
          return inner;
        }
        next = inner.inode;
      }
      if (last) {
        if (trailing_slash && !next->is_directory()) return err(rt::kENOTDIR);
        result.inode = next;
        result.parent = directory;
        result.last = p;
        result.last_length = length;
        return result;
      }
      directory = next;
      p = end;
    }
  }
};

}  // namespace

rt::Result<LookupResult> lookup(FileTree& tree, Inode* cwd, const char* path, uint32_t flags,
                                const Credentials* who) {
  Walker walker{tree, who};
  return walker.walk(cwd, path, flags);
}

}  // namespace posix
