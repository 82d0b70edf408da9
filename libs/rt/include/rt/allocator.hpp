// SPDX-License-Identifier: MIT
// Allocator: the one way freestanding code gets memory; callers decide where it comes from.
#pragma once

#include <stddef.h>

namespace rt {

// No hidden pool: every object that needs memory is handed an Allocator by its owner, who
// can account and bound it (the trace server gives each map its own budget).
class Allocator {
 public:
  // Returns nullptr when the request cannot be met; never aborts.
  virtual void* allocate(size_t size, size_t alignment) = 0;
  virtual void deallocate(void* pointer, size_t size) = 0;

 protected:
  ~Allocator() = default;
};

}  // namespace rt
