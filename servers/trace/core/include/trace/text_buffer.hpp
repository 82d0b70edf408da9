// SPDX-License-Identifier: MIT
// TextBuffer: growable text from an rt::Allocator, for the tracefs files the core renders.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rt/allocator.hpp"

namespace trace {

// Appends never fail loudly: a failed allocation makes the buffer stop growing and ok()
// false, so a renderer writes straight through and checks once at the end (ENOMEM).
class TextBuffer {
 public:
  explicit TextBuffer(rt::Allocator& allocator) : allocator_(&allocator) {}
  ~TextBuffer() { release(); }
  TextBuffer(TextBuffer&& other);
  TextBuffer& operator=(TextBuffer&& other);
  TextBuffer(const TextBuffer&) = delete;
  TextBuffer& operator=(const TextBuffer&) = delete;

  void append(const char* text, size_t length);
  void append(const char* text);  // a NUL-terminated string
  void append_char(char c);
  void append_repeated(char c, size_t count);
  // Digits in `base` (10 or 16), right-aligned in `width` with `pad`.
  void append_unsigned(uint64_t value, unsigned base = 10, size_t width = 0, char pad = ' ');
  void append_signed(int64_t value);
  // Pads with spaces until the text since `start` is `width` long (a left-aligned field).
  void pad_to(size_t start, size_t width);

  // Removes the first `count` bytes.
  void erase_front(size_t count);
  void clear() { size_ = 0; }
  void release();

  bool ok() const { return ok_; }
  const char* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool equals(const char* text) const;

 private:
  bool reserve(size_t total);

  rt::Allocator* allocator_;
  char* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
  bool ok_ = true;
};

// Small string helpers for freestanding code.
size_t string_length(const char* text);
bool same_text(const char* a, size_t a_length, const char* b);  // b NUL-terminated

}  // namespace trace
