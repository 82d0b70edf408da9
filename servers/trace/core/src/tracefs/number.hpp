// SPDX-License-Identifier: MIT
// Numbers as tracefs files take them: Linux's kstrtoull with base 0, shared by the parsers.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace trace {

// An optional '+', then "0x" hex, a leading 0 octal, else decimal; all of `text`, no overflow.
inline bool parse_kernel_unsigned(const char* text, size_t length, uint64_t& value) {
  unsigned base = 10;
  size_t i = 0;
  if (length > 0 && text[0] == '+') i = 1;
  if (length - i >= 2 && text[i] == '0' && (text[i + 1] == 'x' || text[i + 1] == 'X')) {
    base = 16;
    i += 2;
  } else if (length - i >= 1 && text[i] == '0') {
    base = 8;
  }
  if (i >= length) return false;
  uint64_t result = 0;
  for (; i < length; ++i) {
    char c = text[i];
    unsigned digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<unsigned>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      digit = static_cast<unsigned>(c - 'A' + 10);
    } else {
      return false;
    }
    if (digit >= base || result > (UINT64_MAX - digit) / base) return false;
    result = result * base + digit;
  }
  value = result;
  return true;
}

}  // namespace trace
