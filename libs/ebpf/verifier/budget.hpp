// SPDX-License-Identifier: MIT
// The memory budget of one load: counts what the verifier holds and refuses past the cap.
#pragma once

#include <stddef.h>

#include "rt/allocator.hpp"
#include "verifier/log.hpp"

namespace ebpf::verifier {

// Wraps the loader's allocator for one verify() call, so a hostile program can make its
// own load fail but never take more than the loader granted (the trace server serves many).
class BudgetAllocator final : public rt::Allocator {
 public:
  BudgetAllocator(rt::Allocator& backing, size_t budget, VerifierLog& log)
      : backing_(backing), budget_(budget), log_(log) {}

  void* allocate(size_t size, size_t alignment) override {
    if (budget_ != 0 && (size > budget_ || in_use_ > budget_ - size)) {
      if (!exhausted_) {
        log_.print(
            "verifier memory budget of %zu bytes exhausted (%zu in use, %zu more requested)\n",
            budget_, in_use_, size);
      }
      exhausted_ = true;
      return nullptr;
    }
    void* pointer = backing_.allocate(size, alignment);
    if (pointer == nullptr) return nullptr;
    in_use_ += size;
    if (in_use_ > peak_) peak_ = in_use_;
    return pointer;
  }
  void deallocate(void* pointer, size_t size) override {
    in_use_ -= size;
    backing_.deallocate(pointer, size);
  }

  size_t peak() const { return peak_; }
  bool exhausted() const { return exhausted_; }

 private:
  rt::Allocator& backing_;
  size_t budget_;
  VerifierLog& log_;
  size_t in_use_ = 0;
  size_t peak_ = 0;
  bool exhausted_ = false;
};

}  // namespace ebpf::verifier
