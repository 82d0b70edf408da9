// SPDX-License-Identifier: MIT
// A small Itanium C++ demangler for nested and plain function names (no templates).
#include "elf/demangle.hpp"

namespace elf {
namespace {

// Appends to a fixed buffer, remembering whether anything was cut.
struct Output {
  char* data;
  size_t capacity;
  size_t used = 0;
  bool truncated = false;

  void put(char c) {
    if (used + 1 < capacity) {
      data[used++] = c;
    } else {
      truncated = true;
    }
  }
  void put(const char* text, size_t length) {
    for (size_t i = 0; i < length; ++i) put(text[i]);
  }
  void finish() {
    if (capacity == 0) return;
    if (truncated && capacity >= 4) {
      used = used < capacity - 4 ? used : capacity - 4;
      for (int i = 0; i < 3; ++i) data[used++] = '.';
    }
    data[used] = 0;
  }
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool starts_with(const char* text, size_t length, const char* prefix) {
  size_t i = 0;
  for (; prefix[i] != 0; ++i) {
    if (i >= length || text[i] != prefix[i]) return false;
  }
  return true;
}

// Reads <source-name> ::= <positive length number> <identifier> at `*p`.
bool source_name(const char*& p, const char*& text, size_t& length) {
  if (!is_digit(*p) || *p == '0') return false;
  size_t n = 0;
  while (is_digit(*p)) {
    n = n * 10 + static_cast<size_t>(*p - '0');
    if (n > 4096) return false;
    ++p;
  }
  for (size_t i = 0; i < n; ++i) {
    if (p[i] == 0) return false;  // the identifier runs past the end of the string
  }
  text = p;
  length = n;
  p += n;
  return true;
}

void put_component(Output& out, const char* text, size_t length) {
  if (starts_with(text, length, "_GLOBAL__N")) {
    out.put("(anonymous namespace)", 21);
  } else {
    out.put(text, length);
  }
}

// Decodes what follows "_Z"; false when the form is not one this demangler knows.
bool decode(const char* p, Output& out) {
  if (*p == 'L') ++p;  // internal linkage (static function): same readable name
  if (*p != 'N') {
    const char* text;
    size_t length;
    if (!source_name(p, text, length)) return false;
    put_component(out, text, length);
    return true;
  }
  ++p;
  while (*p == 'K' || *p == 'V' || *p == 'r' || *p == 'R' || *p == 'O') ++p;  // cv/ref-qualifiers
  const char* last = nullptr;
  size_t last_length = 0;
  bool first = true;
  while (*p != 'E') {
    if (!first) out.put("::", 2);
    if ((p[0] == 'C' && (p[1] == '1' || p[1] == '2' || p[1] == '3')) ||
        (p[0] == 'D' && (p[1] == '0' || p[1] == '1' || p[1] == '2'))) {
      if (last == nullptr) return false;
      if (p[0] == 'D') out.put('~');
      out.put(last, last_length);
      p += 2;
    } else {
      const char* text;
      size_t length;
      if (!source_name(p, text, length)) return false;
      put_component(out, text, length);
      last = text;
      last_length = length;
    }
    first = false;
  }
  return !first;
}

}  // namespace

const char* demangle(const char* name, char* out, size_t capacity) {
  if (out == nullptr || capacity == 0) return out;
  Output readable{out, capacity};
  if (name != nullptr && name[0] == '_' && name[1] == 'Z' && decode(name + 2, readable)) {
    readable.finish();
    return out;
  }
  Output copy{out, capacity};
  for (const char* p = name; p != nullptr && *p != 0; ++p) copy.put(*p);
  copy.finish();
  return out;
}

}  // namespace elf
