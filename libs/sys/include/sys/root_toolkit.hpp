// SPDX-License-Identifier: MIT
// A root task's toolkit: find the largest untyped cap in the boot info, and retype objects from
// it into the next free slots of the root CNode (slot n = cptr n). The root task, kernel-tests
// and kernel-bench share it.
#pragma once

#include <stdint.h>

#include "sonde/abi/ipc.hpp"
#include "sonde/abi/objects.hpp"
#include "sys/ipc.hpp"

namespace sys {

// The slot of the largest untyped cap `boot` describes (the first of equal ones).
inline uint64_t largest_untyped(const sonde::abi::BootInfo& boot) {
  uint64_t best = 0;
  for (uint64_t i = 1; i < boot.untyped_count; ++i) {
    if (boot.untyped[i].size_bits > boot.untyped[best].size_bits) best = i;
  }
  return boot.untyped_first + best;
}

// A new object of `type` from `untyped` in slot `next_slot` of `root`, which then moves on (a
// slot is used once, even when the retype fails, so a failed step cannot be mistaken for a
// later one's object).
inline sonde::abi::Error retype_next(uint64_t untyped, uint64_t root, uint64_t& next_slot,
                                     sonde::abi::ObjectType type, uint64_t size_bits,
                                     uint64_t& slot) {
  slot = next_slot++;
  return retype(untyped, type, size_bits, root, slot);
}

}  // namespace sys
