// SPDX-License-Identifier: MIT
// BtfBuilder: hand-built BTF blobs for the trace core's tests (types, strings, header tweaks).
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "trace/btf.hpp"

namespace trace::testing {

// Types are appended in id order (the first is id 1); each add_* returns the new id. Names go
// into the string section, which starts with the empty name at offset 0.
class BtfBuilder {
 public:
  struct Member {
    std::string name;
    uint32_t type;
    uint32_t offset;  // bits (or bitfield size << 24 | bits with kind_flag)
  };
  struct Param {
    std::string name;
    uint32_t type;
  };
  struct Entry {  // DATASEC
    uint32_t type, offset, size;
  };

  BtfBuilder() { strings_.push_back(0); }

  uint32_t name(const std::string& text) {
    if (text.empty()) return 0;
    if (auto found = names_.find(text); found != names_.end()) return found->second;
    uint32_t offset = static_cast<uint32_t>(strings_.size());
    strings_.insert(strings_.end(), text.begin(), text.end());
    strings_.push_back(0);
    names_[text] = offset;
    return offset;
  }
  static uint32_t info(uint32_t kind, uint32_t vlen = 0, bool kflag = false) {
    return (kflag ? 1u << 31 : 0) | (kind << 24) | vlen;
  }
  // Any btf_type with any records after it (for hostile blobs).
  uint32_t raw(uint32_t name_off, uint32_t info_word, uint32_t size_or_type,
               std::vector<uint32_t> extra = {}) {
    words_.push_back(name_off);
    words_.push_back(info_word);
    words_.push_back(size_or_type);
    words_.insert(words_.end(), extra.begin(), extra.end());
    return ++count_;
  }
  // Words appended to the type section as they are (a truncated or odd record).
  void append_words(const std::vector<uint32_t>& words) {
    words_.insert(words_.end(), words.begin(), words.end());
  }
  uint32_t add_int(const std::string& n, uint32_t size, uint32_t bits, uint32_t encoding = 0,
                   uint32_t bit_offset = 0) {
    return raw(name(n), info(kBtfKindInt), size, {(encoding << 24) | (bit_offset << 16) | bits});
  }
  uint32_t add_ref(uint32_t kind, uint32_t type, const std::string& n = "") {
    return raw(name(n), info(kind), type);
  }
  uint32_t add_ptr(uint32_t type) { return add_ref(kBtfKindPtr, type); }
  uint32_t add_typedef(const std::string& n, uint32_t type) {
    return add_ref(kBtfKindTypedef, type, n);
  }
  uint32_t add_const(uint32_t type) { return add_ref(kBtfKindConst, type); }
  uint32_t add_volatile(uint32_t type) { return add_ref(kBtfKindVolatile, type); }
  uint32_t add_type_tag(const std::string& n, uint32_t type) {
    return add_ref(kBtfKindTypeTag, type, n);
  }
  uint32_t add_array(uint32_t element, uint32_t index, uint32_t count) {
    return raw(0, info(kBtfKindArray), 0, {element, index, count});
  }
  uint32_t add_struct(const std::string& n, uint32_t size, const std::vector<Member>& members,
                      bool is_union = false, bool kflag = false) {
    std::vector<uint32_t> extra;
    for (const Member& m : members) {
      extra.push_back(name(m.name));
      extra.push_back(m.type);
      extra.push_back(m.offset);
    }
    return raw(name(n),
               info(is_union ? kBtfKindUnion : kBtfKindStruct,
                    static_cast<uint32_t>(members.size()), kflag),
               size, extra);
  }
  uint32_t add_enum(const std::string& n, uint32_t size,
                    const std::vector<std::pair<std::string, int32_t>>& values) {
    std::vector<uint32_t> extra;
    for (const auto& [value_name, value] : values) {
      extra.push_back(name(value_name));
      extra.push_back(static_cast<uint32_t>(value));
    }
    return raw(name(n), info(kBtfKindEnum, static_cast<uint32_t>(values.size())), size, extra);
  }
  uint32_t add_enum64(const std::string& n, uint32_t size,
                      const std::vector<std::pair<std::string, uint64_t>>& values) {
    std::vector<uint32_t> extra;
    for (const auto& [value_name, value] : values) {
      extra.push_back(name(value_name));
      extra.push_back(static_cast<uint32_t>(value));
      extra.push_back(static_cast<uint32_t>(value >> 32));
    }
    return raw(name(n), info(kBtfKindEnum64, static_cast<uint32_t>(values.size())), size, extra);
  }
  uint32_t add_fwd(const std::string& n, bool is_union = false) {
    return raw(name(n), info(kBtfKindFwd, 0, is_union), 0);
  }
  uint32_t add_func_proto(uint32_t return_type, const std::vector<Param>& params) {
    std::vector<uint32_t> extra;
    for (const Param& p : params) {
      extra.push_back(name(p.name));
      extra.push_back(p.type);
    }
    return raw(0, info(kBtfKindFuncProto, static_cast<uint32_t>(params.size())), return_type,
               extra);
  }
  uint32_t add_func(const std::string& n, uint32_t proto, uint32_t linkage = 1) {
    return raw(name(n), info(kBtfKindFunc, linkage), proto);
  }
  uint32_t add_var(const std::string& n, uint32_t type, uint32_t linkage = 1) {
    return raw(name(n), info(kBtfKindVar), type, {linkage});
  }
  uint32_t add_datasec(const std::string& n, uint32_t size, const std::vector<Entry>& entries) {
    std::vector<uint32_t> extra;
    for (const Entry& e : entries) {
      extra.push_back(e.type);
      extra.push_back(e.offset);
      extra.push_back(e.size);
    }
    return raw(name(n), info(kBtfKindDatasec, static_cast<uint32_t>(entries.size())), size, extra);
  }
  uint32_t add_float(const std::string& n, uint32_t size) {
    return raw(name(n), info(kBtfKindFloat), size);
  }
  uint32_t add_decl_tag(const std::string& value, uint32_t type, int32_t component = -1) {
    return raw(name(value), info(kBtfKindDeclTag), type, {static_cast<uint32_t>(component)});
  }

  uint32_t type_bytes() const { return static_cast<uint32_t>(words_.size() * 4); }
  uint32_t string_bytes() const { return static_cast<uint32_t>(strings_.size()); }

  // header + types + strings, with the header as given (its offsets and lengths by default).
  std::vector<uint8_t> build(const BtfHeader* override_header = nullptr) const {
    BtfHeader header = {kBtfMagic,    kBtfVersion,   0, sizeof(BtfHeader), 0, type_bytes(),
                        type_bytes(), string_bytes()};
    if (override_header != nullptr) header = *override_header;
    std::vector<uint8_t> blob(sizeof(BtfHeader) + type_bytes() + string_bytes());
    std::memcpy(blob.data(), &header, sizeof(header));
    if (!words_.empty()) std::memcpy(blob.data() + sizeof(BtfHeader), words_.data(), type_bytes());
    std::memcpy(blob.data() + sizeof(BtfHeader) + type_bytes(), strings_.data(), string_bytes());
    return blob;
  }
  BtfHeader header() const {
    return {kBtfMagic,    kBtfVersion,   0, sizeof(BtfHeader), 0, type_bytes(),
            type_bytes(), string_bytes()};
  }

 private:
  std::vector<uint32_t> words_;
  std::vector<char> strings_;
  std::map<std::string, uint32_t> names_;
  uint32_t count_ = 0;
};

}  // namespace trace::testing
