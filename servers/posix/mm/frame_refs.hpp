// SPDX-License-Identifier: MIT
// How many address spaces map each process frame: after fork parent and child map the same
// frames (copy-on-write), and a frame goes back to the pool when the last of them lets it go.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rt/allocator.hpp"

namespace posix::mm {

// Counts by frame index (the frame's place in the server's frame window), in chunks made on
// first use: the table costs nothing for frames never handed out.
class FrameRefs {
 public:
  static constexpr uint64_t kChunkEntries = 1024;
  static constexpr uint64_t kChunks = 16384;  // 16M frames: 64 GiB of process memory

  explicit FrameRefs(rt::Allocator& allocator) : allocator_(&allocator) {}

  // A new frame: its count becomes 1. False when the count has no memory (or no index).
  bool start(uint64_t index);
  // One more address space maps frame `index`.
  void retain(uint64_t index);
  // One address space lets frame `index` go: the count left (0: nothing maps it any more).
  uint32_t release(uint64_t index);
  uint32_t count(uint64_t index) const;

 private:
  uint32_t* entry(uint64_t index) const;

  rt::Allocator* allocator_;
  uint32_t** chunks_ = nullptr;
};

}  // namespace posix::mm
