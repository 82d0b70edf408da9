// SPDX-License-Identifier: MIT
// TextBuffer: growable text from an rt::Allocator.
#include "trace/text_buffer.hpp"

namespace trace {

size_t string_length(const char* text) {
  size_t length = 0;
  while (text[length] != 0) ++length;
  return length;
}

bool same_text(const char* a, size_t a_length, const char* b) {
  for (size_t i = 0; i < a_length; ++i) {
    if (b[i] != a[i] || b[i] == 0) return false;
  }
  return b[a_length] == 0;
}

TextBuffer::TextBuffer(TextBuffer&& other)
    : allocator_(other.allocator_),
      data_(other.data_),
      size_(other.size_),
      capacity_(other.capacity_),
      ok_(other.ok_) {
  other.data_ = nullptr;
  other.size_ = other.capacity_ = 0;
}

TextBuffer& TextBuffer::operator=(TextBuffer&& other) {
  if (this != &other) {
    release();
    allocator_ = other.allocator_;
    data_ = other.data_;
    size_ = other.size_;
    capacity_ = other.capacity_;
    ok_ = other.ok_;
    other.data_ = nullptr;
    other.size_ = other.capacity_ = 0;
  }
  return *this;
}

void TextBuffer::release() {
  if (data_ != nullptr) allocator_->deallocate(data_, capacity_);
  data_ = nullptr;
  size_ = capacity_ = 0;
}

bool TextBuffer::reserve(size_t total) {
  if (!ok_) return false;
  if (total <= capacity_) return true;
  size_t capacity = capacity_ < 64 ? 64 : capacity_;
  while (capacity < total) capacity *= 2;
  char* bigger = static_cast<char*>(allocator_->allocate(capacity, 1));
  if (bigger == nullptr) {
    ok_ = false;
    return false;
  }
  if (size_ > 0) __builtin_memcpy(bigger, data_, size_);
  if (data_ != nullptr) allocator_->deallocate(data_, capacity_);
  data_ = bigger;
  capacity_ = capacity;
  return true;
}

void TextBuffer::append(const char* text, size_t length) {
  if (length == 0 || !reserve(size_ + length)) return;
  __builtin_memcpy(data_ + size_, text, length);
  size_ += length;
}

void TextBuffer::append(const char* text) { append(text, string_length(text)); }

void TextBuffer::append_char(char c) { append(&c, 1); }

void TextBuffer::append_repeated(char c, size_t count) {
  if (count == 0 || !reserve(size_ + count)) return;
  for (size_t i = 0; i < count; ++i) data_[size_ + i] = c;
  size_ += count;
}

void TextBuffer::append_unsigned(uint64_t value, unsigned base, size_t width, char pad) {
  char digits[24];
  size_t length = 0;
  do {
    digits[length++] = "0123456789abcdef"[value % base];
    value /= base;
  } while (value != 0);
  if (width > length) append_repeated(pad, width - length);
  char ordered[24];
  for (size_t i = 0; i < length; ++i) ordered[i] = digits[length - 1 - i];
  append(ordered, length);
}

void TextBuffer::append_signed(int64_t value) {
  if (value < 0) {
    append_char('-');
    append_unsigned(0 - static_cast<uint64_t>(value));
  } else {
    append_unsigned(static_cast<uint64_t>(value));
  }
}

void TextBuffer::pad_to(size_t start, size_t width) {
  if (size_ - start < width) append_repeated(' ', width - (size_ - start));
}

void TextBuffer::erase_front(size_t count) {
  if (count >= size_) {
    size_ = 0;
    return;
  }
  __builtin_memmove(data_, data_ + count, size_ - count);
  size_ -= count;
}

bool TextBuffer::equals(const char* text) const {
  return same_text(data_ == nullptr ? "" : data_, size_, text);
}

}  // namespace trace
