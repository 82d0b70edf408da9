// SPDX-License-Identifier: MIT
// Btf: Linux 6.1's btf_parse up to each type's own fields (header, sections, strings, metas).
#include "trace/btf.hpp"

#include "btf_checker.hpp"
#include "rt/errno.hpp"

namespace trace {
namespace {

const BtfType kVoid = {0, 0, 0};

const char* const kKindNames[] = {
    "UNKNOWN", "INT",     "PTR",      "ARRAY",    "STRUCT",   "UNION",  "ENUM",
    "FWD",     "TYPEDEF", "VOLATILE", "CONST",    "RESTRICT", "FUNC",   "FUNC_PROTO",
    "VAR",     "DATASEC", "FLOAT",    "DECL_TAG", "TYPE_TAG", "ENUM64",
};

constexpr uint32_t kInfoMask = 0x9f00ffff;  // BTF_INFO_MASK
constexpr uint32_t kIntMask = 0x0fffffff;   // BTF_INT_MASK
constexpr uint32_t kMaxNameLength = 128;    // KSYM_NAME_LEN
constexpr uint32_t kFuncGlobal = 1;         // BTF_FUNC_GLOBAL
constexpr uint32_t kVarGlobalAllocated = 1;

bool type_id_valid(uint32_t id) { return id <= kBtfMaxType; }

// The kernel's ctype: Latin-1 letters count as letters.
bool kernel_isalpha(uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= 0xc0 && c != 0xd7 && c != 0xf7);
}
bool kernel_isalnum(uint8_t c) { return kernel_isalpha(c) || (c >= '0' && c <= '9'); }

bool name_char_ok(uint8_t c, bool first, bool dot_ok) {
  if (first ? kernel_isalpha(c) : kernel_isalnum(c)) return true;
  return c == '_' || (c == '.' && dot_ok);
}

bool is_power_of_two(uint32_t value) { return value != 0 && (value & (value - 1)) == 0; }

// The bytes of records after a type's btf_type, once its meta check passed.
uint32_t extra_size(const BtfType* t) {
  switch (btf_kind(t)) {
    case kBtfKindInt:
    case kBtfKindVar:
    case kBtfKindDeclTag: return 4;
    case kBtfKindArray: return sizeof(BtfArray);
    case kBtfKindStruct:
    case kBtfKindUnion: return btf_vlen(t) * sizeof(BtfMember);
    case kBtfKindEnum: return btf_vlen(t) * sizeof(BtfEnum);
    case kBtfKindEnum64: return btf_vlen(t) * sizeof(BtfEnum64);
    case kBtfKindFuncProto: return btf_vlen(t) * sizeof(BtfParam);
    case kBtfKindDatasec: return btf_vlen(t) * sizeof(BtfVarSecinfo);
    default: return 0;
  }
}

template <typename T>
T* allocate_array(rt::Allocator& allocator, uint32_t count) {
  auto* array = static_cast<T*>(allocator.allocate(count * sizeof(T), alignof(T)));
  if (array != nullptr) {
    for (uint32_t i = 0; i < count; ++i) array[i] = T{};
  }
  return array;
}

}  // namespace

// Kind groups.
bool btf_is_modifier(const BtfType* t) {
  switch (btf_kind(t)) {
    case kBtfKindTypedef:
    case kBtfKindVolatile:
    case kBtfKindConst:
    case kBtfKindRestrict:
    case kBtfKindTypeTag: return true;
    default: return false;
  }
}
bool btf_is_struct(const BtfType* t) {
  return btf_kind(t) == kBtfKindStruct || btf_kind(t) == kBtfKindUnion;
}
bool btf_has_size(const BtfType* t) {
  switch (btf_kind(t)) {
    case kBtfKindInt:
    case kBtfKindStruct:
    case kBtfKindUnion:
    case kBtfKindEnum:
    case kBtfKindDatasec:
    case kBtfKindFloat:
    case kBtfKindEnum64: return true;
    default: return false;
  }
}
bool btf_no_size(const BtfType* t) {
  return Btf::is_void(t) || btf_kind(t) == kBtfKindFwd || btf_kind(t) == kBtfKindFunc ||
         btf_kind(t) == kBtfKindFuncProto;
}
bool btf_needs_resolve(const BtfType* t) {
  if (Btf::is_void(t)) return false;
  switch (btf_kind(t)) {
    case kBtfKindPtr:
    case kBtfKindStruct:
    case kBtfKindUnion:
    case kBtfKindArray:
    case kBtfKindVar:
    case kBtfKindFunc:
    case kBtfKindDeclTag:
    case kBtfKindDatasec: return true;
    default: return btf_is_modifier(t);
  }
}
bool btf_is_source_only(const BtfType* t) {
  return btf_kind(t) == kBtfKindVar || btf_kind(t) == kBtfKindDeclTag ||
         btf_kind(t) == kBtfKindDatasec;
}
uint32_t btf_int_data(const BtfType* t) { return *reinterpret_cast<const uint32_t*>(t + 1); }
bool btf_int_is_regular(const BtfType* t) {
  uint32_t data = btf_int_data(t);
  uint32_t bits = btf_int_bits(data);
  uint32_t bytes = bits_roundup_bytes(bits);
  return (bits & 7) == 0 && btf_int_offset(data) == 0 &&
         (bytes == 1 || bytes == 2 || bytes == 4 || bytes == 8 || bytes == 16);
}

