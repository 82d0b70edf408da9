// SPDX-License-Identifier: MIT
// Single-segment message builder over a caller-supplied buffer; running out of space is an error,
// never an overflow.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rt/result.hpp"
#include "sonde/capnp/wire.hpp"

namespace sonde::capnp {

class MessageBuilder;

// Builders hold raw positions inside the caller's buffer. A builder whose allocation failed is
// null: its setters do nothing and its getters return defaults, and the message remembers the
// failure so finish() reports ENOSPC (or E2BIG for a list longer than 2^29-1 elements).
class StructBuilder {
 public:
  StructBuilder() = default;
  bool isNull() const { return message_ == nullptr; }

  template <typename T>
  void setData(uint32_t offset, T value, T xor_mask = T()) {
    if (offset + sizeof(T) <= data_bytes_) storeLittle<T>(data_ + offset, xorBits(value, xor_mask));
  }
  template <typename T>
  T getData(uint32_t offset, T xor_mask = T()) const {
    if (offset + sizeof(T) > data_bytes_) return xor_mask;
    return xorBits(loadLittle<T>(data_ + offset), xor_mask);
  }
  void setBool(uint32_t bit, bool value, bool default_value) {
    if (bit / 8 >= data_bytes_) return;
    uint8_t mask = static_cast<uint8_t>(1u << (bit % 8));
    if (value != default_value) {
      data_[bit / 8] = static_cast<uint8_t>(data_[bit / 8] | mask);
    } else {
      data_[bit / 8] = static_cast<uint8_t>(data_[bit / 8] & ~mask);
    }
  }
  bool getBool(uint32_t bit, bool default_value) const {
    if (bit / 8 >= data_bytes_) return default_value;
    return (((data_[bit / 8] >> (bit % 8)) & 1) != 0) != default_value;
  }

  // Pointer fields; each init allocates fresh space (an overwritten value stays behind as
  // unreachable bytes, as with the official library's orphans).
  StructBuilder initStruct(uint16_t index, uint16_t data_words, uint16_t pointer_count);
  class ListBuilder initList(uint16_t index, ElementSize size, uint32_t count);
  class ListBuilder initStructList(uint16_t index, uint32_t count, uint16_t data_words,
                                   uint16_t pointer_count);
  void setText(uint16_t index, const char* chars, size_t size);
  void setBlob(uint16_t index, const void* bytes, size_t size);
  MutableBytes initBlob(uint16_t index, size_t size);
  bool hasPointer(uint16_t index) const {
    return index < pointer_count_ &&
           loadLittle<uint64_t>(pointers_ + static_cast<size_t>(index) * 8) != 0;
  }
  // Resets a field to its default (zero on the wire): used when a union switches to a group.
  void clearBits(uint32_t bit, uint32_t width) {
    if (width == 1) {
      if (bit / 8 < data_bytes_)
        data_[bit / 8] = static_cast<uint8_t>(data_[bit / 8] & ~(1u << (bit % 8)));
    } else if ((bit + width) / 8 <= data_bytes_) {
      __builtin_memset(data_ + bit / 8, 0, width / 8);
    }
  }
  void clearPointer(uint16_t index) {
    if (index < pointer_count_)
      storeLittle<uint64_t>(pointers_ + static_cast<size_t>(index) * 8, 0);
  }

 private:
  friend class MessageBuilder;
  friend class ListBuilder;
  uint8_t* slot(uint16_t index) const {
    return index < pointer_count_ ? pointers_ + static_cast<size_t>(index) * 8 : nullptr;
  }

  MessageBuilder* message_ = nullptr;
  uint8_t* data_ = nullptr;
  uint8_t* pointers_ = nullptr;
  uint32_t data_bytes_ = 0;
  uint16_t pointer_count_ = 0;
};

class ListBuilder {
 public:
  ListBuilder() = default;
  bool isNull() const { return message_ == nullptr; }
  uint32_t size() const { return count_; }

