// SPDX-License-Identifier: MIT
// Typed lists for generated code: List<T>::Reader and ::Builder over primitives, enums, bool, text,
// data, structs and lists.
#pragma once

#include <stdint.h>

#include "rt/result.hpp"
#include "sonde/capnp/builder.hpp"
#include "sonde/capnp/reader.hpp"

namespace sonde::capnp {

enum class Kind : uint8_t { kPrimitive, kBool, kEnum, kText, kData, kStruct, kList };

// Generated structs, Text, Data and List<T> say their kind with a kKind member; enums and
// primitives are recognised here.
template <typename T, bool = __is_enum(T)>
struct KindOf {
  static constexpr Kind value = T::kKind;
};
template <typename T>
struct KindOf<T, true> {
  static constexpr Kind value = Kind::kEnum;
};
#define SONDE_CAPNP_PRIMITIVE_KIND(T, K) \
  template <>                            \
  struct KindOf<T, false> {              \
    static constexpr Kind value = K;     \
  };
SONDE_CAPNP_PRIMITIVE_KIND(bool, Kind::kBool)
SONDE_CAPNP_PRIMITIVE_KIND(int8_t, Kind::kPrimitive)
SONDE_CAPNP_PRIMITIVE_KIND(int16_t, Kind::kPrimitive)
SONDE_CAPNP_PRIMITIVE_KIND(int32_t, Kind::kPrimitive)
SONDE_CAPNP_PRIMITIVE_KIND(int64_t, Kind::kPrimitive)
SONDE_CAPNP_PRIMITIVE_KIND(uint8_t, Kind::kPrimitive)
SONDE_CAPNP_PRIMITIVE_KIND(uint16_t, Kind::kPrimitive)
SONDE_CAPNP_PRIMITIVE_KIND(uint32_t, Kind::kPrimitive)
SONDE_CAPNP_PRIMITIVE_KIND(uint64_t, Kind::kPrimitive)
SONDE_CAPNP_PRIMITIVE_KIND(float, Kind::kPrimitive)
SONDE_CAPNP_PRIMITIVE_KIND(double, Kind::kPrimitive)
SONDE_CAPNP_PRIMITIVE_KIND(Text, Kind::kText)
SONDE_CAPNP_PRIMITIVE_KIND(Data, Kind::kData)
#undef SONDE_CAPNP_PRIMITIVE_KIND

// The element size a list of T has on the wire.
template <typename T>
constexpr ElementSize elementSizeOf() {
  constexpr Kind kind = KindOf<T>::value;
  if constexpr (kind == Kind::kBool) {
    return ElementSize::kBit;
  } else if constexpr (kind == Kind::kEnum) {
    return ElementSize::kTwoBytes;
  } else if constexpr (kind == Kind::kPrimitive) {
    return sizeof(T) == 1   ? ElementSize::kByte
           : sizeof(T) == 2 ? ElementSize::kTwoBytes
           : sizeof(T) == 4 ? ElementSize::kFourBytes
                            : ElementSize::kEightBytes;
  } else if constexpr (kind == Kind::kStruct) {
    return ElementSize::kComposite;
  } else {
    return ElementSize::kPointer;
  }
}

// Allocates a list of `count` T in pointer slot `index` of `owner` (a struct or list builder).
template <typename T, typename Owner, typename Index>
ListBuilder initListOf(Owner& owner, Index index, uint32_t count) {
  if constexpr (KindOf<T>::value == Kind::kStruct) {
    return owner.initStructList(index, count, T::kDataWords, T::kPointerCount);
  } else {
    return owner.initList(index, elementSizeOf<T>(), count);
  }
}

// Number of bytes before the NUL of a C string (no C library in freestanding code).
inline size_t textLength(const char* chars) {
  size_t n = 0;
  while (chars[n] != 0) ++n;
  return n;
}

template <typename T>
struct List {
  static constexpr Kind kKind = Kind::kList;

  class Reader {
   public:
    Reader() = default;
    explicit Reader(ListReader list) : list_(list) {}
    uint32_t size() const { return list_.size(); }
    ListReader raw() const { return list_; }