// Btf.

bool Btf::is_void(const BtfType* t) { return t == &kVoid; }

const BtfType* Btf::type_by_id(uint32_t id) const {
  if (id == 0) return &kVoid;
  if (id >= type_count_) return nullptr;
  return reinterpret_cast<const BtfType*>(type_section_ + type_offsets_[id]);
}

const char* Btf::name_by_offset(uint32_t offset) const {
  return offset < header_.str_len ? strings_ + offset : nullptr;
}

const BtfType* Btf::type_id_size(uint32_t* id, uint32_t* size) const {
  uint32_t size_id = *id;
  const BtfType* t = type_by_id(size_id);
  if (t == nullptr || btf_no_size(t)) return nullptr;
  auto size_of = [&](const BtfType* type, uint32_t type_id, uint32_t* out) {
    if (btf_has_size(type)) {
      *out = type->size_or_type;
    } else if (btf_kind(type) == kBtfKindArray) {
      *out = resolved_sizes_[type_id];
    } else if (btf_kind(type) == kBtfKindPtr) {
      *out = 8;
    } else {
      return false;
    }
    return true;
  };
  uint32_t found = 0;
  if (!size_of(t, size_id, &found)) {
    if (!btf_is_modifier(t) && btf_kind(t) != kBtfKindVar) return nullptr;
    size_id = resolved_ids_[size_id];
    t = type_by_id(size_id);
    if (t == nullptr || btf_no_size(t) || !size_of(t, size_id, &found)) return nullptr;
  }
  *id = size_id;
  if (size != nullptr) *size = found;
  return t;
}

rt::Result<void> Btf::parse(rt::Allocator& allocator, uint8_t* data, uint32_t size,
                            VerifierLog& log) {
  data_ = data;
  size_ = size;
  int error = 0;
  {
    BtfChecker checker(*this, allocator, log);
    error = checker.check_header();
    if (error == 0) error = checker.check_strings();
    if (error == 0) error = checker.check_type_section();
    if (error == 0) error = checker.check_type_tags();
  }
  if (error == 0 && log.full()) error = -rt::kENOSPC;
  if (error != 0) return rt::err(-error, "BTF refused");
  return {};
}

void Btf::destroy(rt::Allocator& allocator) {
  if (data_ != nullptr) allocator.deallocate(data_, size_);
  if (aligned_types_ != nullptr) allocator.deallocate(aligned_types_, header_.type_len);
  if (type_offsets_ != nullptr) allocator.deallocate(type_offsets_, type_count_ * 4);
  if (resolved_ids_ != nullptr) allocator.deallocate(resolved_ids_, type_count_ * 4);
  if (resolved_sizes_ != nullptr) allocator.deallocate(resolved_sizes_, type_count_ * 4);
  data_ = nullptr;
  aligned_types_ = nullptr;
  type_offsets_ = nullptr;
  resolved_ids_ = nullptr;
  resolved_sizes_ = nullptr;
  type_count_ = 0;
  size_ = 0;
}

// BtfChecker: logging.

BtfChecker::~BtfChecker() {
  if (visit_ != nullptr) allocator_.deallocate(visit_, btf_.type_count_);
}

