// SPDX-License-Identifier: MIT
// What each mapping of a process maps, as /proc/<pid>/maps names it: the file (and where in it)
// of ELF segments and file mmaps, shared anonymous memory, the trace server's objects. The
// address space's areas say what is mapped; this table says what it came from.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace posix {

struct Inode;

namespace mm {

struct FileMapping {
  uint64_t start, end;  // page-aligned, [start, end)
  const Inode* inode;   // the file (nullptr: anonymous)
  uint64_t offset;      // the offset at `start` in the file (or the anon inode object)
  const char* name;     // anonymous mappings with a name ("anon_inode:bpf-map"), else nullptr
  bool shared;          // MAP_SHARED (the maps line's 's')
};

class FileMaps {
 public:
  static constexpr size_t kMax = 64;

  void clear() { count_ = 0; }
  // Records [start, end) as mapping `inode` from `offset` (what was recorded there goes).
  // GAP: beyond kMax records a mapping shows as anonymous.
  void add(uint64_t start, uint64_t end, const Inode* inode, uint64_t offset, bool shared,
           const char* name = nullptr);
  // Forgets [start, end) (munmap, MAP_FIXED): records are cut, their offsets kept right.
  void remove(uint64_t start, uint64_t end);
  // The record covering `address`, or nullptr.
  const FileMapping* find(uint64_t address) const;
  // Every record, in no order.
  size_t count() const { return count_; }
  const FileMapping& at(size_t index) const { return entries_[index]; }
  // The lowest record boundary in (after, before), or `before` when there is none.
  uint64_t next_boundary(uint64_t after, uint64_t before) const;

 private:
  FileMapping entries_[kMax];
  size_t count_ = 0;
};

}  // namespace mm
}  // namespace posix
