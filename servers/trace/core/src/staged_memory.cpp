// SPDX-License-Identifier: MIT
// StagedMemory: synthetic user addresses for a request's byte ranges, each 4 GiB apart.
#include "trace/staged_memory.hpp"

#include "rt/errno.hpp"

namespace trace {

uint64_t StagedMemory::stage(uint8_t* bytes, uint64_t size, bool writable) {
  if (count_ == kMaxRanges || size >= (uint64_t{1} << 32)) return 0;
  ranges_[count_] = Range{bytes, size, writable};
  return kBase + (uint64_t{count_++} << 32);
}

uint8_t* StagedMemory::find(uint64_t address, uint64_t size, bool write) {
  if (address < kBase) return nullptr;
  uint64_t index = (address - kBase) >> 32;
  uint64_t offset = (address - kBase) & 0xffffffffu;
  if (index >= count_) return nullptr;
  const Range& range = ranges_[index];
  if ((write && !range.writable) || offset > range.size || size > range.size - offset)
    return nullptr;
  return range.bytes + offset;
}

rt::Result<void> StagedMemory::read(void* destination, uint64_t source, uint64_t size) {
  if (size == 0) return {};
  uint8_t* bytes = find(source, size, false);
  if (bytes == nullptr) return rt::err(rt::kEFAULT);
  __builtin_memcpy(destination, bytes, size);
  return {};
}

rt::Result<void> StagedMemory::write(uint64_t destination, const void* source, uint64_t size) {
  if (size == 0) return {};
  uint8_t* bytes = find(destination, size, true);
  if (bytes == nullptr) return rt::err(rt::kEFAULT);
  __builtin_memcpy(bytes, source, size);
  return {};
}

rt::Result<void> StagedMemory::write_attr(uint32_t offset, const void* source, uint32_t size) {
  if (offset > attr_size_ || size > attr_size_ - offset) return rt::err(rt::kEFAULT);
  __builtin_memcpy(attr_ + offset, source, size);
  return {};
}

}  // namespace trace
