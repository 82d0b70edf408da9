// SPDX-License-Identifier: MIT
// Validating reader: message framing, pointer resolution (near and far), bounds, traversal and
// nesting limits.
#include "sonde/capnp/reader.hpp"

namespace sonde::capnp {

namespace {

rt::Error malformed(const char* why) { return rt::err(rt::kEBADMSG, why); }

}  // namespace

// The one place that turns pointer words into locations; every check on untrusted pointers is
// here, so readers and the schema-less walk share them.
class PointerResolver {
 public:
  struct Target {
    SegmentSpan segment;
    int64_t word;     // first word of the content (for composite lists: the tag word)
    PointerWord tag;  // the struct or list pointer that describes the content
  };

  static rt::Result<Target> resolve(MessageReader& message, const SegmentSpan& here,
                                    const uint8_t* slot) {
    PointerWord pointer{loadLittle<uint64_t>(slot)};
    switch (pointer.kind()) {
      case PointerKind::kStruct:
      case PointerKind::kList: {
        int64_t slot_word = (slot - here.start) / kWordBytes;
        return Target{here, slot_word + 1 + pointer.offset(), pointer};
      }
      case PointerKind::kFar: {
        uint32_t pad_segment = pointer.farSegment();
        if (pad_segment >= message.segment_count_)
          return malformed("far pointer to a missing segment");
        SegmentSpan pad_in = TRY(message.segment(pad_segment));
        uint64_t pad = pointer.farOffset();
        uint64_t pad_words = pointer.doubleFar() ? 2 : 1;
        if (pad + pad_words > pad_in.words) return malformed("landing pad out of bounds");
        // Landing pads are part of what a reader touches; charge them against the budget.
        TRY(charge(message, pad_words));
        const uint8_t* pad_at = pad_in.start + pad * kWordBytes;
        if (!pointer.doubleFar()) {
          PointerWord landing{loadLittle<uint64_t>(pad_at)};
          if (landing.kind() != PointerKind::kStruct && landing.kind() != PointerKind::kList) {
            return malformed("landing pad is not a struct or list pointer");
          }
          return Target{pad_in, static_cast<int64_t>(pad) + 1 + landing.offset(), landing};
        }
        PointerWord content{loadLittle<uint64_t>(pad_at)};
        PointerWord tag{loadLittle<uint64_t>(pad_at + kWordBytes)};
        if (content.kind() != PointerKind::kFar || content.doubleFar()) {
          return malformed("double-far landing pad does not start with a single far pointer");
        }
        if (content.farSegment() >= message.segment_count_) {
          return malformed("double-far pointer to a missing segment");
        }
        if (tag.kind() != PointerKind::kStruct && tag.kind() != PointerKind::kList) {
          return malformed("double-far tag is not a struct or list pointer");
        }
        SegmentSpan content_in = TRY(message.segment(content.farSegment()));
        return Target{content_in, static_cast<int64_t>(content.farOffset()), tag};
      }
      case PointerKind::kOther: break;
    }
    return malformed("capability or reserved pointer");
  }

  static rt::Result<void> charge(MessageReader& message, uint64_t words) {
    if (words > message.budget_) {
      message.budget_ = 0;
      return rt::err(rt::kE2BIG, "traversal limit exceeded");
    }
    message.budget_ -= words;
    return {};
  }

  static bool inBounds(const SegmentSpan& segment, int64_t word, uint64_t words) {
    return word >= 0 && static_cast<uint64_t>(word) + words <= segment.words;
  }

  static rt::Result<StructReader> readStruct(MessageReader* message, const SegmentSpan& segment,
                                             const uint8_t* slot, int32_t depth_left) {
    StructReader result;
    result.message_ = message;
    if (message == nullptr) return result;
    result.depth_left_ = depth_left > 0 ? depth_left - 1 : 0;
    if (loadLittle<uint64_t>(slot) == 0) return result;
    if (depth_left <= 0) return rt::err(rt::kELOOP, "nesting limit exceeded");
    Target target = TRY(resolve(*message, segment, slot));
    return structAt(message, target, result);
  }

