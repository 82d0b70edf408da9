// SPDX-License-Identifier: MIT
// memcpy, memmove, memset, memcmp for freestanding code (compilers emit calls to them).
#include <stddef.h>
#include <stdint.h>

extern "C" {

// String instructions keep the compiler from turning these loops back into calls to themselves.
// Eight bytes at a time, then the tail: fewer iterations for emulators that count each one
// (QEMU's -icount) and no slower on hardware.
void* memcpy(void* destination, const void* source, size_t count) {
  void* result = destination;
  size_t words = count / 8;
  size_t tail = count % 8;
  asm volatile("rep movsq" : "+D"(destination), "+S"(source), "+c"(words) : : "memory");
  asm volatile("rep movsb" : "+D"(destination), "+S"(source), "+c"(tail) : : "memory");
  return result;
}

void* memmove(void* destination, const void* source, size_t count) {
  auto* d = static_cast<unsigned char*>(destination);
  auto* s = static_cast<const unsigned char*>(source);
  if (d <= s || d >= s + count) return memcpy(destination, source, count);
  // Overlapping with destination above source: copy backwards.
  d += count - 1;
  s += count - 1;
  asm volatile("std; rep movsb; cld" : "+D"(d), "+S"(s), "+c"(count) : : "memory");
  return destination;
}

void* memset(void* destination, int value, size_t count) {
  void* result = destination;
  uint64_t pattern = 0x0101010101010101ull * static_cast<uint8_t>(value);
  size_t words = count / 8;
  size_t tail = count % 8;
  asm volatile("rep stosq" : "+D"(destination), "+c"(words) : "a"(pattern) : "memory");
  asm volatile("rep stosb" : "+D"(destination), "+c"(tail) : "a"(pattern) : "memory");
  return result;
}

int memcmp(const void* left, const void* right, size_t count) {
  auto* a = static_cast<const unsigned char*>(left);
  auto* b = static_cast<const unsigned char*>(right);
  for (size_t i = 0; i < count; ++i) {
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

size_t strlen(const char* text) {
  size_t length = 0;
  while (text[length] != 0) ++length;
  return length;
}

int strcmp(const char* left, const char* right) {
  while (*left != 0 && *left == *right) {
    ++left;
    ++right;
  }
  return static_cast<unsigned char>(*left) - static_cast<unsigned char>(*right);
}

}  // extern "C"