    // Primitives, bool and enums return the value; structs their Reader; text, data and
    // nested lists a Result, since following their pointer can fail.
    auto operator[](uint32_t index) const {
      constexpr Kind kind = KindOf<T>::value;
      if constexpr (kind == Kind::kPrimitive) {
        return list_.template getPrimitive<T>(index);
      } else if constexpr (kind == Kind::kBool) {
        return list_.getBool(index);
      } else if constexpr (kind == Kind::kEnum) {
        return static_cast<T>(list_.template getPrimitive<uint16_t>(index));
      } else if constexpr (kind == Kind::kStruct) {
        return typename T::Reader(list_.getStructElement(index));
      } else if constexpr (kind == Kind::kText) {
        return list_.getText(index);
      } else if constexpr (kind == Kind::kData) {
        return list_.getBlob(index);
      } else {
        using Inner = typename T::Reader;
        auto inner = list_.getList(index, elementSizeOf<typename T::Element>());
        if (!inner.ok()) return rt::Result<Inner>(inner.error());
        return rt::Result<Inner>(Inner(inner.value()));
      }
    }

   private:
    ListReader list_;
  };

  class Builder {
   public:
    Builder() = default;
    explicit Builder(ListBuilder list) : list_(list) {}
    uint32_t size() const { return list_.size(); }
    bool isNull() const { return list_.isNull(); }
    ListBuilder raw() const { return list_; }

    // Primitives, bool, enums.
    void set(uint32_t index, T value) {
      constexpr Kind kind = KindOf<T>::value;
      if constexpr (kind == Kind::kBool) {
        list_.setBool(index, value);
      } else if constexpr (kind == Kind::kEnum) {
        list_.template setPrimitive<uint16_t>(index, static_cast<uint16_t>(value));
      } else {
        list_.template setPrimitive<T>(index, value);
      }
    }
    T get(uint32_t index) const {
      constexpr Kind kind = KindOf<T>::value;
      if constexpr (kind == Kind::kBool) {
        return list_.getBool(index);
      } else if constexpr (kind == Kind::kEnum) {
        return static_cast<T>(list_.template getPrimitive<uint16_t>(index));
      } else {
        return list_.template getPrimitive<T>(index);
      }
    }
    // Struct elements.
    auto operator[](uint32_t index) const {
      return typename T::Builder(list_.getStructElement(index));
    }
    // Text and data elements.
    void setText(uint32_t index, const char* chars, size_t size) {
      list_.setText(index, chars, size);
    }
    void setText(uint32_t index, const char* chars) {
      list_.setText(index, chars, textLength(chars));
    }
    void setData(uint32_t index, const void* bytes, size_t size) {
      list_.setBlob(index, bytes, size);
    }
    MutableBytes initData(uint32_t index, size_t size) { return list_.initBlob(index, size); }
    // Nested lists.
    auto init(uint32_t index, uint32_t count) {
      return typename T::Builder(initListOf<typename T::Element>(list_, index, count));
    }

   private:
    ListBuilder list_;
  };

  using Element = T;
};

// Helpers the generated accessors call.
template <typename T>
rt::Result<typename T::Reader> readStructField(const StructReader& owner, uint16_t index) {
  auto child = owner.getStruct(index);
  if (!child.ok()) return child.error();
  return typename T::Reader(child.value());
}
template <typename T>
rt::Result<typename List<T>::Reader> readListField(const StructReader& owner, uint16_t index) {
  auto list = owner.getList(index, elementSizeOf<T>());
  if (!list.ok()) return list.error();
  return typename List<T>::Reader(list.value());
}
// Pointer fields with a schema default: an unset pointer reads the default, a message the
// generator embedded in the getter (`words`, `bytes`) and read through the getter's own
// `fallback` reader. Re-reading the constant resets that reader's traversal budget; earlier
// readers from it stay valid (same bytes).
template <typename T>
rt::Result<typename T::Reader> readStructFieldOr(const StructReader& owner, uint16_t index,
                                                 MessageReader& fallback, const uint64_t* words,
                                                 size_t bytes) {
  if (owner.hasPointer(index)) return readStructField<T>(owner, index);
  auto ready = fallback.init(words, bytes);
  if (!ready.ok()) return ready.error();
  return fallback.getRoot<T>();
}
template <typename T>
rt::Result<typename List<T>::Reader> readListFieldOr(const StructReader& owner, uint16_t index,
                                                     MessageReader& fallback, const uint64_t* words,
                                                     size_t bytes) {
  if (owner.hasPointer(index)) return readListField<T>(owner, index);
  auto ready = fallback.init(words, bytes);
  if (!ready.ok()) return ready.error();
  auto list = fallback.getRootList(elementSizeOf<T>());
  if (!list.ok()) return list.error();
  return typename List<T>::Reader(list.value());
}

template <typename T>
typename List<T>::Builder initListField(StructBuilder& owner, uint16_t index, uint32_t count) {
  return typename List<T>::Builder(initListOf<T>(owner, index, count));
}

}  // namespace sonde::capnp
