// SPDX-License-Identifier: MIT
// ForwardedMemory: reads from the ranges a call carried, misses, and the write log.
#include "trace/forwarded_memory.hpp"

#include "rt/errno.hpp"

namespace trace {

ForwardedMemory::Found ForwardedMemory::find(uint64_t address, uint64_t size,
                                             const uint8_t*& bytes) const {
  if (size > UINT64_MAX - address) return Found::kFault;  // wraps: never a valid pointer
  // The latest range first: a later call's range may cover more than an earlier one.
  for (uint32_t i = range_count_; i-- > 0;) {
    const Range& range = ranges_[i];
    if (address < range.address || address - range.address > range.length ||
        size > range.length - (address - range.address)) {
      continue;
    }
    uint64_t offset = address - range.address;
    if (offset <= range.available && size <= range.available - offset) {
      bytes = range.data + offset;
      return Found::kBytes;
    }
    return Found::kFault;
  }
  return Found::kMissing;
}

void ForwardedMemory::record_miss(uint64_t address, uint64_t size) {
  if (missed_) return;
  missed_ = true;
  miss_ = Miss{address, size};
}

rt::Result<void> ForwardedMemory::read(void* destination, uint64_t source, uint64_t size) {
  if (size == 0) return {};
  const uint8_t* bytes = nullptr;
  switch (find(source, size, bytes)) {
    case Found::kBytes: __builtin_memcpy(destination, bytes, size); return {};
    case Found::kFault: return rt::err(rt::kEFAULT);
    case Found::kMissing: record_miss(source, size); return rt::err(rt::kEFAULT);
  }
  return rt::err(rt::kEFAULT);
}

rt::Result<uint64_t> ForwardedMemory::read_string(char* destination, uint64_t source,
                                                  uint64_t size) {
  // A string is asked for whole (its longest length): the POSIX server copies what is readable.
  for (uint32_t i = range_count_; i-- > 0;) {
    const Range& range = ranges_[i];
    if (source < range.address || source - range.address >= range.length) continue;
    uint64_t offset = source - range.address;
    for (uint64_t n = 0; n < size; ++n) {
      if (offset + n >= range.length) break;  // past this range: ask for the rest
      if (offset + n >= range.available) return rt::err(rt::kEFAULT);
      destination[n] = static_cast<char>(range.data[offset + n]);
      if (destination[n] == 0) return n;
      if (n + 1 == size) return size;
    }
  }
  if (size == 0) return uint64_t{0};
  record_miss(source, size);
  return rt::err(rt::kEFAULT);
}

rt::Result<void> ForwardedMemory::prefetch(uint64_t source, uint64_t size) {
  if (size == 0) return {};
  const uint8_t* bytes = nullptr;
  if (find(source, size, bytes) != Found::kMissing) return {};
  record_miss(source, size);
  return rt::err(rt::kEFAULT);
}

rt::Result<void> ForwardedMemory::write(uint64_t destination, const void* source, uint64_t size) {
  if (size == 0) return {};
  uint64_t padded = (size + 7) & ~uint64_t{7};
  if (size > capacity_ || padded + sizeof(WriteHeader) > capacity_ - used_) {
    overflowed_ = true;
    return rt::err(rt::kEFAULT);
  }
  WriteHeader header{destination, size};
  __builtin_memcpy(log_ + used_, &header, sizeof header);
  __builtin_memcpy(log_ + used_ + sizeof header, source, size);
  for (uint64_t i = size; i < padded; ++i) log_[used_ + sizeof header + i] = 0;
  used_ += sizeof header + padded;
  return {};
}

rt::Result<void> ForwardedMemory::write_attr(uint32_t offset, const void* source, uint32_t size) {
  return write(attr_address_ + offset, source, size);
}

}  // namespace trace
