// SPDX-License-Identifier: MIT
// An rt::Allocator over malloc for host tests, counting what is live.
#pragma once

#include <cstdlib>

#include "rt/allocator.hpp"

class HostAllocator final : public rt::Allocator {
 public:
  void* allocate(size_t size, size_t alignment) override {
    if (size == 0) size = 1;
    size_t rounded = (size + alignment - 1) / alignment * alignment;
    ++live;
    return std::aligned_alloc(alignment < sizeof(void*) ? sizeof(void*) : alignment, rounded);
  }
  void deallocate(void* pointer, size_t) override {
    if (pointer != nullptr) --live;
    std::free(pointer);
  }
  long live = 0;
};
