// SPDX-License-Identifier: MIT
// The freestanding formatter behind kernel and server logging.
#include "rt/format.hpp"

namespace rt {
namespace {

struct Output {
  CharSink sink;
  void* state;
  size_t count;
  void put(char c) {
    sink(state, c);
    ++count;
  }
};

void put_unsigned(Output& out, uint64_t value, unsigned base, bool upper, int width, char pad) {
  char digits[24];
  int length = 0;
  const char* alphabet = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  do {
    digits[length++] = alphabet[value % base];
    value /= base;
  } while (value != 0);
  for (int i = length; i < width; ++i) out.put(pad);
  while (length > 0) out.put(digits[--length]);
}

}  // namespace

size_t vformat(CharSink sink, void* state, const char* format, va_list arguments) {
  Output out{sink, state, 0};
  for (const char* p = format; *p != 0; ++p) {
    if (*p != '%') {
      out.put(*p);
      continue;
    }
    ++p;
    char pad = ' ';
    if (*p == '0') {
      pad = '0';
      ++p;
    }
    int width = 0;
    while (*p >= '0' && *p <= '9') width = width * 10 + (*p++ - '0');
    int longs = 0;
    while (*p == 'l' || *p == 'z') {
      ++longs;
      ++p;
    }
    switch (*p) {
      case 'd':
      case 'i': {
        int64_t v = longs ? va_arg(arguments, int64_t) : va_arg(arguments, int);
        uint64_t magnitude = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
        if (v < 0) {
          out.put('-');
          if (width > 0) --width;
        }
        put_unsigned(out, magnitude, 10, false, width, pad);
        break;
      }
      case 'u':
        put_unsigned(out, longs ? va_arg(arguments, uint64_t) : va_arg(arguments, unsigned), 10,
                     false, width, pad);
        break;
      case 'x':
      case 'X':
        put_unsigned(out, longs ? va_arg(arguments, uint64_t) : va_arg(arguments, unsigned), 16,
                     *p == 'X', width, pad);
        break;
      case 'p':
        out.put('0');
        out.put('x');
        put_unsigned(out, reinterpret_cast<uint64_t>(va_arg(arguments, void*)), 16, false, 16, '0');
        break;
      case 'c': out.put(static_cast<char>(va_arg(arguments, int))); break;
      case 's': {
        const char* s = va_arg(arguments, const char*);
        if (s == nullptr) s = "(null)";
        int length = 0;
        while (s[length] != 0) ++length;
        for (int i = length; i < width; ++i) out.put(' ');
        for (int i = 0; i < length; ++i) out.put(s[i]);
        break;
      }
      case '%': out.put('%'); break;
      case 0: return out.count;
      default:
        out.put('%');
        out.put(*p);
        break;
    }
  }
  return out.count;
}

namespace {
struct BufferState {
  char* buffer;
  size_t size;
  size_t used;
};
void buffer_sink(void* state, char c) {
  auto* b = static_cast<BufferState*>(state);
  if (b->used + 1 < b->size) b->buffer[b->used] = c;
  ++b->used;
}
}  // namespace

size_t format_to(char* buffer, size_t size, const char* format, ...) {
  BufferState state{buffer, size, 0};
  va_list arguments;
  va_start(arguments, format);
  size_t length = vformat(buffer_sink, &state, format, arguments);
  va_end(arguments);
  if (size > 0) buffer[state.used < size ? state.used : size - 1] = 0;
  return length;
}

}  // namespace rt
