// SPDX-License-Identifier: MIT
// set_event_pid: the tasks whose events the trace keeps (none listed: every task's), as Linux's.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rt/allocator.hpp"
#include "rt/result.hpp"
#include "trace/text_buffer.hpp"
#include "trace/vector.hpp"

namespace trace {

class EventPids {
 public:
  explicit EventPids(rt::Allocator& allocator) : allocator_(allocator), pids_(allocator) {}

  // A write: pids separated by white space, each as kstrtoul with base 0 reads it (decimal,
  // 0x hex, 0 octal); `truncate` (the O_TRUNC open) empties the list first, whatever the rest
  // does. A token that is no pid is EINVAL and the write adds none of its pids.
  [[nodiscard]] rt::Result<void> write(const char* data, size_t length, bool truncate);
  // The file: one pid a line, ascending.
  void render(TextBuffer& out) const;
  bool empty() const { return pids_.empty(); }
  bool contains(int64_t pid) const;

 private:
  rt::Allocator& allocator_;
  Vector<int32_t> pids_;  // ascending, no repeats
};

}  // namespace trace