const char* BtfChecker::name_for_log(uint32_t offset) const {
  if (offset == 0) return "(anon)";
  const char* name = btf_.name_by_offset(offset);
  return name != nullptr ? name : "(invalid-name-offset)";
}

void BtfChecker::log_message(const char* format, va_list arguments) {
  if (format != nullptr && *format != 0) {
    log_.print(" ");
    log_.vprint(format, arguments);
  }
  log_.print("\n");
}

void BtfChecker::log_type(const BtfType* t, bool details, const char* format, ...) {
  if (!log_.enabled()) return;
  log_.print("[%u] %s %s%s", log_type_id_, kKindNames[btf_kind(t)], name_for_log(t->name_off),
             details ? " " : "");
  if (details) log_details(t);
  va_list arguments;
  va_start(arguments, format);
  log_message(format, arguments);
  va_end(arguments);
}

void BtfChecker::log_member(const BtfType* s, const BtfMember* m, const char* format, ...) {
  if (!log_.enabled()) return;
  // In the second pass a member's line follows its struct's, which the first pass also showed.
  if (checking_types_) log_type(s, true, nullptr);
  if (btf_kflag(s)) {
    log_.print("\t%s type_id=%u bitfield_size=%u bits_offset=%u", name_for_log(m->name_off),
               m->type, m->offset >> 24, m->offset & 0xffffff);
  } else {
    log_.print("\t%s type_id=%u bits_offset=%u", name_for_log(m->name_off), m->type, m->offset);
  }
  va_list arguments;
  va_start(arguments, format);
  log_message(format, arguments);
  va_end(arguments);
}

void BtfChecker::log_vsi(const BtfType* s, const BtfVarSecinfo* vsi, const char* format, ...) {
  if (!log_.enabled()) return;
  if (checking_types_) log_type(s, true, nullptr);
  log_.print("\t type_id=%u offset=%u size=%u", vsi->type, vsi->offset, vsi->size);
  va_list arguments;
  va_start(arguments, format);
  log_message(format, arguments);
  va_end(arguments);
}

void BtfChecker::log_details(const BtfType* t) {
  switch (btf_kind(t)) {
    case kBtfKindInt: {
      uint32_t data = btf_int_data(t);
      uint32_t encoding = btf_int_encoding(data);
      const char* name = encoding == 0               ? "(none)"
                         : encoding == kBtfIntSigned ? "SIGNED"
                         : encoding == kBtfIntChar   ? "CHAR"
                         : encoding == kBtfIntBool   ? "BOOL"
                                                     : "UNKN";
      log_.print("size=%u bits_offset=%u nr_bits=%u encoding=%s", t->size_or_type,
                 btf_int_offset(data), btf_int_bits(data), name);
      break;
    }
    case kBtfKindArray: {
      const auto* array = reinterpret_cast<const BtfArray*>(t + 1);
      log_.print("type_id=%u index_type_id=%u nr_elems=%u", array->type, array->index_type,
                 array->nelems);
      break;
    }
    case kBtfKindStruct:
    case kBtfKindUnion:
    case kBtfKindEnum:
    case kBtfKindEnum64:
    case kBtfKindDatasec: log_.print("size=%u vlen=%u", t->size_or_type, btf_vlen(t)); break;
    case kBtfKindFwd: log_.print("%s", btf_kflag(t) ? "union" : "struct"); break;
    case kBtfKindFuncProto: {
      const auto* args = reinterpret_cast<const BtfParam*>(t + 1);
      uint32_t count = btf_vlen(t);
      log_.print("return=%u args=(", t->size_or_type);
      if (count == 0) {
        log_.print("void");
      } else if (count == 1 && args[0].type == 0) {
        log_.print("vararg");
      } else {
        log_.print("%u %s", args[0].type, name_for_log(args[0].name_off));
        for (uint32_t i = 1; i + 1 < count; ++i)
          log_.print(", %u %s", args[i].type, name_for_log(args[i].name_off));
        if (count > 1) {
          const BtfParam& last = args[count - 1];
          if (last.type != 0) {
            log_.print(", %u %s", last.type, name_for_log(last.name_off));
          } else {
            log_.print(", vararg");
          }
        }
      }
      log_.print(")");
      break;
    }
    case kBtfKindVar:
      log_.print("type_id=%u linkage=%u", t->size_or_type,
                 reinterpret_cast<const BtfVar*>(t + 1)->linkage);
      break;
    case kBtfKindFloat: log_.print("size=%u", t->size_or_type); break;
    case kBtfKindDeclTag:
      log_.print("type=%u component_idx=%d", t->size_or_type,
                 reinterpret_cast<const BtfDeclTag*>(t + 1)->component_idx);
      break;
    default: log_.print("type_id=%u", t->size_or_type); break;  // PTR, modifiers, FUNC
  }
}

