// SPDX-License-Identifier: MIT
// Kernel console: formatted output to the serial port.
#include "kernel/console.hpp"

#include <stdarg.h>

#include "arch/x86_64/serial.hpp"
#include "rt/format.hpp"

namespace kernel {
namespace {
void serial_sink(void*, char c) { arch::serial_put(c); }
}  // namespace

void printk(const char* format, ...) {
  va_list arguments;
  va_start(arguments, format);
  rt::vformat(serial_sink, nullptr, format, arguments);
  va_end(arguments);
}

void console_write(const char* text, size_t length) {
  for (size_t i = 0; i < length; ++i) arch::serial_put(text[i]);
}

}  // namespace kernel
