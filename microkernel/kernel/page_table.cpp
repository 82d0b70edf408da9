// SPDX-License-Identifier: MIT
// Page-table walks over any FrameSource.
#include "kernel/page_table.hpp"

namespace kernel {

uint64_t* PageTable::walk(uint64_t virtual_address, bool create, uint64_t table_flags,
                          MapError* error) {
  uint64_t table_physical = root_;
  for (int level = 4; level > 1; --level) {
    uint64_t* table = source_.table_at(source_.state, table_physical);
    uint64_t& entry = table[page::index(virtual_address, level)];
    if ((entry & page::kPresent) == 0) {
      if (!create) {
        *error = MapError::kNotMapped;
        return nullptr;
      }
      uint64_t fresh = source_.allocate_zeroed(source_.state);
      if (fresh == 0) {
        *error = MapError::kNoMemory;
        return nullptr;
      }
      entry = fresh | page::kPresent | page::kWritable | table_flags;
    } else if ((entry & page::kLarge) != 0 && level == 2) {
      *error = MapError::kLargePageInTheWay;
      return nullptr;
    } else {
      entry |= table_flags;  // a user page below needs the user bit at every level
    }
    table_physical = entry & page::kAddressMask;
  }
  uint64_t* table = source_.table_at(source_.state, table_physical);
  return &table[page::index(virtual_address, 1)];
}

MapError PageTable::map(uint64_t virtual_address, uint64_t physical, uint64_t flags) {
  if (!page::is_canonical(virtual_address)) return MapError::kNotCanonical;
  if (virtual_address % page::kSize != 0 || physical % page::kSize != 0)
    return MapError::kUnaligned;
  MapError error = MapError::kNone;
  uint64_t* entry = walk(virtual_address, true, flags & page::kUser, &error);
  if (entry == nullptr) return error;
  if ((*entry & page::kPresent) != 0) return MapError::kAlreadyMapped;
  *entry = physical | page::kPresent | (flags & (page::kWritable | page::kUser | page::kNoExecute));
  return MapError::kNone;
}

MapError PageTable::map_large(uint64_t virtual_address, uint64_t physical, uint64_t flags) {
  if (!page::is_canonical(virtual_address)) return MapError::kNotCanonical;
  if (virtual_address % page::kLargeSize != 0 || physical % page::kLargeSize != 0) {
    return MapError::kUnaligned;
  }
  uint64_t table_physical = root_;
  for (int level = 4; level > 2; --level) {
    uint64_t* table = source_.table_at(source_.state, table_physical);
    uint64_t& entry = table[page::index(virtual_address, level)];
    if ((entry & page::kPresent) == 0) {
      uint64_t fresh = source_.allocate_zeroed(source_.state);
      if (fresh == 0) return MapError::kNoMemory;
      entry = fresh | page::kPresent | page::kWritable | (flags & page::kUser);
    }
    table_physical = entry & page::kAddressMask;
  }
  uint64_t* directory = source_.table_at(source_.state, table_physical);
  uint64_t& entry = directory[page::index(virtual_address, 2)];
  if ((entry & page::kPresent) != 0) return MapError::kAlreadyMapped;
  entry = physical | page::kPresent | page::kLarge |
          (flags & (page::kWritable | page::kUser | page::kNoExecute));
  return MapError::kNone;
}

MapError PageTable::unmap(uint64_t virtual_address, uint64_t* physical) {
  if (!page::is_canonical(virtual_address)) return MapError::kNotCanonical;
  if (virtual_address % page::kSize != 0) return MapError::kUnaligned;
  MapError error = MapError::kNone;
  uint64_t* entry = walk(virtual_address, false, 0, &error);
  if (entry == nullptr) return error;
  if ((*entry & page::kPresent) == 0) return MapError::kNotMapped;
  if (physical != nullptr) *physical = *entry & page::kAddressMask;
  *entry = 0;
  return MapError::kNone;
}

MapError PageTable::protect(uint64_t virtual_address, uint64_t flags) {
  if (!page::is_canonical(virtual_address)) return MapError::kNotCanonical;
  if (virtual_address % page::kSize != 0) return MapError::kUnaligned;
  MapError error = MapError::kNone;
  uint64_t* entry = walk(virtual_address, false, 0, &error);
  if (entry == nullptr) return error;
  if ((*entry & page::kPresent) == 0) return MapError::kNotMapped;
  *entry = (*entry & page::kAddressMask) | page::kPresent |
           (flags & (page::kWritable | page::kUser | page::kNoExecute));
  return MapError::kNone;
}

bool PageTable::translate(uint64_t virtual_address, uint64_t* physical, uint64_t* flags) const {
  if (!page::is_canonical(virtual_address)) return false;
  uint64_t effective = page::kWritable | page::kUser;
  uint64_t no_execute = 0;
  uint64_t leaf = 0;
  uint64_t table_physical = root_;
  for (int level = 4; level >= 1; --level) {
    const uint64_t* table = source_.table_at(source_.state, table_physical);
    uint64_t entry = table[page::index(virtual_address, level)];
    if ((entry & page::kPresent) == 0) return false;
    effective &= entry;
    no_execute |= entry & page::kNoExecute;
    if (level == 2 && (entry & page::kLarge) != 0) {
      if (physical)
        *physical = (entry & page::kAddressMask & ~(page::kLargeSize - 1)) +
                    (virtual_address & (page::kLargeSize - 1));
      if (flags) {
        *flags = page::kPresent | (effective & (page::kWritable | page::kUser)) | no_execute |
                 (entry & page::kBorrowed);
      }
      return true;
    }
    table_physical = entry & page::kAddressMask;
    leaf = entry;
  }
  if (physical) *physical = table_physical + (virtual_address & (page::kSize - 1));
  if (flags) {
    *flags = page::kPresent | (effective & (page::kWritable | page::kUser)) | no_execute |
             (leaf & page::kBorrowed);
  }
  return true;
}

}  // namespace kernel
