// SPDX-License-Identifier: MIT
// Single-segment message builder: bump allocation in the caller's buffer, pointer encoding, sticky
// errors.
#include "sonde/capnp/builder.hpp"

namespace sonde::capnp {

namespace {

void storePointer(uint8_t* slot, uint64_t word) { storeLittle<uint64_t>(slot, word); }

// Word offset from the end of `slot` to `target`; both lie in the one segment.
int32_t offsetFrom(const uint8_t* slot, const uint8_t* target) {
  return static_cast<int32_t>((target - slot) / static_cast<int64_t>(kWordBytes) - 1);
}

// Whether a blob of `size` bytes (plus the NUL of a text) fits in one byte list; `size` is
// checked before the NUL is added, so SIZE_MAX cannot wrap to an empty list.
bool blobFits(size_t size, bool text) { return size <= kMaxListElements - (text ? 1 : 0); }

}  // namespace

MessageBuilder::MessageBuilder(void* buffer, size_t size) : buffer_(static_cast<uint8_t*>(buffer)) {
  if (buffer_ == nullptr || size < 16) {
    fail(rt::kENOSPC, "message buffer too small");
    return;
  }
  segment_ = buffer_ + 8;
  uint64_t words = (size - 8) / kWordBytes;
  capacity_ = words > 0xffffffffu ? 0xffffffffu : static_cast<uint32_t>(words);
  reset();
}

void MessageBuilder::reset() {
  if (segment_ == nullptr) return;
  error_ = rt::Error{};
  used_ = 0;
  allocate(1);  // the root pointer
}

uint8_t* MessageBuilder::allocate(uint64_t words, bool zero) {
  if (segment_ == nullptr || failed()) return nullptr;
  if (words > capacity_ - used_) {
    fail(rt::kENOSPC, "message does not fit in its buffer");
    return nullptr;
  }
  uint8_t* at = segment_ + static_cast<size_t>(used_) * kWordBytes;
  if (zero) __builtin_memset(at, 0, words * kWordBytes);
  used_ += static_cast<uint32_t>(words);
  return at;
}

StructBuilder MessageBuilder::initRootStruct(uint16_t data_words, uint16_t pointer_count) {
  if (segment_ == nullptr) return StructBuilder();
  return initStructAt(segment_, data_words, pointer_count);
}

rt::Result<Bytes> MessageBuilder::finish() {
  if (failed()) return error_;
  storeLittle<uint32_t>(buffer_, 0);  // one segment
  storeLittle<uint32_t>(buffer_ + 4, used_);
  return Bytes{buffer_, 8 + static_cast<size_t>(used_) * kWordBytes};
}

StructBuilder MessageBuilder::initStructAt(uint8_t* slot, uint16_t data_words,
                                           uint16_t pointer_count) {
  StructBuilder result;
  if (slot == nullptr) return result;
  uint8_t* at = allocate(static_cast<uint64_t>(data_words) + pointer_count);
  if (at == nullptr) return result;
  storePointer(slot, makeStructPointer(offsetFrom(slot, at), data_words, pointer_count));
  result.message_ = this;
  result.data_ = at;
  result.data_bytes_ = static_cast<uint32_t>(data_words) * kWordBytes;
  result.pointers_ = at + result.data_bytes_;
  result.pointer_count_ = pointer_count;
  return result;
}

ListBuilder MessageBuilder::initListAt(uint8_t* slot, ElementSize size, uint32_t count) {
  ListBuilder result;
  if (slot == nullptr || size == ElementSize::kComposite) return result;
  if (count > kMaxListElements) {
    fail(rt::kE2BIG, "list longer than a list pointer can describe");
    return result;
  }
  uint64_t bits = elementBits(size);
  uint8_t* at = allocate((static_cast<uint64_t>(count) * bits + 63) / 64);
  if (at == nullptr) return result;
  storePointer(slot, makeListPointer(offsetFrom(slot, at), size, count));
  result.message_ = this;
  result.start_ = at;
  result.count_ = count;
  result.step_bits_ = static_cast<uint32_t>(bits);
  result.element_size_ = size;
  return result;
}

ListBuilder MessageBuilder::initStructListAt(uint8_t* slot, uint32_t count, uint16_t data_words,
                                             uint16_t pointer_count) {
  ListBuilder result;
  if (slot == nullptr) return result;
  uint64_t per_element = static_cast<uint64_t>(data_words) + pointer_count;
  uint64_t words = per_element * count;
  if (count > kMaxListElements || words > kMaxListElements) {
    fail(rt::kE2BIG, "list longer than a list pointer can describe");
    return result;
  }
  uint8_t* at = allocate(words + 1);
  if (at == nullptr) return result;
  storePointer(slot, makeListPointer(offsetFrom(slot, at), ElementSize::kComposite,
                                     static_cast<uint32_t>(words)));
  // The tag word: a struct pointer whose offset field holds the element count.
  storePointer(at, (static_cast<uint64_t>(count) << 2) | (static_cast<uint64_t>(data_words) << 32) |
                       (static_cast<uint64_t>(pointer_count) << 48));
  result.message_ = this;
  result.start_ = at + kWordBytes;
  result.count_ = count;
  result.step_bits_ = static_cast<uint32_t>(per_element * 64);
  result.struct_data_bytes_ = static_cast<uint32_t>(data_words) * kWordBytes;
  result.struct_pointer_count_ = pointer_count;
  result.element_size_ = ElementSize::kComposite;
  return result;
}

MutableBytes MessageBuilder::initBlobAt(uint8_t* slot, size_t size, bool text) {
  if (slot == nullptr) return MutableBytes();
  if (!blobFits(size, text)) {
    fail(rt::kE2BIG, "text or data longer than a list pointer can describe");
    return MutableBytes();
  }
  size_t bytes = size + (text ? 1 : 0);  // text keeps its NUL inside the list
  ListBuilder list = initListAt(slot, ElementSize::kByte, static_cast<uint32_t>(bytes));
  if (list.isNull()) return MutableBytes();
  return MutableBytes{list.start_, size};
}

void MessageBuilder::copyBlobAt(uint8_t* slot, const void* bytes, size_t size, bool text) {
  if (slot == nullptr) return;
  if (!blobFits(size, text)) {
    fail(rt::kE2BIG, "text or data longer than a list pointer can describe");
    return;
  }
  size_t total = size + (text ? 1 : 0);
  uint64_t words = (static_cast<uint64_t>(total) + 7) / 8;
  uint8_t* at = allocate(words, false);
  if (at == nullptr) return;
  if (size > 0) __builtin_memcpy(at, bytes, size);
  // The NUL and the padding up to the word boundary must be zero on the wire.
  __builtin_memset(at + size, 0, words * kWordBytes - size);
  storePointer(slot, makeListPointer(offsetFrom(slot, at), ElementSize::kByte,
                                     static_cast<uint32_t>(total)));
}

StructBuilder StructBuilder::initStruct(uint16_t index, uint16_t data_words,
                                        uint16_t pointer_count) {
  if (message_ == nullptr) return StructBuilder();
  return message_->initStructAt(slot(index), data_words, pointer_count);
}

ListBuilder StructBuilder::initList(uint16_t index, ElementSize size, uint32_t count) {
  if (message_ == nullptr) return ListBuilder();
  return message_->initListAt(slot(index), size, count);
}

ListBuilder StructBuilder::initStructList(uint16_t index, uint32_t count, uint16_t data_words,
                                          uint16_t pointer_count) {
  if (message_ == nullptr) return ListBuilder();
  return message_->initStructListAt(slot(index), count, data_words, pointer_count);
}

void StructBuilder::setText(uint16_t index, const char* chars, size_t size) {
  if (message_ != nullptr) message_->copyBlobAt(slot(index), chars, size, true);
}

void StructBuilder::setBlob(uint16_t index, const void* bytes, size_t size) {
  if (message_ != nullptr) message_->copyBlobAt(slot(index), bytes, size, false);
}

MutableBytes StructBuilder::initBlob(uint16_t index, size_t size) {
  if (message_ == nullptr) return MutableBytes();
  return message_->initBlobAt(slot(index), size, false);
}

StructBuilder ListBuilder::getStructElement(uint32_t index) const {
  StructBuilder element;
  if (message_ == nullptr || index >= count_ || element_size_ != ElementSize::kComposite)
    return element;
  uint8_t* at = start_ + static_cast<size_t>(index) * (step_bits_ / 8);
  element.message_ = message_;
  element.data_ = at;
  element.data_bytes_ = struct_data_bytes_;
  element.pointers_ = at + struct_data_bytes_;
  element.pointer_count_ = struct_pointer_count_;
  return element;
}

StructBuilder ListBuilder::initStruct(uint32_t index, uint16_t data_words, uint16_t pointer_count) {
  if (message_ == nullptr) return StructBuilder();
  return message_->initStructAt(slot(index), data_words, pointer_count);
}

ListBuilder ListBuilder::initList(uint32_t index, ElementSize size, uint32_t count) {
  if (message_ == nullptr) return ListBuilder();
  return message_->initListAt(slot(index), size, count);
}

ListBuilder ListBuilder::initStructList(uint32_t index, uint32_t count, uint16_t data_words,
                                        uint16_t pointer_count) {
  if (message_ == nullptr) return ListBuilder();
  return message_->initStructListAt(slot(index), count, data_words, pointer_count);
}

void ListBuilder::setText(uint32_t index, const char* chars, size_t size) {
  if (message_ != nullptr) message_->copyBlobAt(slot(index), chars, size, true);
}

void ListBuilder::setBlob(uint32_t index, const void* bytes, size_t size) {
  if (message_ != nullptr) message_->copyBlobAt(slot(index), bytes, size, false);
}

MutableBytes ListBuilder::initBlob(uint32_t index, size_t size) {
  if (message_ == nullptr) return MutableBytes();
  return message_->initBlobAt(slot(index), size, false);
}

}  // namespace sonde::capnp
