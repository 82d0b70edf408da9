// SPDX-License-Identifier: MIT
// BtfChecker: Linux 6.1's btf_verifier_env, the state of one btf_parse (btf.cpp, btf_resolve.cpp).
#pragma once

#include <stdarg.h>
#include <stdint.h>

#include "rt/allocator.hpp"
#include "trace/btf.hpp"
#include "verifier_log.hpp"

namespace trace {

// Kind groups of Linux's btf.c, by what a type's checks need from the types it names.
bool btf_is_modifier(const BtfType* t);  // TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG
bool btf_is_struct(const BtfType* t);    // STRUCT or UNION
bool btf_has_size(const BtfType* t);     // `size` is the type's size
bool btf_no_size(const BtfType* t);      // void, FWD, FUNC, FUNC_PROTO
bool btf_needs_resolve(const BtfType* t);
bool btf_is_source_only(const BtfType* t);  // VAR, DECL_TAG, DATASEC: never a target
uint32_t btf_int_data(const BtfType* t);
bool btf_int_is_regular(const BtfType* t);  // a byte-sized, unshifted u8..u64 or __int128
inline uint32_t btf_int_bits(uint32_t data) { return data & 0xff; }
inline uint32_t btf_int_offset(uint32_t data) { return (data >> 16) & 0xff; }
inline uint32_t btf_int_encoding(uint32_t data) { return (data >> 24) & 0x0f; }
inline uint32_t bits_roundup_bytes(uint32_t bits) { return (bits >> 3) + ((bits & 7) != 0); }

class BtfChecker {
 public:
  BtfChecker(Btf& btf, rt::Allocator& allocator, VerifierLog& log)
      : btf_(btf), allocator_(allocator), log_(log) {}
  ~BtfChecker();
  BtfChecker(const BtfChecker&) = delete;
  BtfChecker& operator=(const BtfChecker&) = delete;

  // Each returns 0 or a negative errno, with Linux's message logged.
  int check_header();
  int check_strings();
  int check_type_section();
  int check_type_tags();

 private:
  // The first pass (btf.cpp): each type's own fields.
  int check_all_metas();
  int32_t check_meta(const BtfType* t, uint32_t meta_left);
  int32_t check_kind_meta(const BtfType* t, uint32_t meta_left);
  int32_t check_int_meta(const BtfType* t, uint32_t meta_left);
  int32_t check_reference_meta(const BtfType* t);
  int32_t check_fwd_meta(const BtfType* t);
  int32_t check_array_meta(const BtfType* t, uint32_t meta_left);
  int32_t check_struct_meta(const BtfType* t, uint32_t meta_left);
  int32_t check_enum_meta(const BtfType* t, uint32_t meta_left);
  int32_t check_func_proto_meta(const BtfType* t, uint32_t meta_left);
  int32_t check_func_meta(const BtfType* t);
  int32_t check_var_meta(const BtfType* t, uint32_t meta_left);
  int32_t check_datasec_meta(const BtfType* t, uint32_t meta_left);
  int32_t check_float_meta(const BtfType* t);
  int32_t check_decl_tag_meta(const BtfType* t, uint32_t meta_left);
  bool name_offset_valid(uint32_t offset) const;
  bool name_valid(uint32_t offset, bool dot_ok) const;

  // The second pass (btf_resolve.cpp): what each type names, without loops, with sizes.
  int check_all_types();
  int resolve(const BtfType* t, uint32_t id);
  int resolve_vertex(uint32_t at);
  int resolve_modifier_or_pointer(uint32_t at, bool pointer);
  int resolve_var(uint32_t at);
  int resolve_array(uint32_t at);
  int resolve_struct(uint32_t at);
  int resolve_datasec(uint32_t at);
  int resolve_decl_tag(uint32_t at);
  int check_func(const BtfType* t);
  int check_func_proto(const BtfType* t);
  bool resolve_valid(const BtfType* t, uint32_t id);
  int check_member(const BtfType* s, const BtfMember* m, const BtfType* member_type);
  int check_kflag_member(const BtfType* s, const BtfMember* m, const BtfType* member_type);
  bool is_sink(const BtfType* next) const;
  bool is_resolved(uint32_t id) const { return visit_[id] == kResolved; }
  int push(const BtfType* t, uint32_t id);
  void pop_resolved(uint32_t resolved_id, uint32_t resolved_size);

  // The log lines of btf_verifier_log_type, _member and _vsi.
  void log_type(const BtfType* t, bool details, const char* format, ...)
      __attribute__((format(printf, 4, 5)));
  void log_member(const BtfType* s, const BtfMember* m, const char* format, ...)
      __attribute__((format(printf, 4, 5)));
  void log_vsi(const BtfType* s, const BtfVarSecinfo* vsi, const char* format, ...)
      __attribute__((format(printf, 4, 5)));
  void log_details(const BtfType* t);
  void log_message(const char* format, va_list arguments);
  const char* name_for_log(uint32_t offset) const;

  static constexpr uint32_t kMaxResolveDepth = 32;
  enum VisitState : uint8_t { kNotVisited, kVisited, kResolved };
  enum class ResolveMode { kToBeDetermined, kPointer, kStructOrArray };
  struct Vertex {
    const BtfType* t;
    uint32_t id;
    uint16_t next_member;
  };

  Btf& btf_;
  rt::Allocator& allocator_;
  VerifierLog& log_;
  uint32_t log_type_id_ = 0;
  bool checking_types_ = false;  // Linux's CHECK_TYPE phase: member lines name their struct
  uint8_t* visit_ = nullptr;
  Vertex stack_[kMaxResolveDepth] = {};
  uint32_t top_ = 0;
  ResolveMode mode_ = ResolveMode::kToBeDetermined;
};

}  // namespace trace