// BtfChecker: header and sections (btf_parse_hdr, btf_check_sec_info, btf_parse_str_sec).

int BtfChecker::check_header() {
  uint32_t size = btf_.size_;
  const uint8_t* data = btf_.data_;
  if (size < offsetof(BtfHeader, hdr_len) + 4) {
    log_.print("hdr_len not found");
    return -rt::kEINVAL;
  }
  uint32_t hdr_len;
  __builtin_memcpy(&hdr_len, data + offsetof(BtfHeader, hdr_len), 4);
  if (size < hdr_len) {
    log_.print("btf_header not found");
    return -rt::kEINVAL;
  }
  for (uint32_t i = sizeof(BtfHeader); i < hdr_len; ++i) {
    if (data[i] != 0) {
      log_.print("Unsupported btf_header");
      return -rt::kE2BIG;
    }
  }
  BtfHeader& header = btf_.header_;
  header = {};
  __builtin_memcpy(&header, data, hdr_len < sizeof(BtfHeader) ? hdr_len : sizeof(BtfHeader));
  log_.print("magic: 0x%x\n", header.magic);
  log_.print("version: %u\n", header.version);
  log_.print("flags: 0x%x\n", header.flags);
  log_.print("hdr_len: %u\n", header.hdr_len);
  log_.print("type_off: %u\n", header.type_off);
  log_.print("type_len: %u\n", header.type_len);
  log_.print("str_off: %u\n", header.str_off);
  log_.print("str_len: %u\n", header.str_len);
  log_.print("btf_total_size: %u\n", size);
  if (header.magic != kBtfMagic) {
    log_.print("Invalid magic");
    return -rt::kEINVAL;
  }
  if (header.version != kBtfVersion) {
    log_.print("Unsupported version");
    return -rt::kENOTSUPP;
  }
  if (header.flags != 0) {
    log_.print("Unsupported flags");
    return -rt::kENOTSUPP;
  }
  if (size == header.hdr_len) {
    log_.print("No data");
    return -rt::kEINVAL;
  }
  // The two sections in Linux's sort order (its comparator subtracts as int), then no gap,
  // no overlap and nothing else after the header.
  struct Section {
    uint32_t offset, length;
  };
  Section sections[2] = {{header.type_off, header.type_len}, {header.str_off, header.str_len}};
  auto compare = [](const Section& a, const Section& b) {
    int by_offset = static_cast<int>(a.offset - b.offset);
    return by_offset != 0 ? by_offset : static_cast<int>(a.length - b.length);
  };
  if (compare(sections[0], sections[1]) >= 0) {
    Section first = sections[1];
    sections[1] = sections[0];
    sections[0] = first;
  }
  uint32_t total = 0;
  uint32_t expected = size - header.hdr_len;
  for (const Section& section : sections) {
    const char* problem = nullptr;
    if (expected < section.offset) {
      problem = "Invalid section offset";
    } else if (total < section.offset) {
      problem = "Unsupported section found";
    } else if (total > section.offset) {
      problem = "Section overlap found";
    } else if (expected - total < section.length) {
      problem = "Total section length too long";
    }
    if (problem != nullptr) {
      log_.print("%s", problem);
      return -rt::kEINVAL;
    }
    total += section.length;
  }
  if (expected != total) {
    log_.print("Unsupported section found");
    return -rt::kEINVAL;
  }
  return 0;
}

int BtfChecker::check_strings() {
  const BtfHeader& header = btf_.header_;
  const uint8_t* start = btf_.data_ + header.hdr_len + header.str_off;
  // The section checks above keep the string section inside the blob.
  if (uint64_t{header.hdr_len} + header.str_off + header.str_len != btf_.size_) {
    log_.print("String section is not at the end");
    return -rt::kEINVAL;
  }
  btf_.strings_ = reinterpret_cast<const char*>(start);
  if (header.str_len == 0 || header.str_len - 1 > kBtfMaxNameOffset ||
      start[header.str_len - 1] != 0 || start[0] != 0) {
    log_.print("Invalid string section");
    return -rt::kEINVAL;
  }
  return 0;
}

