// SPDX-License-Identifier: MIT
// walk_stack: rbp chains (saved rbp at [fp], return address at [fp + 8]).
#include "stack_walk.hpp"

namespace trace {
namespace {

constexpr long kEfault = -14;
constexpr uint64_t kUserEnd = 0x0000800000000000ull;  // TASK_SIZE_MAX on x86-64 (4-level)

struct Frames {
  uint32_t skip;
  uint64_t* ips;
  uint32_t max;
  uint32_t seen = 0;
  uint32_t stored = 0;
  bool full() const { return stored == max; }
  void add(uint64_t ip) {
    if (seen++ >= skip && stored < max) ips[stored++] = ip;
  }
};

}  // namespace

long walk_stack(const StackStart& start, StackWalkRules rules, StackWordReader read, void* state,
                uint32_t skip, uint64_t* ips, uint32_t max) {
  Frames frames{skip, ips, max};
  bool server = rules == StackWalkRules::kServer;
  frames.add(start.ip);
  if (start.at_function_entry && !frames.full()) {
    uint64_t return_address = 0;
    if (read(state, start.sp, return_address) && return_address != 0) frames.add(return_address);
  }
  uint64_t fp = start.fp;
  uint64_t lowest = start.sp;  // a server frame lies above the stack pointer and the last frame
  // Linux bounds the walk by the depth asked for (skipped frames included); so does this.
  while (!frames.full() && frames.seen < skip + max) {
    if (server && (fp == 0 || (fp & 7) != 0 || fp < lowest)) break;
    if (!server && (fp >= kUserEnd - 16)) break;  // valid_user_frame
    uint64_t next = 0, return_address = 0;
    if (!read(state, fp, next) || !read(state, fp + 8, return_address)) break;
    if (server && return_address == 0) break;
    frames.add(return_address);
    if (server && next <= fp) break;
    lowest = fp + 16;
    fp = next;
  }
  if (frames.seen < skip) return kEfault;
  return frames.stored;
}

}  // namespace trace