  // The struct a resolved pointer describes; `result` arrives with message and depth set.
  static rt::Result<StructReader> structAt(MessageReader* message, const Target& target,
                                           StructReader result) {
    if (target.tag.kind() != PointerKind::kStruct) return malformed("expected a struct pointer");
    uint64_t words = static_cast<uint64_t>(target.tag.dataWords()) + target.tag.pointerCount();
    if (!inBounds(target.segment, target.word, words)) return malformed("struct out of bounds");
    TRY(charge(*message, words));
    const uint8_t* start = target.segment.start + target.word * kWordBytes;
    result.segment_ = target.segment;
    result.data_ = start;
    result.data_bytes_ = static_cast<uint32_t>(target.tag.dataWords()) * kWordBytes;
    result.pointers_ = start + result.data_bytes_;
    result.pointer_count_ = target.tag.pointerCount();
    return result;
  }

  // `expected` must match the list's element size exactly (composite for struct lists), unless
  // `accept_any` is set (the schema-less walk).
  static rt::Result<ListReader> readList(MessageReader* message, const SegmentSpan& segment,
                                         const uint8_t* slot, int32_t depth_left,
                                         ElementSize expected, bool accept_any) {
    ListReader result;
    result.message_ = message;
    result.element_size_ = expected;
    if (message == nullptr) return result;
    result.depth_left_ = depth_left > 0 ? depth_left - 1 : 0;
    if (loadLittle<uint64_t>(slot) == 0) return result;
    if (depth_left <= 0) return rt::err(rt::kELOOP, "nesting limit exceeded");
    Target target = TRY(resolve(*message, segment, slot));
    return listAt(message, target, result, expected, accept_any);
  }

  // The list a resolved pointer describes; `result` arrives with message and depth set.
  static rt::Result<ListReader> listAt(MessageReader* message, const Target& target,
                                       ListReader result, ElementSize expected, bool accept_any) {
    if (target.tag.kind() != PointerKind::kList) return malformed("expected a list pointer");
    ElementSize size = target.tag.elementSize();
    if (!accept_any && size != expected)
      return malformed("list element size does not match the schema");
    const uint8_t* segment_start = target.segment.start;
    result.segment_ = target.segment;
    result.element_size_ = size;
    if (size == ElementSize::kComposite) {
      uint64_t words = target.tag.elementCount();
      if (!inBounds(target.segment, target.word, words + 1)) {
        return malformed("struct list out of bounds");
      }
      PointerWord tag{loadLittle<uint64_t>(segment_start + target.word * kWordBytes)};
      if (tag.kind() != PointerKind::kStruct)
        return malformed("struct list tag is not a struct pointer");
      uint64_t count = tag.tagElementCount();
      uint64_t per_element = static_cast<uint64_t>(tag.dataWords()) + tag.pointerCount();
      if (count * per_element > words) return malformed("struct list elements overrun the list");
      // Zero-sized elements cost nothing to store but something to visit: charge per element.
      TRY(charge(*message, words + 1 > count ? words + 1 : count));
      result.start_ = segment_start + (target.word + 1) * kWordBytes;
      result.count_ = static_cast<uint32_t>(count);
      result.step_bits_ = static_cast<uint32_t>(per_element * 64);
      result.struct_data_bytes_ = static_cast<uint32_t>(tag.dataWords()) * kWordBytes;
      result.struct_pointer_count_ = tag.pointerCount();
      return result;
    }
    uint64_t count = target.tag.elementCount();
    uint64_t bits = elementBits(size);
    uint64_t words = (count * bits + 63) / 64;
    if (!inBounds(target.segment, target.word, words)) return malformed("list out of bounds");
    TRY(charge(*message, bits == 0 ? count : words));
    result.start_ = segment_start + target.word * kWordBytes;
    result.count_ = static_cast<uint32_t>(count);
    result.step_bits_ = static_cast<uint32_t>(bits);
    if (size == ElementSize::kPointer) result.struct_pointer_count_ = 1;
    return result;
  }

  static rt::Result<Text> readText(MessageReader* message, const SegmentSpan& segment,
                                   const uint8_t* slot, int32_t depth_left, Text default_value) {
    if (message != nullptr && loadLittle<uint64_t>(slot) == 0) return default_value;
    ListReader list = TRY(readList(message, segment, slot, depth_left, ElementSize::kByte, false));
    if (list.count_ == 0) {
      if (message == nullptr) return default_value;
      return malformed("text without its NUL terminator");
    }
    if (list.start_[list.count_ - 1] != 0) return malformed("text without its NUL terminator");
    return Text{reinterpret_cast<const char*>(list.start_), list.count_ - 1};
  }

