// SPDX-License-Identifier: MIT
// MallocAllocator: the rt::Allocator of host tests, fuzzers and benchmarks, counting bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "rt/allocator.hpp"

namespace test_support {

// Backed by aligned_alloc. It counts the sizes callers ask for (not what malloc rounds them
// to), so a test can check that everything was given back (in_use() == 0) and bound what a
// run held at most (peak()) and asked for in all (requested(), allocations()). With a budget it
// fails, as a bounded allocator does, any request that would take in_use() past the budget.
class MallocAllocator final : public rt::Allocator {
 public:
  MallocAllocator() = default;
  explicit MallocAllocator(size_t budget) : budget_(budget) {}
  MallocAllocator(const MallocAllocator&) = delete;
  MallocAllocator& operator=(const MallocAllocator&) = delete;

  void* allocate(size_t size, size_t alignment) override {
    if (in_use_ > budget_ || size > budget_ - in_use_) return nullptr;
    // aligned_alloc wants a power-of-two alignment of at least malloc's own and a size that
    // is a multiple of it.
    size_t align = alignment < alignof(std::max_align_t) ? alignof(std::max_align_t) : alignment;
    size_t rounded = size == 0 ? align : (size + align - 1) / align * align;
    void* pointer = std::aligned_alloc(align, rounded);
    if (pointer == nullptr) return nullptr;
    in_use_ += size;
    if (in_use_ > peak_) peak_ = in_use_;
    requested_ += size;
    ++allocations_;
    return pointer;
  }
  void deallocate(void* pointer, size_t size) override {
    if (pointer == nullptr) return;
    std::free(pointer);
    in_use_ -= size;
  }

  size_t in_use() const { return in_use_; }
  size_t peak() const { return peak_; }
  // Bytes of every request met so far, given back or not.
  uint64_t requested() const { return requested_; }
  // Requests met so far.
  uint64_t allocations() const { return allocations_; }
  size_t budget() const { return budget_; }
  // A budget below in_use() refuses every request until enough is given back.
  void set_budget(size_t budget) { budget_ = budget; }
  // Starts a new measurement of peak() from what is in use now.
  void reset_peak() { peak_ = in_use_; }

 private:
  size_t budget_ = SIZE_MAX;
  size_t in_use_ = 0;
  size_t peak_ = 0;
  uint64_t requested_ = 0;
  uint64_t allocations_ = 0;
};

}  // namespace test_support
