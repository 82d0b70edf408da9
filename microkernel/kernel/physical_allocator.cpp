// SPDX-License-Identifier: MIT
// PhysicalAllocator: bitmap of free frames with a rotating search hint.
#include "kernel/physical_allocator.hpp"

namespace kernel {

size_t PhysicalAllocator::bitmap_bytes(uint64_t highest_address) {
  uint64_t frames = (highest_address + kFrameSize - 1) / kFrameSize;
  return ((frames + 63) / 64) * 8;
}

void PhysicalAllocator::init(uint64_t* bitmap, size_t frame_count) {
  bitmap_ = bitmap;
  frame_count_ = frame_count;
  free_count_ = 0;
  search_hint_ = 0;
  for (size_t i = 0; i < (frame_count + 63) / 64; ++i) bitmap_[i] = 0;
}

void PhysicalAllocator::set_free(size_t frame, bool free) {
  uint64_t bit = uint64_t{1} << (frame % 64);
  bool was_free = (bitmap_[frame / 64] & bit) != 0;
  if (free == was_free) return;
  if (free) {
    bitmap_[frame / 64] |= bit;
    ++free_count_;
  } else {
    bitmap_[frame / 64] &= ~bit;
    --free_count_;
  }
}

void PhysicalAllocator::add_free_range(uint64_t start, uint64_t end) {
  uint64_t first = (start + kFrameSize - 1) / kFrameSize;
  uint64_t last = end / kFrameSize;  // exclusive
  if (first == 0) first = 1;         // physical page 0 stays reserved (null, real-mode IVT)
  if (last > frame_count_) last = frame_count_;
  for (uint64_t frame = first; frame < last; ++frame) set_free(frame, true);
}

void PhysicalAllocator::reserve_range(uint64_t start, uint64_t end) {
  if (end <= start) return;
  uint64_t first = start / kFrameSize;
  uint64_t last = (end + kFrameSize - 1) / kFrameSize;
  if (last > frame_count_) last = frame_count_;
  for (uint64_t frame = first; frame < last; ++frame) set_free(frame, false);
}

uint64_t PhysicalAllocator::allocate() {
  if (free_count_ == 0) return 0;
  size_t words = (frame_count_ + 63) / 64;
  for (size_t n = 0; n < words; ++n) {
    size_t word = (search_hint_ + n) % words;
    uint64_t bits = bitmap_[word];
    if (bits == 0) continue;
    size_t frame = word * 64 + static_cast<size_t>(__builtin_ctzll(bits));
    set_free(frame, false);
    search_hint_ = word;
    return frame * kFrameSize;
  }
  return 0;
}

bool PhysicalAllocator::free(uint64_t physical) {
  if (physical % kFrameSize != 0 || physical == 0) return false;
  size_t frame = physical / kFrameSize;
  if (frame >= frame_count_ || is_free(physical)) return false;
  set_free(frame, true);
  return true;
}

bool PhysicalAllocator::is_free(uint64_t physical) const {
  size_t frame = physical / kFrameSize;
  if (frame >= frame_count_) return false;
  return (bitmap_[frame / 64] >> (frame % 64)) & 1;
}

uint64_t PhysicalAllocator::allocate_block(unsigned size_bits) {
  if (size_bits < 12 || size_bits > 40) return 0;
  size_t frames = size_t{1} << (size_bits - 12);
  for (size_t first = frames; first + frames <= frame_count_; first += frames) {
    size_t i = 0;
    while (i < frames && is_free((first + i) * kFrameSize)) ++i;
    if (i < frames) continue;
    for (i = 0; i < frames; ++i) set_free(first + i, false);
    return first * kFrameSize;
  }
  return 0;
}

bool PhysicalAllocator::take_free_block(uint64_t& physical, unsigned& size_bits) {
  size_t frame = 1;
  while (frame < frame_count_ && !is_free(frame * kFrameSize)) ++frame;
  if (frame >= frame_count_) return false;
  size_t end = frame;
  while (end < frame_count_ && is_free(end * kFrameSize)) ++end;
  // The largest naturally aligned power-of-two block starting at `frame` inside the run.
  unsigned bits = 0;
  while (bits < 35 && frame % (size_t{2} << bits) == 0 && frame + (size_t{2} << bits) <= end) {
    ++bits;
  }
  for (size_t i = 0; i < (size_t{1} << bits); ++i) set_free(frame + i, false);
  physical = frame * kFrameSize;
  size_bits = bits + 12;
  return true;
}

}  // namespace kernel
