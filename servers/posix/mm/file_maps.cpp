// SPDX-License-Identifier: MIT
// The per-process record of what mappings map (/proc/<pid>/maps' offset, inode and path).
#include "mm/file_maps.hpp"

namespace posix::mm {

void FileMaps::add(uint64_t start, uint64_t end, const Inode* inode, uint64_t offset, bool shared,
                   const char* name) {
  remove(start, end);
  if (start >= end || count_ == kMax) return;
  entries_[count_++] = FileMapping{start, end, inode, offset, name, shared};
}

void FileMaps::remove(uint64_t start, uint64_t end) {
  for (size_t i = 0; i < count_;) {
    FileMapping m = entries_[i];
    if (m.end <= start || m.start >= end) {
      ++i;
      continue;
    }
    entries_[i] = entries_[--count_];
    if (m.start < start) {
      FileMapping before = m;
      before.end = start;
      entries_[count_++] = before;
    }
    if (m.end > end && count_ < kMax) {
      FileMapping after = m;
      after.start = end;
      after.offset += end - m.start;
      entries_[count_++] = after;
    }
  }
}

const FileMapping* FileMaps::find(uint64_t address) const {
  for (size_t i = 0; i < count_; ++i) {
    if (address >= entries_[i].start && address < entries_[i].end) return &entries_[i];
  }
  return nullptr;
}

uint64_t FileMaps::next_boundary(uint64_t after, uint64_t before) const {
  uint64_t best = before;
  for (size_t i = 0; i < count_; ++i) {
    if (entries_[i].start > after && entries_[i].start < best) best = entries_[i].start;
    if (entries_[i].end > after && entries_[i].end < best) best = entries_[i].end;
  }
  return best;
}

}  // namespace posix::mm