int BtfChecker::check_type_section() {
  const BtfHeader& header = btf_.header_;
  if (header.type_off & 3) {
    log_.print("Unaligned type_off");
    return -rt::kEINVAL;
  }
  if (header.type_len == 0) {
    log_.print("No type found");
    return -rt::kEINVAL;
  }
  const uint8_t* types = btf_.data_ + header.hdr_len + header.type_off;
  if (reinterpret_cast<uintptr_t>(types) % 4 != 0) {
    // A header length that is not a multiple of 4 leaves the records unaligned: check a copy.
    btf_.aligned_types_ = static_cast<uint8_t*>(allocator_.allocate(header.type_len, 4));
    if (btf_.aligned_types_ == nullptr) return -rt::kENOMEM;
    __builtin_memcpy(btf_.aligned_types_, types, header.type_len);
    types = btf_.aligned_types_;
  }
  btf_.type_section_ = types;
  if (int error = check_all_metas()) return error;
  return check_all_types();
}

// BtfChecker: the first pass (btf_check_all_metas).

bool BtfChecker::name_offset_valid(uint32_t offset) const {
  return offset <= kBtfMaxNameOffset && offset < btf_.header_.str_len;
}

bool BtfChecker::name_valid(uint32_t offset, bool dot_ok) const {
  // The offset was checked; the string section ends with a NUL.
  const auto* name = reinterpret_cast<const uint8_t*>(btf_.strings_ + offset);
  if (!name_char_ok(name[0], true, dot_ok)) return false;
  uint32_t i = 1;
  for (; name[i] != 0 && i < kMaxNameLength; ++i) {
    if (!name_char_ok(name[i], false, dot_ok)) return false;
  }
  return name[i] == 0;
}

int BtfChecker::check_all_metas() {
  const uint32_t length = btf_.header_.type_len;
  const uint8_t* types = btf_.type_section_;
  // Count first, so the offsets take one allocation; ids past BTF_MAX_TYPE are not kept, as
  // 6.1's btf_add_type drops them (its E2BIG is not checked).
  uint32_t count = 1;
  log_type_id_ = 1;
  for (uint32_t at = 0; at < length;) {
    int32_t size = check_meta(reinterpret_cast<const BtfType*>(types + at), length - at);
    if (size < 0) return size;
    if (count == kBtfMaxType) {
      log_.print("Exceeded max num of types");
    } else {
      ++count;
    }
    at += static_cast<uint32_t>(size);
    ++log_type_id_;
  }
  btf_.type_offsets_ = allocate_array<uint32_t>(allocator_, count);
  if (btf_.type_offsets_ == nullptr) return -rt::kENOMEM;
  btf_.type_count_ = count;
  uint32_t at = 0;
  for (uint32_t id = 1; id < count; ++id) {
    btf_.type_offsets_[id] = at;
    at += sizeof(BtfType) + extra_size(reinterpret_cast<const BtfType*>(types + at));
  }
  return 0;
}

int32_t BtfChecker::check_meta(const BtfType* t, uint32_t meta_left) {
  if (meta_left < sizeof(BtfType)) {
    log_.print("[%u] meta_left:%u meta_needed:%zu", log_type_id_, meta_left, sizeof(BtfType));
    return -rt::kEINVAL;
  }
  meta_left -= sizeof(BtfType);
  if (t->info & ~kInfoMask) {
    log_.print("[%u] Invalid btf_info:%x", log_type_id_, t->info);
    return -rt::kEINVAL;
  }
  if (btf_kind(t) > kBtfKindMax || btf_kind(t) == kBtfKindUnknown) {
    log_.print("[%u] Invalid kind:%u", log_type_id_, btf_kind(t));
    return -rt::kEINVAL;
  }
  if (!name_offset_valid(t->name_off)) {
    log_.print("[%u] Invalid name_offset:%u", log_type_id_, t->name_off);
    return -rt::kEINVAL;
  }
  int32_t extra = check_kind_meta(t, meta_left);
  if (extra < 0) return extra;
  return static_cast<int32_t>(sizeof(BtfType)) + extra;
}

