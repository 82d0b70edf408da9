// SPDX-License-Identifier: MIT
// VerifierLog: Linux's log semantics (levels, fixed-size buffer, ENOSPC when it overflows).
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

namespace ebpf::verifier {

class VerifierLog {
 public:
  VerifierLog(char* buffer, uint32_t size, uint32_t level)
      : buffer_(buffer), size_(size), level_(level) {
    if (buffer_ != nullptr && size_ > 0) buffer_[0] = 0;
  }

  uint32_t level() const { return level_; }
  bool enabled(uint32_t bits) const { return (level_ & bits) != 0; }
  void print(const char* format, ...) __attribute__((format(printf, 2, 3)));
  void vprint(const char* format, va_list arguments);
  // Drops everything written after `mark` (used to keep only the summary on success).
  size_t mark() const { return used_; }
  void truncate(size_t mark);
  bool truncated() const { return needed_ > used_; }
  uint32_t true_size() const { return static_cast<uint32_t>(needed_ + 1); }

 private:
  static void sink(void* state, char c);
  char* buffer_;
  uint32_t size_;
  uint32_t level_;
  size_t used_ = 0;    // bytes in the buffer, without the NUL
  size_t needed_ = 0;  // bytes the whole log would need
};

}  // namespace ebpf::verifier