  static rt::Result<Data> readData(MessageReader* message, const SegmentSpan& segment,
                                   const uint8_t* slot, int32_t depth_left, Data default_value) {
    if (message != nullptr && loadLittle<uint64_t>(slot) == 0) return default_value;
    ListReader list = TRY(readList(message, segment, slot, depth_left, ElementSize::kByte, false));
    if (message == nullptr) return default_value;
    return Data{list.start_, list.count_};
  }

  static rt::Result<void> walkStruct(const StructReader& reader) {
    for (uint16_t i = 0; i < reader.pointer_count_; ++i) {
      TRY(walkPointer(reader.message_, reader.segment_,
                      reader.pointers_ + static_cast<size_t>(i) * kWordBytes, reader.depth_left_));
    }
    return {};
  }

  static rt::Result<void> walkPointer(MessageReader* message, const SegmentSpan& segment,
                                      const uint8_t* slot, int32_t depth_left) {
    if (loadLittle<uint64_t>(slot) == 0) return {};
    if (depth_left <= 0) return rt::err(rt::kELOOP, "nesting limit exceeded");
    Target target = TRY(resolve(*message, segment, slot));
    if (target.tag.kind() == PointerKind::kStruct) {
      StructReader child;
      child.message_ = message;
      child.depth_left_ = depth_left - 1;
      child = TRY(structAt(message, target, child));
      return walkStruct(child);
    }
    ListReader empty;
    empty.message_ = message;
    empty.depth_left_ = depth_left - 1;
    ListReader list = TRY(listAt(message, target, empty, ElementSize::kVoid, true));
    if (list.element_size_ == ElementSize::kPointer) {
      for (uint32_t i = 0; i < list.count_; ++i) {
        TRY(walkPointer(message, list.segment_, list.start_ + static_cast<size_t>(i) * kWordBytes,
                        list.depth_left_));
      }
    } else if (list.element_size_ == ElementSize::kComposite) {
      for (uint32_t i = 0; i < list.count_; ++i) TRY(walkStruct(list.getStructElement(i)));
    }
    return {};
  }
};

rt::Result<void> MessageReader::init(const void* bytes, size_t size, ReaderLimits limits) {
  segment_count_ = 0;
  limits_ = limits;
  budget_ = limits.traversal_limit_words;
  const uint8_t* base = static_cast<const uint8_t*>(bytes);
  if (base == nullptr || size < 8) return malformed("message shorter than its segment table");
  uint64_t count = static_cast<uint64_t>(loadLittle<uint32_t>(base)) + 1;
  // Every segment but the first is reached through a far pointer whose landing pad costs at
  // least one word, so a reader could never reach more segments than the traversal limit.
  if (count > 0xffffffffu || count - 1 > limits.traversal_limit_words) {
    return malformed("too many segments");
  }
  uint64_t table_bytes = (4 + 4 * count + 7) / 8 * 8;
  if (size < table_bytes) return malformed("truncated segment table");
  table_ = base + 4;
  anchor_stride_ = static_cast<uint32_t>((count + kAnchorCount - 1) / kAnchorCount);
  uint64_t offset = table_bytes;
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t words = segmentWords(i);
    if (words * kWordBytes > size - offset) return malformed("segment extends past the message");
    if (i % anchor_stride_ == 0) anchors_[i / anchor_stride_] = base + offset;
    offset += words * kWordBytes;
  }
  if (offset != size) return malformed("bytes after the last segment");
  if (segmentWords(0) == 0) return malformed("first segment has no root pointer");
  segment_count_ = static_cast<uint32_t>(count);
  total_bytes_ = size;
  return {};
}

uint32_t MessageReader::segmentWords(uint32_t index) const {
  return loadLittle<uint32_t>(table_ + 4 * static_cast<size_t>(index));
}

rt::Result<SegmentSpan> MessageReader::segment(uint32_t index) {
  uint32_t first = index / anchor_stride_ * anchor_stride_;
  const uint8_t* start = anchors_[index / anchor_stride_];
  if (index > first) {
    // Two table entries to a word.
    TRY(PointerResolver::charge(*this, (static_cast<uint64_t>(index - first) + 1) / 2));
    for (uint32_t i = first; i < index; ++i)
      start += static_cast<size_t>(segmentWords(i)) * kWordBytes;
  }
  return SegmentSpan{start, segmentWords(index)};
}

