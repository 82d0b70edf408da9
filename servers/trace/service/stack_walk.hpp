// SPDX-License-Identifier: MIT
// Frame-pointer stack walks for bpf_get_stack and bpf_get_stackid (Environment::capture_stack).
#pragma once

#include <stdint.h>

namespace trace {

// Where a walk starts: the registers of a probe hit.
struct StackStart {
  uint64_t ip = 0;
  uint64_t sp = 0;
  uint64_t fp = 0;  // rbp
  // The hit is at a function's first instruction (a kprobe on its entry NOP): its frame is not
  // made yet, so the return address is at sp and fp is still the caller's frame.
  bool at_function_entry = false;
};

// Reads one 8-byte word of the walked memory; false when it cannot be read.
using StackWordReader = bool (*)(void* state, uint64_t address, uint64_t& word);

enum class StackWalkRules {
  // The POSIX server's stack (a kernel stack to programs): frames must lie above sp and each
  // next frame above the last, 8-byte aligned; anything else ends the walk.
  kServer,
  // A Linux process's stack, as Linux's perf_callchain_user: follow the chain while it can be
  // read (the depth bounds it).
  kUser,
};

// Walks the frame-pointer chain from `start`: start.ip first, then return addresses. Skips the
// first `skip` frames and stores at most `max` after them in `ips`. Returns the count stored, or
// -EFAULT when the stack has fewer than `skip` frames.
long walk_stack(const StackStart& start, StackWalkRules rules, StackWordReader read, void* state,
                uint32_t skip, uint64_t* ips, uint32_t max);

}  // namespace trace
