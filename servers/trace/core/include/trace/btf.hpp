// SPDX-License-Identifier: MIT
// BTF (BPF Type Format): the blob's layout (uapi/linux/btf.h) and Btf, a blob Linux 6.1 accepts.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rt/allocator.hpp"
#include "rt/result.hpp"

namespace trace {

class VerifierLog;

inline constexpr uint16_t kBtfMagic = 0xeb9f;
inline constexpr uint8_t kBtfVersion = 1;
inline constexpr uint32_t kBtfMaxSize = 16u << 20;         // BTF_MAX_SIZE
inline constexpr uint32_t kBtfMaxType = 0x000fffff;        // BTF_MAX_TYPE
inline constexpr uint32_t kBtfMaxNameOffset = 0x00ffffff;  // BTF_MAX_NAME_OFFSET

enum BtfKind : uint32_t {
  kBtfKindUnknown = 0,
  kBtfKindInt = 1,
  kBtfKindPtr = 2,
  kBtfKindArray = 3,
  kBtfKindStruct = 4,
  kBtfKindUnion = 5,
  kBtfKindEnum = 6,
  kBtfKindFwd = 7,
  kBtfKindTypedef = 8,
  kBtfKindVolatile = 9,
  kBtfKindConst = 10,
  kBtfKindRestrict = 11,
  kBtfKindFunc = 12,
  kBtfKindFuncProto = 13,
  kBtfKindVar = 14,
  kBtfKindDatasec = 15,
  kBtfKindFloat = 16,
  kBtfKindDeclTag = 17,
  kBtfKindTypeTag = 18,
  kBtfKindEnum64 = 19,
};
inline constexpr uint32_t kBtfKindMax = kBtfKindEnum64;

// INT encodings (BTF_INT_SIGNED, BTF_INT_CHAR, BTF_INT_BOOL).
inline constexpr uint32_t kBtfIntSigned = 1;
inline constexpr uint32_t kBtfIntChar = 2;
inline constexpr uint32_t kBtfIntBool = 4;

struct BtfHeader {
  uint16_t magic;
  uint8_t version;
  uint8_t flags;
  uint32_t hdr_len;
  uint32_t type_off;
  uint32_t type_len;
  uint32_t str_off;
  uint32_t str_len;
};
static_assert(sizeof(BtfHeader) == 24);

// struct btf_type: `size_or_type` is `size` for INT, STRUCT, UNION, ENUM, ENUM64, DATASEC and
// FLOAT, else `type`. Each kind may be followed by its own records.
struct BtfType {
  uint32_t name_off;
  uint32_t info;  // vlen: bits 0-15, kind: bits 24-28, kind_flag: bit 31
  uint32_t size_or_type;
};
struct BtfArray {
  uint32_t type;
  uint32_t index_type;
  uint32_t nelems;
};
struct BtfMember {
  uint32_t name_off;
  uint32_t type;
  uint32_t offset;  // with kind_flag: bitfield size in bits 24-31, bit offset in bits 0-23
};
struct BtfEnum {
  uint32_t name_off;
  int32_t val;
};
struct BtfEnum64 {
  uint32_t name_off;
  uint32_t val_lo32;
  uint32_t val_hi32;
};
struct BtfParam {
  uint32_t name_off;
  uint32_t type;
};
struct BtfVar {
  uint32_t linkage;
};
struct BtfVarSecinfo {
  uint32_t type;
  uint32_t offset;
  uint32_t size;
};
struct BtfDeclTag {
  int32_t component_idx;
};

inline uint32_t btf_kind(const BtfType* t) { return (t->info >> 24) & 0x1f; }
inline uint32_t btf_vlen(const BtfType* t) { return t->info & 0xffff; }
inline bool btf_kflag(const BtfType* t) { return (t->info >> 31) != 0; }

// A BTF blob that passed Linux 6.1's btf_parse, with what its checks resolved: the type behind
// each modifier and the size of each array.
class Btf {
 public:
  Btf() = default;
  Btf(const Btf&) = delete;
  Btf& operator=(const Btf&) = delete;

  // btf_parse on `size` bytes at `data` (memory of `size` bytes from `allocator`, which the Btf
  // owns from then on, also on failure). EINVAL (and the others Linux answers: ENOTSUPP, E2BIG,
  // EEXIST, ELOOP, ENOMEM) with Linux's message in `log`.
  [[nodiscard]] rt::Result<void> parse(rt::Allocator& allocator, uint8_t* data, uint32_t size,
                                       VerifierLog& log);
  // Frees everything; the Btf is empty afterwards.
  void destroy(rt::Allocator& allocator);

  const uint8_t* data() const { return data_; }
  uint32_t size() const { return size_; }
  uint32_t type_count() const { return type_count_; }  // with void, id 0
  // btf_type_by_id: void for id 0, nullptr past the last type.
  const BtfType* type_by_id(uint32_t id) const;
  // btf_name_by_offset: nullptr for an offset outside the string section.
  const char* name_by_offset(uint32_t offset) const;
  // btf_type_id_size: the type that gives `*id` a size (modifiers and vars followed), with
  // `*id` updated to it and the size in `*size`; nullptr for a type without size (void, FWD,
  // FUNC, FUNC_PROTO) or an id past the end.
  const BtfType* type_id_size(uint32_t* id, uint32_t* size) const;
  static bool is_void(const BtfType* t);

 private:
  friend class BtfChecker;

  uint8_t* data_ = nullptr;
  uint32_t size_ = 0;
  BtfHeader header_ = {};
  const char* strings_ = nullptr;
  uint32_t* type_offsets_ = nullptr;  // byte offset of each type in the type section
  const uint8_t* type_section_ = nullptr;
  uint8_t* aligned_types_ = nullptr;  // a 4-aligned copy when the blob placed them unaligned
  uint32_t type_count_ = 0;
  uint32_t* resolved_ids_ = nullptr;
  uint32_t* resolved_sizes_ = nullptr;
};

}  // namespace trace
