// SPDX-License-Identifier: MIT
// The in-memory file tree: inodes (directories, regular files, symlinks, devices) and lookup.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/linux_types.h"
#include "rt/allocator.hpp"
#include "rt/result.hpp"

namespace posix {

// Linux's st_mode file types.
inline constexpr uint32_t kTypeMask = 0170000;
inline constexpr uint32_t kTypeDirectory = 0040000;
inline constexpr uint32_t kTypeRegular = 0100000;
inline constexpr uint32_t kTypeSymlink = 0120000;
inline constexpr uint32_t kTypeCharDevice = 0020000;
inline constexpr uint32_t kTypeFifo = 0010000;

inline constexpr size_t kNameMax = 255;
inline constexpr size_t kPathMax = 4096;
inline constexpr int kSymlinkMax = 40;  // Linux's MAXSYMLINKS

struct Inode;
struct File;
struct Pipe;
class FileTree;

// A file system another server holds (tracefs, the trace server's): its directories are
// inodes of the tree whose entries are brought up to date by asking that server whenever a
// lookup needs a name it does not know, and always for the last name of a path.
class RemoteFileSystem {
 public:
  // `name` in `directory` (an inode of this file system) as the server knows it now: its inode,
  // linked into the directory, or nullptr when there is no such name (an old entry goes).
  virtual rt::Result<Inode*> lookup(FileTree& tree, Inode* directory, const char* name,
                                    size_t length) = 0;

 protected:
  ~RemoteFileSystem() = default;
};

// Where a regular file's bytes live once a process maps it MAP_SHARED: page frames the server
// maps contiguously at the file's `data`, and processes map too (mm/file_pages.hpp), so a store
// through a mapping is a store into the file. The bytes never move again.
class FileFrames {
 public:
  // Room for at least `size` bytes at the same `data` (new pages are zero).
  virtual rt::Result<void> reserve(Inode& file, uint64_t size) = 0;
  // The file goes: its frames (processes' pages keep their own references), its window and this
  // object are given back; `data` and `frames` are cleared.
  virtual void release(Inode& file) = 0;

 protected:
  ~FileFrames() = default;
};

// One name in a directory.
struct DirectoryEntry {
  char* name;
  Inode* inode;  // nullptr until linked (a name being created)
  DirectoryEntry* next;
  // When it was linked, tree-wide: a directory's entries are in falling order (newest first), and
  // a directory reader's position is the order of what it read last (getdents), which stays
  // right however many entries are removed or added meanwhile.
  uint64_t order;
  struct dentry linux_dentry;  // what tracing programs are handed (vfs/linux_objects.cpp)
};

struct Inode {
  uint64_t number;
  uint32_t mode;  // type and permission bits
  uint32_t uid, gid;
  uint32_t links;
  uint32_t device;  // character devices: major << 8 | minor
  int64_t mtime_seconds;
  Inode* parent;  // the directory holding it (the root: itself; a file: where it was first linked)
  DirectoryEntry* entries;  // directories, newest first
  // Regular files and symlinks: the bytes. Files from the initramfs point into it until
  // the first write copies them (`owned` then); a file mapped MAP_SHARED has them in `frames`.
  uint8_t* data;
  uint64_t size;
  uint64_t capacity;
  bool owned;
  FileFrames* frames;
  RemoteFileSystem* remote;  // the file system holding it, if not the tree itself
  File* pinned;              // bpf file system: the object pinned here (a reference to its file)
  Pipe* fifo;                // a FIFO while it is open: its pipe (vfs/fifo.cpp)
  // What else reaches it: open files (File::inode) and processes running it (Process::exe) hold
  // it, areas of processes map it (mm's retain_area_file). An inode with no links, holds or maps
  // is freed with its bytes or frames (FileTree::forget_if_unused).
  uint32_t holds;
  uint32_t maps;
  // Directories: the inodes that name it as their `parent` (set_parent), which keep it.
  uint32_t parented;
  struct inode linux_inode;  // what tracing programs are handed (vfs/linux_objects.cpp)

