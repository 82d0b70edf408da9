// SPDX-License-Identifier: MIT
// VerifierLog: writes into the caller's buffer, keeping the beginning when it is too small.
#include "verifier/log.hpp"

#include "rt/format.hpp"

namespace ebpf::verifier {

void VerifierLog::sink(void* state, char c) {
  auto* log = static_cast<VerifierLog*>(state);
  if (log->buffer_ != nullptr && log->used_ == log->needed_ && log->used_ + 1 < log->size_) {
    log->buffer_[log->used_++] = c;
    log->buffer_[log->used_] = 0;
  }
  ++log->needed_;
}

void VerifierLog::vprint(const char* format, va_list arguments) {
  if (level_ == 0) return;
  rt::vformat(sink, this, format, arguments);
}

void VerifierLog::print(const char* format, ...) {
  va_list arguments;
  va_start(arguments, format);
  vprint(format, arguments);
  va_end(arguments);
}

void VerifierLog::truncate(size_t mark) {
  if (mark > used_) return;
  used_ = mark;
  needed_ = mark;
  if (buffer_ != nullptr && size_ > 0) buffer_[used_] = 0;
}

}  // namespace ebpf::verifier
