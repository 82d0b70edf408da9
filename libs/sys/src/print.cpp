// SPDX-License-Identifier: MIT
// sys::print: formatted debug output for native programs, buffered per call.
#include <stdarg.h>

#include "rt/format.hpp"
#include "sys/syscall.hpp"

namespace sys {
namespace {
struct LineBuffer {
  char data[512];
  size_t used;
};
void flush(LineBuffer& b) {
  if (b.used > 0) debug_write(b.data, b.used);
  b.used = 0;
}
void sink(void* state, char c) {
  auto* b = static_cast<LineBuffer*>(state);
  if (b->used == sizeof(b->data)) flush(*b);
  b->data[b->used++] = c;
}
}  // namespace

void print(const char* format, ...) {
  LineBuffer buffer;
  buffer.used = 0;
  va_list arguments;
  va_start(arguments, format);
  rt::vformat(sink, &buffer, format, arguments);
  va_end(arguments);
  flush(buffer);
}

}  // namespace sys