  template <typename T>
  void setPrimitive(uint32_t index, T value) {
    if (index < count_ && step_bits_ == sizeof(T) * 8) {
      storeLittle<T>(start_ + static_cast<size_t>(index) * sizeof(T), value);
    }
  }
  template <typename T>
  T getPrimitive(uint32_t index) const {
    if (index >= count_ || step_bits_ != sizeof(T) * 8) return T();
    return loadLittle<T>(start_ + static_cast<size_t>(index) * sizeof(T));
  }
  void setBool(uint32_t index, bool value) {
    if (index >= count_ || element_size_ != ElementSize::kBit) return;
    uint8_t mask = static_cast<uint8_t>(1u << (index % 8));
    start_[index / 8] =
        static_cast<uint8_t>(value ? (start_[index / 8] | mask) : (start_[index / 8] & ~mask));
  }
  bool getBool(uint32_t index) const {
    if (index >= count_ || element_size_ != ElementSize::kBit) return false;
    return ((start_[index / 8] >> (index % 8)) & 1) != 0;
  }
  StructBuilder getStructElement(uint32_t index) const;
  // Pointer elements.
  StructBuilder initStruct(uint32_t index, uint16_t data_words, uint16_t pointer_count);
  ListBuilder initList(uint32_t index, ElementSize size, uint32_t count);
  ListBuilder initStructList(uint32_t index, uint32_t count, uint16_t data_words,
                             uint16_t pointer_count);
  void setText(uint32_t index, const char* chars, size_t size);
  void setBlob(uint32_t index, const void* bytes, size_t size);
  MutableBytes initBlob(uint32_t index, size_t size);
  // Raw element bytes (byte lists).
  uint8_t* bytes() const { return start_; }

 private:
  friend class MessageBuilder;
  friend class StructBuilder;
  uint8_t* slot(uint32_t index) const {
    return index < count_ && element_size_ == ElementSize::kPointer
               ? start_ + static_cast<size_t>(index) * 8
               : nullptr;
  }

  MessageBuilder* message_ = nullptr;
  uint8_t* start_ = nullptr;
  uint32_t count_ = 0;
  uint32_t step_bits_ = 0;
  uint32_t struct_data_bytes_ = 0;
  uint16_t struct_pointer_count_ = 0;
  ElementSize element_size_ = ElementSize::kVoid;
};

// Builds one message in `buffer`: an 8-byte segment table, then a single segment that starts
// with the root pointer. Space is handed out front to back and never reused.
class MessageBuilder {
 public:
  MessageBuilder(void* buffer, size_t size);
  MessageBuilder(const MessageBuilder&) = delete;
  MessageBuilder& operator=(const MessageBuilder&) = delete;

  StructBuilder initRootStruct(uint16_t data_words, uint16_t pointer_count);
  template <typename T>
  typename T::Builder initRoot() {
    return typename T::Builder(initRootStruct(T::kDataWords, T::kPointerCount));
  }

  // The finished message (framing included), or the first error met while building.
  rt::Result<Bytes> finish();
  bool failed() const { return error_.code != 0; }
  rt::Error error() const { return error_; }
  size_t wordsUsed() const { return used_; }
  // Discards everything built so far; the buffer can be reused.
  void reset();

  // Used by the builders: space of `words` zeroed words, or nullptr (and the message fails).
  uint8_t* allocate(uint64_t words, bool zero = true);
  void fail(int code, const char* why) {
    if (error_.code == 0) error_ = rt::err(code, why);
  }
  StructBuilder initStructAt(uint8_t* slot, uint16_t data_words, uint16_t pointer_count);
  ListBuilder initListAt(uint8_t* slot, ElementSize size, uint32_t count);
  ListBuilder initStructListAt(uint8_t* slot, uint32_t count, uint16_t data_words,
                               uint16_t pointer_count);
  MutableBytes initBlobAt(uint8_t* slot, size_t size, bool text);
  // Copies `size` bytes into a new byte list (plus a NUL for text) without zeroing them first.
  void copyBlobAt(uint8_t* slot, const void* bytes, size_t size, bool text);

 private:
  uint8_t* buffer_;
  uint8_t* segment_ = nullptr;
  uint32_t capacity_ = 0;  // words in the segment
  uint32_t used_ = 0;
  rt::Error error_{};
};

}  // namespace sonde::capnp
