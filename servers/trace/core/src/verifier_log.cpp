// SPDX-License-Identifier: MIT
// VerifierLog: appending formatted messages with Linux 6.1's truncation rules.
#include "verifier_log.hpp"

#include <stdarg.h>

#include "rt/format.hpp"

namespace trace {
namespace {

struct Appender {
  char* buffer;
  uint32_t room;     // bytes that may still be kept (the NUL excluded)
  uint32_t written;  // kept by this message
  uint32_t length;   // the message's length, cut at kMaxMessage
};

void append(void* state, char c) {
  auto* appender = static_cast<Appender*>(state);
  if (appender->length == VerifierLog::kMaxMessage) return;
  ++appender->length;
  if (appender->written < appender->room) appender->buffer[appender->written++] = c;
}

}  // namespace

void VerifierLog::print(const char* format, ...) {
  va_list arguments;
  va_start(arguments, format);
  vprint(format, arguments);
  va_end(arguments);
}

void VerifierLog::vprint(const char* format, va_list arguments) {
  if (!enabled()) return;
  Appender appender{buffer_ + used_, size_ - 1 - used_, 0, 0};
  rt::vformat(append, &appender, format, arguments);
  used_ += appender.written;
  buffer_[used_] = 0;
  total_ += appender.length;
}

uint32_t VerifierLog::true_size() const {
  if (!enabled()) return 0;
  uint64_t size = total_ + 1;
  return size > 0xffffffffu ? 0xffffffffu : static_cast<uint32_t>(size);
}

}  // namespace trace