int32_t BtfChecker::check_kind_meta(const BtfType* t, uint32_t meta_left) {
  switch (btf_kind(t)) {
    case kBtfKindInt: return check_int_meta(t, meta_left);
    case kBtfKindPtr:
    case kBtfKindTypedef:
    case kBtfKindVolatile:
    case kBtfKindConst:
    case kBtfKindRestrict:
    case kBtfKindTypeTag: return check_reference_meta(t);
    case kBtfKindFwd: return check_fwd_meta(t);
    case kBtfKindArray: return check_array_meta(t, meta_left);
    case kBtfKindStruct:
    case kBtfKindUnion: return check_struct_meta(t, meta_left);
    case kBtfKindEnum:
    case kBtfKindEnum64: return check_enum_meta(t, meta_left);
    case kBtfKindFuncProto: return check_func_proto_meta(t, meta_left);
    case kBtfKindFunc: return check_func_meta(t);
    case kBtfKindVar: return check_var_meta(t, meta_left);
    case kBtfKindDatasec: return check_datasec_meta(t, meta_left);
    case kBtfKindFloat: return check_float_meta(t);
    case kBtfKindDeclTag: return check_decl_tag_meta(t, meta_left);
    default: return -rt::kEINVAL;
  }
}

// Linux refuses names with pr_debug only: EINVAL with nothing in the log.
#define REFUSE_NAME() return -rt::kEINVAL

#define NEED_META(needed)                                                                          \
  do {                                                                                             \
    if (meta_left < (needed)) {                                                                    \
      log_type(t, false, "meta_left:%u meta_needed:%u", meta_left, static_cast<uint32_t>(needed)); \
      return -rt::kEINVAL;                                                                         \
    }                                                                                              \
  } while (0)

#define REFUSE(...)                 \
  do {                              \
    log_type(t, true, __VA_ARGS__); \
    return -rt::kEINVAL;            \
  } while (0)

int32_t BtfChecker::check_int_meta(const BtfType* t, uint32_t meta_left) {
  NEED_META(4u);
  if (btf_vlen(t) != 0) REFUSE("vlen != 0");
  if (btf_kflag(t)) REFUSE("Invalid btf_info kind_flag");
  uint32_t data = btf_int_data(t);
  if (data & ~kIntMask) {
    log_type(t, false, "Invalid int_data:%x", data);
    return -rt::kEINVAL;
  }
  uint32_t bits = btf_int_bits(data) + btf_int_offset(data);
  if (bits > 128) REFUSE("nr_bits exceeds %zu", size_t{128});
  if (bits_roundup_bytes(bits) > t->size_or_type) REFUSE("nr_bits exceeds type_size");
  uint32_t encoding = btf_int_encoding(data);
  if (encoding != 0 && encoding != kBtfIntSigned && encoding != kBtfIntChar &&
      encoding != kBtfIntBool) {
    log_type(t, true, "Unsupported encoding");
    return -rt::kENOTSUPP;
  }
  log_type(t, true, nullptr);
  return 4;
}

int32_t BtfChecker::check_reference_meta(const BtfType* t) {
  if (btf_vlen(t) != 0) REFUSE("vlen != 0");
  if (btf_kflag(t)) REFUSE("Invalid btf_info kind_flag");
  if (!type_id_valid(t->size_or_type)) REFUSE("Invalid type_id");
  // A typedef needs an identifier, a type tag any non-empty value, the others no name.
  if (btf_kind(t) == kBtfKindTypedef) {
    if (t->name_off == 0 || !name_valid(t->name_off, false)) REFUSE_NAME();
  } else if (btf_kind(t) == kBtfKindTypeTag) {
    if (btf_.strings_[t->name_off] == 0) REFUSE_NAME();
  } else if (t->name_off != 0) {
    REFUSE_NAME();
  }
  log_type(t, true, nullptr);
  return 0;
}

int32_t BtfChecker::check_fwd_meta(const BtfType* t) {
  if (btf_vlen(t) != 0) REFUSE("vlen != 0");
  if (t->size_or_type != 0) REFUSE("type != 0");
  if (t->name_off == 0 || !name_valid(t->name_off, false)) REFUSE_NAME();
  log_type(t, true, nullptr);
  return 0;
}