rt::Result<StructReader> MessageReader::getRootStruct() {
  if (segment_count_ == 0) return malformed("message not initialised");
  SegmentSpan root = TRY(segment(0));
  return PointerResolver::readStruct(this, root, root.start,
                                     static_cast<int32_t>(limits_.nesting_limit));
}

rt::Result<ListReader> MessageReader::getRootList(ElementSize expected) {
  if (segment_count_ == 0) return malformed("message not initialised");
  SegmentSpan root = TRY(segment(0));
  return PointerResolver::readList(this, root, root.start,
                                   static_cast<int32_t>(limits_.nesting_limit), expected, false);
}

rt::Result<void> MessageReader::validate() {
  if (segment_count_ == 0) return malformed("message not initialised");
  SegmentSpan root = TRY(segment(0));
  return PointerResolver::walkPointer(this, root, root.start,
                                      static_cast<int32_t>(limits_.nesting_limit));
}

rt::Result<StructReader> StructReader::getStruct(uint16_t index) const {
  if (index >= pointer_count_) {
    StructReader empty;
    empty.message_ = message_;
    empty.depth_left_ = depth_left_ > 0 ? depth_left_ - 1 : 0;
    return empty;
  }
  return PointerResolver::readStruct(
      message_, segment_, pointers_ + static_cast<size_t>(index) * kWordBytes, depth_left_);
}

rt::Result<ListReader> StructReader::getList(uint16_t index, ElementSize expected) const {
  if (index >= pointer_count_) {
    ListReader empty;
    empty.message_ = message_;
    empty.element_size_ = expected;
    return empty;
  }
  return PointerResolver::readList(message_, segment_,
                                   pointers_ + static_cast<size_t>(index) * kWordBytes, depth_left_,
                                   expected, false);
}

rt::Result<Text> StructReader::getText(uint16_t index, Text default_value) const {
  if (index >= pointer_count_) return default_value;
  return PointerResolver::readText(message_, segment_,
                                   pointers_ + static_cast<size_t>(index) * kWordBytes, depth_left_,
                                   default_value);
}

rt::Result<Data> StructReader::getBlob(uint16_t index, Data default_value) const {
  if (index >= pointer_count_) return default_value;
  return PointerResolver::readData(message_, segment_,
                                   pointers_ + static_cast<size_t>(index) * kWordBytes, depth_left_,
                                   default_value);
}

StructReader ListReader::getStructElement(uint32_t index) const {
  StructReader element;
  element.message_ = message_;
  element.depth_left_ = depth_left_;
  if (index >= count_ || element_size_ != ElementSize::kComposite) return element;
  const uint8_t* at = start_ + static_cast<size_t>(index) * (step_bits_ / 8);
  element.segment_ = segment_;
  element.data_ = at;
  element.data_bytes_ = struct_data_bytes_;
  element.pointers_ = at + struct_data_bytes_;
  element.pointer_count_ = struct_pointer_count_;
  return element;
}

const uint8_t* ListReader::pointerSlot(uint32_t index) const {
  if (index >= count_ || element_size_ != ElementSize::kPointer) return nullptr;
  return start_ + static_cast<size_t>(index) * kWordBytes;
}

rt::Result<ListReader> ListReader::getList(uint32_t index, ElementSize expected) const {
  const uint8_t* slot = pointerSlot(index);
  if (slot == nullptr) return malformed("list element is not a pointer");
  return PointerResolver::readList(message_, segment_, slot, depth_left_, expected, false);
}

rt::Result<Text> ListReader::getText(uint32_t index) const {
  const uint8_t* slot = pointerSlot(index);
  if (slot == nullptr) return malformed("list element is not a pointer");
  return PointerResolver::readText(message_, segment_, slot, depth_left_, Text());
}

rt::Result<Data> ListReader::getBlob(uint32_t index) const {
  const uint8_t* slot = pointerSlot(index);
  if (slot == nullptr) return malformed("list element is not a pointer");
  return PointerResolver::readData(message_, segment_, slot, depth_left_, Data());
}

rt::Result<StructReader> ListReader::getStruct(uint32_t index) const {
  const uint8_t* slot = pointerSlot(index);
  if (slot == nullptr) return malformed("list element is not a pointer");
  return PointerResolver::readStruct(message_, segment_, slot, depth_left_);
}

}  // namespace sonde::capnp
