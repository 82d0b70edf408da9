// SPDX-License-Identifier: MIT
// PhysicalAllocator: 4 KiB frames of RAM from the boot memory map, one bit per frame.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace kernel {

inline constexpr uint64_t kFrameSize = 4096;

class PhysicalAllocator {
 public:
  // `bitmap` holds one bit per frame for frames [0, frame_count); every frame starts reserved.
  void init(uint64_t* bitmap, size_t frame_count);
  // The same bitmap, now reached through another virtual address (the kernel switches from
  // its boot mapping to the direct map while the allocator is live).
  void move_bitmap(uint64_t* bitmap) { bitmap_ = bitmap; }
  // Marks whole frames inside [start, end) free (the range is shrunk to frame boundaries).
  void add_free_range(uint64_t start, uint64_t end);
  // Marks every frame touching [start, end) reserved (the range is grown to frame boundaries).
  void reserve_range(uint64_t start, uint64_t end);
  // A free frame's physical address, or 0 when none is left (frame 0 is never handed out).
  uint64_t allocate();
  // Returns a frame; false (and no change) for an address that is unaligned, out of range or
  // already free.
  bool free(uint64_t physical);
  bool is_free(uint64_t physical) const;
  // A naturally aligned block of 2^size_bits bytes (size_bits 12..40), or 0 when none is free.
  uint64_t allocate_block(unsigned size_bits);
  // Takes the lowest free frame's largest naturally aligned power-of-two block of free frames
  // (to hand out as untyped memory); false when no frame is free.
  bool take_free_block(uint64_t& physical, unsigned& size_bits);
  size_t free_frames() const { return free_count_; }
  size_t frame_count() const { return frame_count_; }

  // Bytes of bitmap needed to describe memory up to `highest_address`.
  static size_t bitmap_bytes(uint64_t highest_address);

 private:
  void set_free(size_t frame, bool free);
  uint64_t* bitmap_ = nullptr;  // bit set = free
  size_t frame_count_ = 0;
  size_t free_count_ = 0;
  size_t search_hint_ = 0;
};

}  // namespace kernel
