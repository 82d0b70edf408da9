// SPDX-License-Identifier: MIT
// Validating reader for untrusted Cap'n Proto messages: framing, pointer bounds, far pointers,
// limits.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rt/result.hpp"
#include "sonde/capnp/wire.hpp"

namespace sonde::capnp {

// Limits every reader enforces. The traversal limit counts words reached through pointers, so
// a small message whose pointers overlap cannot make a reader walk more than this; the nesting
// limit bounds pointer depth (and so any recursion over a message).
struct ReaderLimits {
  uint64_t traversal_limit_words = 8 * 1024 * 1024;  // 64 MiB, as the official library
  uint32_t nesting_limit = 64;
};

// Errors a reader reports (Linux errno values, see rt/errno.hpp):
//   EBADMSG  malformed: bad framing, pointer out of bounds, wrong pointer kind or element size,
//            text without its NUL, capability pointer, bad far pointer or landing pad
//   E2BIG    traversal limit exhausted
//   ELOOP    nesting limit exceeded
//   ENODATA  a union member read while another member is set
class MessageReader;

struct Text {
  const char* chars = "";  // NUL-terminated inside the message
  uint32_t size = 0;       // without the NUL
};
struct Data {
  const uint8_t* bytes = nullptr;
  uint32_t size = 0;
};

// Where one segment lies; readers keep the span of the segment they were read from, since
// near pointers are relative to it.
struct SegmentSpan {
  const uint8_t* start = nullptr;
  uint32_t words = 0;
};

class StructReader {
 public:
  StructReader() = default;

  uint32_t dataBytes() const { return data_bytes_; }
  uint16_t pointerCount() const { return pointer_count_; }

  // A primitive field at byte `offset`, XORed with the field's default (fields beyond the
  // data section read as their default: the writer used an older schema).
  template <typename T>
  T getData(uint32_t offset, T xor_mask = T()) const {
    if (offset + sizeof(T) > data_bytes_) return xor_mask;
    return xorBits(loadLittle<T>(data_ + offset), xor_mask);
  }
  bool getBool(uint32_t bit, bool default_value) const {
    if (bit / 8 >= data_bytes_) return default_value;
    return (((data_[bit / 8] >> (bit % 8)) & 1) != 0) != default_value;
  }
  bool hasPointer(uint16_t index) const {
    return index < pointer_count_ &&
           loadLittle<uint64_t>(pointers_ + static_cast<size_t>(index) * 8) != 0;
  }

  // Pointer fields. A null pointer yields the empty value (or the given default).
  rt::Result<StructReader> getStruct(uint16_t index) const;
  rt::Result<class ListReader> getList(uint16_t index, ElementSize expected) const;
  rt::Result<Text> getText(uint16_t index, Text default_value = Text()) const;
  rt::Result<Data> getBlob(uint16_t index, Data default_value = Data()) const;

 private:
  friend class MessageReader;
  friend class ListReader;
  friend class PointerResolver;

  MessageReader* message_ = nullptr;
  const uint8_t* data_ = nullptr;
  const uint8_t* pointers_ = nullptr;
  SegmentSpan segment_;
  uint32_t data_bytes_ = 0;
  uint16_t pointer_count_ = 0;
  int32_t depth_left_ = 0;
};

class ListReader {
 public:
  ListReader() = default;

  uint32_t size() const { return count_; }
  ElementSize elementSize() const { return element_size_; }

  // Primitive elements; index out of range yields T().
  template <typename T>
  T getPrimitive(uint32_t index) const {
    if (index >= count_ || step_bits_ < sizeof(T) * 8) return T();
    return loadLittle<T>(start_ + static_cast<size_t>(index) * (step_bits_ / 8));
  }
  bool getBool(uint32_t index) const {
    if (index >= count_ || element_size_ != ElementSize::kBit) return false;
    return ((start_[index / 8] >> (index % 8)) & 1) != 0;
  }
  // Struct elements of a composite list; out of range yields an empty struct.
  StructReader getStructElement(uint32_t index) const;
  // Pointer elements.
  rt::Result<ListReader> getList(uint32_t index, ElementSize expected) const;
  rt::Result<Text> getText(uint32_t index) const;
  rt::Result<Data> getBlob(uint32_t index) const;
  rt::Result<StructReader> getStruct(uint32_t index) const;  // a List(AnyPointer) of structs

  // The raw element bytes of a byte list (Data and Text use this).
  const uint8_t* bytes() const { return start_; }

 private:
  friend class MessageReader;
  friend class StructReader;
  friend class PointerResolver;
  const uint8_t* pointerSlot(uint32_t index) const;

  MessageReader* message_ = nullptr;
  const uint8_t* start_ = nullptr;
  SegmentSpan segment_;
  uint32_t count_ = 0;
  uint32_t step_bits_ = 0;
  uint32_t struct_data_bytes_ = 0;
  uint16_t struct_pointer_count_ = 0;
  ElementSize element_size_ = ElementSize::kVoid;
  int32_t depth_left_ = 0;
};

// One received message. Holds no copy: the bytes must outlive it and every reader taken from it.
// Multi-segment messages (segment table, far pointers) are accepted with any segment count the
// message's size can hold, as the official library writes them (it makes one segment per object
// when asked to). The reader keeps no per-segment storage: the size of a segment comes from the
// segment table in the message, and its start from the nearest of kAnchorCount recorded starts,
// adding the sizes in between; the table words that walk reads are charged to the traversal
// budget like any other word, so a hostile table costs no more than the limit.
// Not copyable or movable, since readers point back to it for the traversal budget.
class MessageReader {
 public:
  static constexpr uint32_t kAnchorCount = 64;

  MessageReader() = default;
  MessageReader(const MessageReader&) = delete;
  MessageReader& operator=(const MessageReader&) = delete;

  // Parses the stream framing (segment table then segments) and checks every segment lies
  // inside `size` bytes. Trailing bytes after the last segment are rejected.
  rt::Result<void> init(const void* bytes, size_t size, ReaderLimits limits = ReaderLimits());

  rt::Result<StructReader> getRootStruct();
  // The root pointer as a list (default values of list fields are stored this way).
  rt::Result<ListReader> getRootList(ElementSize expected);
  template <typename T>
  rt::Result<typename T::Reader> getRoot() {
    auto root = getRootStruct();
    if (!root.ok()) return root.error();
    return typename T::Reader(root.value());
  }

  // Walks every pointer of the message without a schema, checking all of it. Servers may call
  // this once before reading so later field reads cannot fail on malformed data.
  rt::Result<void> validate();

  uint64_t traversalWordsLeft() const { return budget_; }
  uint32_t segmentCount() const { return segment_count_; }
  // Bytes the framing declares (table plus segments); equals the size given to init().
  size_t totalBytes() const { return total_bytes_; }

 private:
  friend class StructReader;
  friend class ListReader;
  friend class PointerResolver;
  // The span of segment `index` (< segment_count_), charging the segment-table words read to
  // find its start.
  rt::Result<SegmentSpan> segment(uint32_t index);
  uint32_t segmentWords(uint32_t index) const;

  const uint8_t* table_ = nullptr;  // the segment sizes, one little-endian uint32_t each
  // anchors_[i] is the start of segment i * anchor_stride_.
  const uint8_t* anchors_[kAnchorCount] = {};
  uint32_t anchor_stride_ = 1;
  uint32_t segment_count_ = 0;
  size_t total_bytes_ = 0;
  uint64_t budget_ = 0;
  ReaderLimits limits_;
};

}  // namespace sonde::capnp
