// SPDX-License-Identifier: MIT
// Cap'n Proto wire encoding: words, pointer fields, element sizes, and alignment-safe loads/stores.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace sonde::capnp {

constexpr uint32_t kWordBytes = 8;

// The two low bits of every pointer word.
enum class PointerKind : uint8_t { kStruct = 0, kList = 1, kFar = 2, kOther = 3 };

// List element sizes as the list pointer's C field encodes them.
enum class ElementSize : uint8_t {
  kVoid = 0,
  kBit = 1,
  kByte = 2,
  kTwoBytes = 3,
  kFourBytes = 4,
  kEightBytes = 5,
  kPointer = 6,
  kComposite = 7,
};

constexpr uint32_t elementBits(ElementSize size) {
  switch (size) {
    case ElementSize::kVoid: return 0;
    case ElementSize::kBit: return 1;
    case ElementSize::kByte: return 8;
    case ElementSize::kTwoBytes: return 16;
    case ElementSize::kFourBytes: return 32;
    case ElementSize::kEightBytes: return 64;
    case ElementSize::kPointer: return 64;
    case ElementSize::kComposite: return 0;  // per element: the tag word says
  }
  return 0;
}

// Loads and stores through memcpy: message bytes may sit at any alignment, and the compiler
// turns these into plain moves on x86-64 (the only target; Cap'n Proto is little-endian).
template <typename T>
inline T loadLittle(const uint8_t* at) {
  T value;
  __builtin_memcpy(&value, at, sizeof(T));
  return value;
}
template <typename T>
inline void storeLittle(uint8_t* at, T value) {
  __builtin_memcpy(at, &value, sizeof(T));
}

// Default values are stored XORed into the data section (a zero field reads as its default);
// floating-point fields XOR their bit patterns.
template <typename T>
inline T xorBits(T value, T mask) {
  if constexpr (static_cast<T>(0.5) != 0 && sizeof(T) == 4) {
    uint32_t a, b;
    __builtin_memcpy(&a, &value, 4);
    __builtin_memcpy(&b, &mask, 4);
    a ^= b;
    __builtin_memcpy(&value, &a, 4);
    return value;
  } else if constexpr (static_cast<T>(0.5) != 0 && sizeof(T) == 8) {
    uint64_t a, b;
    __builtin_memcpy(&a, &value, 8);
    __builtin_memcpy(&b, &mask, 8);
    a ^= b;
    __builtin_memcpy(&value, &a, 8);
    return value;
  } else {
    return static_cast<T>(value ^ mask);
  }
}

// Field accessors of one pointer word.
struct PointerWord {
  uint64_t raw;

  PointerKind kind() const { return static_cast<PointerKind>(raw & 3); }
  // Struct and list pointers: signed word offset from the end of the pointer (30 bits).
  int32_t offset() const { return static_cast<int32_t>(static_cast<uint32_t>(raw)) >> 2; }
  // Struct pointers (and composite list tags).
  uint16_t dataWords() const { return static_cast<uint16_t>(raw >> 32); }
  uint16_t pointerCount() const { return static_cast<uint16_t>(raw >> 48); }
  // List pointers.
  ElementSize elementSize() const { return static_cast<ElementSize>((raw >> 32) & 7); }
  uint32_t elementCount() const { return static_cast<uint32_t>(raw >> 35); }
  // Composite list tags keep the element count where a struct pointer keeps its offset.
  uint32_t tagElementCount() const { return static_cast<uint32_t>(raw) >> 2; }
  // Far pointers.
  bool doubleFar() const { return (raw >> 2) & 1; }
  uint32_t farOffset() const { return static_cast<uint32_t>(raw) >> 3; }
  uint32_t farSegment() const { return static_cast<uint32_t>(raw >> 32); }
};

inline uint64_t makeStructPointer(int32_t offset, uint16_t dataWords, uint16_t pointerCount) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(offset) << 2)) |
         (static_cast<uint64_t>(dataWords) << 32) | (static_cast<uint64_t>(pointerCount) << 48);
}
inline uint64_t makeListPointer(int32_t offset, ElementSize size, uint32_t count) {
  return 1 | (static_cast<uint64_t>(static_cast<uint32_t>(offset) << 2)) |
         (static_cast<uint64_t>(size) << 32) | (static_cast<uint64_t>(count) << 35);
}

// Largest element count a list pointer can hold (29 bits).
constexpr uint32_t kMaxListElements = (1u << 29) - 1;

// Raw views of message bytes.
struct Bytes {
  const uint8_t* data = nullptr;
  size_t size = 0;
};
struct MutableBytes {
  uint8_t* data = nullptr;
  size_t size = 0;
};

}  // namespace sonde::capnp
