// SPDX-License-Identifier: MIT
// Simulated physical memory for host tests of page tables and the loader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernel/page_table.hpp"

namespace kernel_test {

// Physical memory as an array of 4 KiB frames; physical address = frame index * 4096.
// Frames are handed out in order from frame 1 and are zero, as FrameSource requires.
struct SimulatedMemory {
  explicit SimulatedMemory(size_t frames) : memory(frames * 512, 0), limit(frames) {}
  std::vector<uint64_t> memory;
  size_t next = 1;  // frame 0 is never handed out
  size_t limit;
  size_t allocated = 0;

  static uint64_t allocate(void* state) {
    auto* self = static_cast<SimulatedMemory*>(state);
    if (self->next >= self->limit) return 0;
    ++self->allocated;
    return (self->next++) * kernel::page::kSize;
  }
  static uint64_t* table_at(void* state, uint64_t physical) {
    auto* self = static_cast<SimulatedMemory*>(state);
    return &self->memory[physical / 8];
  }
  kernel::FrameSource source() { return kernel::FrameSource{allocate, table_at, this}; }
  uint8_t* bytes(uint64_t physical) { return reinterpret_cast<uint8_t*>(memory.data()) + physical; }
};

}  // namespace kernel_test
