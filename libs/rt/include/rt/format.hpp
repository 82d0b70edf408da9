// SPDX-License-Identifier: MIT
// A small printf-style formatter for freestanding code, writing through a character sink.
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

namespace rt {

using CharSink = void (*)(void* state, char c);

// Supports %s %c %d %i %u %x %X %p %% with the l/ll/z length modifiers, a zero flag and a
// minimum width. Returns the number of characters written.
size_t vformat(CharSink sink, void* state, const char* format, va_list arguments);

// Formats into a fixed buffer, always NUL-terminated; returns the length it would have had.
size_t format_to(char* buffer, size_t size, const char* format, ...)
    __attribute__((format(printf, 3, 4)));

}  // namespace rt
