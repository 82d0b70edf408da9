// SPDX-License-Identifier: MIT
// Reference counts of process frames, by index, in chunks made on first use.
#include "mm/frame_refs.hpp"

namespace posix::mm {

uint32_t* FrameRefs::entry(uint64_t index) const {
  if (chunks_ == nullptr || index >= kChunks * kChunkEntries) return nullptr;
  uint32_t* chunk = chunks_[index / kChunkEntries];
  return chunk != nullptr ? &chunk[index % kChunkEntries] : nullptr;
}

bool FrameRefs::start(uint64_t index) {
  if (index >= kChunks * kChunkEntries) return false;
  if (chunks_ == nullptr) {
    void* table = allocator_->allocate(kChunks * sizeof(uint32_t*), alignof(uint32_t*));
    if (table == nullptr) return false;
    chunks_ = static_cast<uint32_t**>(table);
    for (uint64_t i = 0; i < kChunks; ++i) chunks_[i] = nullptr;
  }
  uint32_t*& chunk = chunks_[index / kChunkEntries];
  if (chunk == nullptr) {
    void* memory = allocator_->allocate(kChunkEntries * sizeof(uint32_t), alignof(uint32_t));
    if (memory == nullptr) return false;
    chunk = static_cast<uint32_t*>(memory);
    for (uint64_t i = 0; i < kChunkEntries; ++i) chunk[i] = 0;
  }
  chunk[index % kChunkEntries] = 1;
  return true;
}

void FrameRefs::retain(uint64_t index) {
  if (uint32_t* count = entry(index)) ++*count;
}

uint32_t FrameRefs::release(uint64_t index) {
  uint32_t* count = entry(index);
  if (count == nullptr || *count == 0) return 0;
  return --*count;
}

uint32_t FrameRefs::count(uint64_t index) const {
  const uint32_t* count = entry(index);
  return count != nullptr ? *count : 0;
}

}  // namespace posix::mm