int32_t BtfChecker::check_array_meta(const BtfType* t, uint32_t meta_left) {
  NEED_META(static_cast<uint32_t>(sizeof(BtfArray)));
  const auto* array = reinterpret_cast<const BtfArray*>(t + 1);
  if (t->name_off != 0) REFUSE_NAME();
  if (btf_vlen(t) != 0) REFUSE("vlen != 0");
  if (btf_kflag(t)) REFUSE("Invalid btf_info kind_flag");
  if (t->size_or_type != 0) REFUSE("size != 0");
  if (array->type == 0 || !type_id_valid(array->type)) REFUSE("Invalid elem");
  if (array->index_type == 0 || !type_id_valid(array->index_type)) REFUSE("Invalid index");
  log_type(t, true, nullptr);
  return sizeof(BtfArray);
}

int32_t BtfChecker::check_struct_meta(const BtfType* t, uint32_t meta_left) {
  uint32_t needed = btf_vlen(t) * static_cast<uint32_t>(sizeof(BtfMember));
  NEED_META(needed);
  if (t->name_off != 0 && !name_valid(t->name_off, false)) REFUSE_NAME();
  log_type(t, true, nullptr);
  const auto* members = reinterpret_cast<const BtfMember*>(t + 1);
  bool is_union = btf_kind(t) == kBtfKindUnion;
  uint32_t last_offset = 0;
  for (uint32_t i = 0; i < btf_vlen(t); ++i) {
    const BtfMember* m = &members[i];
    if (!name_offset_valid(m->name_off)) {
      log_member(t, m, "Invalid member name_offset:%u", m->name_off);
      return -rt::kEINVAL;
    }
    if (m->name_off != 0 && !name_valid(m->name_off, false)) REFUSE_NAME();
    const char* problem = nullptr;
    uint32_t offset = btf_kflag(t) ? m->offset & 0xffffff : m->offset;
    if (m->type == 0 || !type_id_valid(m->type)) {
      problem = "Invalid type_id";
    } else if ((is_union && offset != 0) || last_offset > offset) {
      // ">" and not ">=": the last member may be a zero-length array.
      problem = "Invalid member bits_offset";
    } else if (bits_roundup_bytes(offset) > t->size_or_type) {
      problem = "Member bits_offset exceeds its struct size";
    }
    if (problem != nullptr) {
      log_member(t, m, "%s", problem);
      return -rt::kEINVAL;
    }
    log_member(t, m, nullptr);
    last_offset = offset;
  }
  return static_cast<int32_t>(needed);
}

int32_t BtfChecker::check_enum_meta(const BtfType* t, uint32_t meta_left) {
  bool wide = btf_kind(t) == kBtfKindEnum64;
  uint32_t record = wide ? sizeof(BtfEnum64) : sizeof(BtfEnum);
  uint32_t needed = btf_vlen(t) * record;
  NEED_META(needed);
  if (t->size_or_type > 8 || !is_power_of_two(t->size_or_type)) REFUSE("Unexpected size");
  if (t->name_off != 0 && !name_valid(t->name_off, false)) REFUSE_NAME();
  log_type(t, true, nullptr);
  const auto* records = reinterpret_cast<const uint8_t*>(t + 1);
  for (uint32_t i = 0; i < btf_vlen(t); ++i) {
    const auto* entry = reinterpret_cast<const uint32_t*>(records + i * record);
    uint32_t name_off = entry[0];
    if (!name_offset_valid(name_off)) {
      log_.print("\tInvalid name_offset:%u", name_off);
      return -rt::kEINVAL;
    }
    if (name_off == 0 || !name_valid(name_off, false)) REFUSE_NAME();
    if (wide) {
      uint64_t value = (uint64_t{entry[2]} << 32) | entry[1];
      if (btf_kflag(t)) {
        log_.print("\t%s val=%lld\n", name_for_log(name_off), static_cast<long long>(value));
      } else {
        log_.print("\t%s val=%llu\n", name_for_log(name_off),
                   static_cast<unsigned long long>(value));
      }
    } else if (btf_kflag(t)) {
      log_.print("\t%s val=%d\n", name_for_log(name_off), static_cast<int32_t>(entry[1]));
    } else {
      log_.print("\t%s val=%u\n", name_for_log(name_off), entry[1]);
    }
  }
  return static_cast<int32_t>(needed);
}

