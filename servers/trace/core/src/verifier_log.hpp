// SPDX-License-Identifier: MIT
// VerifierLog: Linux 6.1's bpf_verifier_log for the checks the core makes itself (BTF, func info).
#pragma once

#include <stdarg.h>
#include <stdint.h>

namespace trace {

// The log keeps the first `size - 1` bytes of everything printed, NUL-terminated, as 6.1 does
// when it copies each message to the caller as it goes; one message is at most 1023 bytes
// (Linux's BPF_VERIFIER_TMP_LOG_SIZE). `full()` is Linux's bpf_verifier_log_full, which turns a
// success into ENOSPC. A log of level 0 records nothing.
class VerifierLog {
 public:
  VerifierLog() = default;
  VerifierLog(char* buffer, uint32_t size, uint32_t level)
      : buffer_(buffer), size_(size), level_(level) {
    if (buffer_ != nullptr && size_ != 0) buffer_[0] = 0;
  }

  bool enabled() const { return level_ != 0 && buffer_ != nullptr && size_ != 0; }
  uint32_t level() const { return level_; }
  void print(const char* format, ...) __attribute__((format(printf, 2, 3)));
  void vprint(const char* format, va_list arguments);
  bool full() const { return enabled() && used_ == size_ - 1; }
  uint32_t used() const { return used_; }  // bytes kept, without the NUL
  // Linux 6.4's log_true_size: what the whole log needed, with its NUL (0 without a log).
  uint32_t true_size() const;

  static constexpr uint32_t kMaxMessage = 1023;

 private:
  char* buffer_ = nullptr;
  uint32_t size_ = 0;
  uint32_t level_ = 0;
  uint32_t used_ = 0;
  uint64_t total_ = 0;
};

}  // namespace trace
