// SPDX-License-Identifier: MIT
// MapMemoryBudget: an allocator that forwards to another and refuses to go past a byte limit.
#pragma once

#include <stddef.h>

#include "rt/allocator.hpp"

namespace ebpf {

// The trace server gives each map (or each client) one of these, so a map creation that
// would exceed the budget fails with ENOMEM, as a memcg limit makes Linux's map_create fail.
// Every byte a map takes is charged here, and destroy_map gives every byte back.
class MapMemoryBudget final : public rt::Allocator {
 public:
  MapMemoryBudget(rt::Allocator& parent, size_t limit) : parent_(parent), limit_(limit) {}

  void* allocate(size_t size, size_t alignment) override {
    if (size > limit_ || used_ > limit_ - size) return nullptr;
    void* memory = parent_.allocate(size, alignment);
    if (memory == nullptr) return nullptr;
    used_ += size;
    if (used_ > peak_) peak_ = used_;
    return memory;
  }

  void deallocate(void* pointer, size_t size) override {
    if (pointer == nullptr) return;
    parent_.deallocate(pointer, size);
    used_ -= size;
  }

  size_t used() const { return used_; }
  size_t peak() const { return peak_; }
  size_t limit() const { return limit_; }
  // Lowering the limit below what is in use refuses new allocations; nothing is taken back.
  void set_limit(size_t limit) { limit_ = limit; }

 private:
  rt::Allocator& parent_;
  size_t limit_;
  size_t used_ = 0;
  size_t peak_ = 0;
};

}  // namespace ebpf
