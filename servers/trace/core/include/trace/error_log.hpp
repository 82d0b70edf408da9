// SPDX-License-Identifier: MIT
// ErrorLog: tracefs error_log, the last errors of probe and filter commands with a caret.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rt/allocator.hpp"
#include "trace/text_buffer.hpp"

namespace trace {

// Linux keeps the last 16 (TRACING_LOG_ERRS_MAX); each shows as
//   [   44.123456] trace_kprobe: error: Invalid register name
//     Command: p:myprobe do_unlinkat %zz
//                                    ^
class ErrorLog {
 public:
  static constexpr size_t kMaxEntries = 16;

  explicit ErrorLog(rt::Allocator& allocator) : allocator_(allocator) {}
  ~ErrorLog() { clear(); }
  ErrorLog(const ErrorLog&) = delete;
  ErrorLog& operator=(const ErrorLog&) = delete;

  // `location` is the subsystem ("trace_kprobe"), `command` the command as Linux rebuilds it
  // (its words joined by single spaces), `position` the caret's column in it.
  void add(uint64_t timestamp_ns, const char* location, const char* message, const char* command,
           size_t command_length, size_t position);
  void render(TextBuffer& out) const;
  void clear();
  size_t size() const { return count_; }

 private:
  struct Entry {
    uint64_t timestamp_ns;
    const char* location;
    const char* message;
    char* command;
    size_t command_length;
    size_t position;
  };
  rt::Allocator& allocator_;
  Entry entries_[kMaxEntries] = {};
  size_t first_ = 0;
  size_t count_ = 0;
};

}  // namespace trace