int32_t BtfChecker::check_func_proto_meta(const BtfType* t, uint32_t meta_left) {
  uint32_t needed = btf_vlen(t) * static_cast<uint32_t>(sizeof(BtfParam));
  NEED_META(needed);
  if (t->name_off != 0) REFUSE_NAME();
  if (btf_kflag(t)) REFUSE("Invalid btf_info kind_flag");
  log_type(t, true, nullptr);
  return static_cast<int32_t>(needed);
}

int32_t BtfChecker::check_func_meta(const BtfType* t) {
  if (t->name_off == 0 || !name_valid(t->name_off, false)) REFUSE_NAME();
  if (btf_vlen(t) > kFuncGlobal) REFUSE("Invalid func linkage");
  if (btf_kflag(t)) REFUSE("Invalid btf_info kind_flag");
  log_type(t, true, nullptr);
  return 0;
}

int32_t BtfChecker::check_var_meta(const BtfType* t, uint32_t meta_left) {
  NEED_META(static_cast<uint32_t>(sizeof(BtfVar)));
  if (btf_vlen(t) != 0) REFUSE("vlen != 0");
  if (btf_kflag(t)) REFUSE("Invalid btf_info kind_flag");
  if (t->name_off == 0 || !name_valid(t->name_off, true)) REFUSE_NAME();
  if (t->size_or_type == 0 || !type_id_valid(t->size_or_type)) REFUSE("Invalid type_id");
  if (reinterpret_cast<const BtfVar*>(t + 1)->linkage > kVarGlobalAllocated)
    REFUSE("Linkage not supported");
  log_type(t, true, nullptr);
  return sizeof(BtfVar);
}

int32_t BtfChecker::check_datasec_meta(const BtfType* t, uint32_t meta_left) {
  uint32_t needed = btf_vlen(t) * static_cast<uint32_t>(sizeof(BtfVarSecinfo));
  NEED_META(needed);
  if (t->size_or_type == 0) REFUSE("size == 0");
  if (btf_kflag(t)) REFUSE("Invalid btf_info kind_flag");
  if (t->name_off == 0 || !name_valid(t->name_off, true)) REFUSE_NAME();
  log_type(t, true, nullptr);
  const auto* entries = reinterpret_cast<const BtfVarSecinfo*>(t + 1);
  uint64_t last_end = 0, sum = 0;
  for (uint32_t i = 0; i < btf_vlen(t); ++i) {
    const BtfVarSecinfo* vsi = &entries[i];
    const char* problem = nullptr;
    if (vsi->type == 0 || !type_id_valid(vsi->type)) {
      problem = "Invalid type_id";
    } else if (vsi->offset < last_end || vsi->offset >= t->size_or_type) {
      problem = "Invalid offset";
    } else if (vsi->size == 0 || vsi->size > t->size_or_type) {
      problem = "Invalid size";
    } else {
      last_end = uint64_t{vsi->offset} + vsi->size;
      if (last_end > t->size_or_type) problem = "Invalid offset+size";
    }
    if (problem != nullptr) {
      log_vsi(t, vsi, "%s", problem);
      return -rt::kEINVAL;
    }
    log_vsi(t, vsi, nullptr);
    sum += vsi->size;
  }
  if (t->size_or_type < sum) REFUSE("Invalid btf_info size");
  return static_cast<int32_t>(needed);
}

int32_t BtfChecker::check_float_meta(const BtfType* t) {
  if (btf_vlen(t) != 0) REFUSE("vlen != 0");
  if (btf_kflag(t)) REFUSE("Invalid btf_info kind_flag");
  uint32_t size = t->size_or_type;
  if (size != 2 && size != 4 && size != 8 && size != 12 && size != 16) REFUSE("Invalid type_size");
  log_type(t, true, nullptr);
  return 0;
}

int32_t BtfChecker::check_decl_tag_meta(const BtfType* t, uint32_t meta_left) {
  NEED_META(static_cast<uint32_t>(sizeof(BtfDeclTag)));
  if (btf_.strings_[t->name_off] == 0) REFUSE("Invalid value");
  if (btf_vlen(t) != 0) REFUSE("vlen != 0");
  if (btf_kflag(t)) REFUSE("Invalid btf_info kind_flag");
  if (reinterpret_cast<const BtfDeclTag*>(t + 1)->component_idx < -1)
    REFUSE("Invalid component_idx");
  log_type(t, true, nullptr);
  return sizeof(BtfDeclTag);
}

#undef REFUSE
#undef NEED_META
#undef REFUSE_NAME

}  // namespace trace