  bool is_directory() const { return (mode & kTypeMask) == kTypeDirectory; }
  bool is_regular() const { return (mode & kTypeMask) == kTypeRegular; }
  bool is_symlink() const { return (mode & kTypeMask) == kTypeSymlink; }
};

// The tree and its operations; memory comes from the allocator handed in.
class FileTree {
 public:
  explicit FileTree(rt::Allocator& allocator);
  Inode* root() { return root_; }

  rt::Result<Inode*> make_inode(uint32_t mode);
  // Adds `name` (one component) to `directory`; EEXIST when taken.
  rt::Result<void> link(Inode* directory, const char* name, size_t length, Inode* inode);
  // Removes `name` from `directory`; the inode goes too when that was its last link and nothing
  // holds it (forget_if_unused).
  rt::Result<void> unlink(Inode* directory, const char* name, size_t length);
  Inode* find(Inode* directory, const char* name, size_t length) const;
  DirectoryEntry* find_entry(Inode* directory, const char* name, size_t length) const;

  // link() in two steps, so that a name exists before its inode (Linux's negative dentry, which
  // security_inode_create and vfs_create are handed): new_entry checks `name` for `directory`
  // (ENOTDIR, ENOENT, ENAMETOOLONG, EEXIST) and makes its entry, unlinked; link_entry links it
  // to `inode`; free_entry drops an entry that was never linked.
  rt::Result<DirectoryEntry*> new_entry(Inode* directory, const char* name, size_t length);
  void link_entry(Inode* directory, DirectoryEntry* entry, Inode* inode);
  void free_entry(DirectoryEntry* entry);

  // Creates what `path` names below `directory` (absolute paths start at the root);
  // missing parent directories are made (as a cpio archive may omit them).
  rt::Result<Inode*> create(Inode* directory, const char* path, uint32_t mode);

  // Frees `inode` and the bytes it owns (or its frames) when nothing can reach it any more, as
  // Linux's iput of an inode with no links: no names, no holds (open files, a process's exe or
  // working directory, a mount over it), no maps, no pinned object, not a file of another
  // server's file system; a directory also empty and named by no inode as its parent. Its own
  // parent may go with it then.
  void forget_if_unused(Inode* inode);
  // `inode`'s parent becomes `parent` (nullptr: none), which it keeps; the old one is let go.
  void set_parent(Inode* inode, Inode* parent);

  // Replaces a file's bytes with a copy it owns, growing it to at least `size` bytes.
  rt::Result<void> reserve(Inode* file, uint64_t size);
  rt::Result<void> set_contents(Inode* file, const uint8_t* data, uint64_t size, bool copy);

  // The absolute path of `inode` (through the parent it was first linked under), NUL-terminated;
  // its length, or 0 when it is no longer reachable or does not fit.
  size_t path_of(const Inode* inode, char* out, size_t capacity) const;

  rt::Allocator& allocator() { return allocator_; }

 private:
  rt::Allocator& allocator_;
  Inode* root_ = nullptr;
  uint64_t next_number_ = 1;
  uint64_t next_order_ = 1;
};

// Path resolution as Linux's: `.`, `..` (the root's parent is itself), symlinks (relative to
// the directory holding them, at most kSymlinkMax), ENOENT, ENOTDIR, ENAMETOOLONG, ELOOP.
struct LookupResult {
  Inode* inode = nullptr;      // what the path names (nullptr: the last component is missing)
  Inode* parent = nullptr;     // the directory holding the last component
  const char* last = nullptr;  // the last component inside the path (not NUL-terminated)
  size_t last_length = 0;
};

enum LookupFlags : uint32_t {
  kFollowLast = 1,    // a symlink as the last component is followed
  kAllowMissing = 2,  // the last component may be missing (creation): inode is nullptr then
};

struct Credentials;
// With `who`, each directory a name is looked up in must let `who` search it (EACCES), as
// Linux's may_lookup; without, nothing is checked (the server's own lookups).
rt::Result<LookupResult> lookup(FileTree& tree, Inode* cwd, const char* path, uint32_t flags,
                                const Credentials* who = nullptr);

}  // namespace posix
