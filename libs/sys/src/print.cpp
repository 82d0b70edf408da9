// SPDX-License-Identifier: MIT
// sys::print: formatted debug output for native programs, buffered per call.
#include <stdarg.h>

#include "rt/format.hpp"
#include "sys/ipc.hpp"
#include "sys/syscall.hpp"

namespace sys {
namespace {
uint64_t log_ports = 0;  // an IoPorts cap for a UART, or 0: the kernel's console
uint64_t log_base = 0;

void port_out(uint64_t port, uint64_t value) {
  uint64_t words[] = {port, value};
  (void)invoke(log_ports, sonde::abi::Label::kIoPortsOut8, words);
}
uint64_t port_in(uint64_t port) {
  MessageRegisters out;
  uint64_t words[] = {port};
  if (invoke(log_ports, sonde::abi::Label::kIoPortsIn8, words, 1, &out) != sonde::abi::Error::kNone)
    return 0;
  return out.word[0];
}

struct LineBuffer {
  char data[512];
  size_t used;
};
void flush(LineBuffer& b) {
  if (b.used > 0 && log_ports != 0) {
    for (size_t i = 0; i < b.used; ++i) {
      if (b.data[i] == '\n') port_out(log_base, '\r');
      port_out(log_base, static_cast<uint8_t>(b.data[i]));
    }
  } else if (b.used > 0) {
    debug_write(b.data, b.used);
  }
  b.used = 0;
}
void sink(void* state, char c) {
  auto* b = static_cast<LineBuffer*>(state);
  if (b->used == sizeof(b->data)) flush(*b);
  b->data[b->used++] = c;
}
}  // namespace

bool use_log_port(uint64_t ports, uint64_t base) {
  log_ports = ports;
  log_base = base;
  // A missing UART reads as all ones: keep it only if its scratch register holds a byte.
  port_out(base + 7, 0x5a);
  if (port_in(base + 7) != 0x5a) log_ports = 0;
  return log_ports != 0;
}

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
