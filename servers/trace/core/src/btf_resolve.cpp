// SPDX-License-Identifier: MIT
// BtfChecker's second pass: Linux 6.1's btf_check_all_types (references, loops, sizes, members).
#include "btf_checker.hpp"
#include "rt/errno.hpp"

namespace trace {
namespace {

constexpr uint32_t kMaxTypeTagChain = 32;

}  // namespace

// The stack of the depth-first resolution (env_stack_push and friends).

bool BtfChecker::is_sink(const BtfType* next) const {
  bool modifier = btf_is_modifier(next);
  switch (mode_) {
    case ResolveMode::kToBeDetermined: return !btf_needs_resolve(next);
    case ResolveMode::kPointer: return !modifier && btf_kind(next) != kBtfKindPtr;
    case ResolveMode::kStructOrArray:
      return !modifier && btf_kind(next) != kBtfKindArray && !btf_is_struct(next);
  }
  return false;
}

int BtfChecker::push(const BtfType* t, uint32_t id) {
  if (top_ == kMaxResolveDepth) return -rt::kE2BIG;
  if (visit_[id] != kNotVisited) return -rt::kEEXIST;
  visit_[id] = kVisited;
  stack_[top_++] = Vertex{t, id, 0};
  if (mode_ == ResolveMode::kToBeDetermined && !Btf::is_void(t)) {
    if (btf_kind(t) == kBtfKindPtr) {
      mode_ = ResolveMode::kPointer;
    } else if (btf_is_struct(t) || btf_kind(t) == kBtfKindArray) {
      mode_ = ResolveMode::kStructOrArray;
    }
  }
  return 0;
}

void BtfChecker::pop_resolved(uint32_t resolved_id, uint32_t resolved_size) {
  uint32_t id = stack_[--top_].id;
  btf_.resolved_ids_[id] = resolved_id;
  btf_.resolved_sizes_[id] = resolved_size;
  visit_[id] = kResolved;
}

// btf_check_all_types.
int BtfChecker::check_all_types() {
  uint32_t count = btf_.type_count_;
  btf_.resolved_ids_ = static_cast<uint32_t*>(allocator_.allocate(count * 4, 4));
  btf_.resolved_sizes_ = static_cast<uint32_t*>(allocator_.allocate(count * 4, 4));
  visit_ = static_cast<uint8_t*>(allocator_.allocate(count, 1));
  if (btf_.resolved_ids_ == nullptr || btf_.resolved_sizes_ == nullptr || visit_ == nullptr)
    return -rt::kENOMEM;
  for (uint32_t i = 0; i < count; ++i) {
    btf_.resolved_ids_[i] = 0;
    btf_.resolved_sizes_[i] = 0;
    visit_[i] = kNotVisited;
  }
  checking_types_ = true;
  for (uint32_t id = 1; id < count; ++id) {
    const BtfType* t = btf_.type_by_id(id);
    log_type_id_ = id;
    if (btf_needs_resolve(t) && !is_resolved(id)) {
      if (int error = resolve(t, id)) return error;
    }
    if (btf_kind(t) == kBtfKindFuncProto) {
      if (int error = check_func_proto(t)) return error;
    }
  }
  return 0;
}

// btf_resolve: resolve `t` and everything it needs, then check what that left behind.
int BtfChecker::resolve(const BtfType* t, uint32_t id) {
  uint32_t saved_log_type_id = log_type_id_;
  mode_ = ResolveMode::kToBeDetermined;
  int error = push(t, id);
  while (error == 0 && top_ > 0) {
    log_type_id_ = stack_[top_ - 1].id;
    error = resolve_vertex(top_ - 1);
  }
  log_type_id_ = id;
  if (error == -rt::kE2BIG) {
    log_type(t, true, "Exceeded max resolving depth:%u", kMaxResolveDepth);
  } else if (error == -rt::kEEXIST) {
    log_type(t, true, "Loop detected");
  }
  if (error == 0 && !resolve_valid(t, id)) {
    log_type(t, true, "Invalid resolve state");
    error = -rt::kEINVAL;
  }
  log_type_id_ = saved_log_type_id;
  return error;
}

int BtfChecker::resolve_vertex(uint32_t at) {
  const BtfType* t = stack_[at].t;
  switch (btf_kind(t)) {
    case kBtfKindPtr: return resolve_modifier_or_pointer(at, true);
    case kBtfKindTypedef:
    case kBtfKindVolatile:
    case kBtfKindConst:
    case kBtfKindRestrict:
    case kBtfKindTypeTag: return resolve_modifier_or_pointer(at, false);
    case kBtfKindVar: return resolve_var(at);
    case kBtfKindArray: return resolve_array(at);
    case kBtfKindStruct:
    case kBtfKindUnion: return resolve_struct(at);
    case kBtfKindDatasec: return resolve_datasec(at);
    case kBtfKindDeclTag: return resolve_decl_tag(at);
    case kBtfKindFunc: {
      if (int error = check_func(t)) return error;
      pop_resolved(t->size_or_type, 0);
      return 0;
    }
    default: log_type(t, false, "Unsupported resolve"); return -rt::kEINVAL;
  }
}

// btf_modifier_resolve and btf_ptr_resolve: a pointer also follows what a resolved modifier
// stopped at, so that a pointer loop through modifiers is found.
int BtfChecker::resolve_modifier_or_pointer(uint32_t at, bool pointer) {
  const BtfType* t = stack_[at].t;
  uint32_t next_id = t->size_or_type;
  const BtfType* next = btf_.type_by_id(next_id);
  if (next == nullptr || btf_is_source_only(next)) {
    log_type(t, true, "Invalid type_id");
    return -rt::kEINVAL;
  }
  if (!is_sink(next) && !is_resolved(next_id)) return push(next, next_id);
  if (pointer && btf_is_modifier(next)) {
    uint32_t resolved_id = btf_.resolved_ids_[next_id];
    const BtfType* resolved = btf_.type_by_id(resolved_id);
    if (btf_kind(resolved) == kBtfKindPtr && !is_sink(resolved) && !is_resolved(resolved_id))
      return push(resolved, resolved_id);
  }
  if (btf_.type_id_size(&next_id, nullptr) == nullptr) {
    if (is_resolved(next_id)) {
      next_id = btf_.resolved_ids_[next_id];
      next = btf_.type_by_id(next_id);
    }
    // "typedef void new_void", "const void", pointers to declarations and functions.
    if (!Btf::is_void(next) && btf_kind(next) != kBtfKindFwd &&
        btf_kind(next) != kBtfKindFuncProto) {
      log_type(t, true, "Invalid type_id");
      return -rt::kEINVAL;
    }
  }
  pop_resolved(next_id, 0);
  return 0;
}

// btf_var_resolve: a variable must name something with a size.
int BtfChecker::resolve_var(uint32_t at) {
  const BtfType* t = stack_[at].t;
  uint32_t next_id = t->size_or_type;
  const BtfType* next = btf_.type_by_id(next_id);
  if (next == nullptr || btf_is_source_only(next)) {
    log_type(t, true, "Invalid type_id");
    return -rt::kEINVAL;
  }
  if (!is_sink(next) && !is_resolved(next_id)) return push(next, next_id);
  if (btf_is_modifier(next)) {
    uint32_t resolved_id = btf_.resolved_ids_[next_id];
    const BtfType* resolved = btf_.type_by_id(resolved_id);
    if (btf_kind(resolved) == kBtfKindPtr && !is_sink(resolved) && !is_resolved(resolved_id))
      return push(resolved, resolved_id);
  }
  if (btf_.type_id_size(&next_id, nullptr) == nullptr) {
    log_type(t, true, "Invalid type_id");
    return -rt::kEINVAL;
  }
  pop_resolved(next_id, 0);
  return 0;
}

// btf_array_resolve: a regular int index and an element with a size; the array's size.
int BtfChecker::resolve_array(uint32_t at) {
  const BtfType* t = stack_[at].t;
  const auto* array = reinterpret_cast<const BtfArray*>(t + 1);
  uint32_t index_id = array->index_type;
  const BtfType* index = btf_.type_by_id(index_id);
  if (index == nullptr || btf_no_size(index) || btf_is_source_only(index)) {
    log_type(t, true, "Invalid index");
    return -rt::kEINVAL;
  }
  if (!is_sink(index) && !is_resolved(index_id)) return push(index, index_id);
  index = btf_.type_id_size(&index_id, nullptr);
  if (index == nullptr || btf_kind(index) != kBtfKindInt || !btf_int_is_regular(index)) {
    log_type(t, true, "Invalid index");
    return -rt::kEINVAL;
  }
  uint32_t element_id = array->type;
  const BtfType* element = btf_.type_by_id(element_id);
  if (element == nullptr || btf_no_size(element) || btf_is_source_only(element)) {
    log_type(t, true, "Invalid elem");
    return -rt::kEINVAL;
  }
  if (!is_sink(element) && !is_resolved(element_id)) return push(element, element_id);
  uint32_t element_size = 0;
  element = btf_.type_id_size(&element_id, &element_size);
  if (element == nullptr) {
    log_type(t, true, "Invalid elem");
    return -rt::kEINVAL;
  }
  if (btf_kind(element) == kBtfKindInt && !btf_int_is_regular(element)) {
    log_type(t, true, "Invalid array of int");
    return -rt::kEINVAL;
  }
  if (array->nelems != 0 && element_size > 0xffffffffu / array->nelems) {
    log_type(t, true, "Array size overflows U32_MAX");
    return -rt::kEINVAL;
  }
  pop_resolved(element_id, element_size * array->nelems);
  return 0;
}

// btf_struct_resolve: each member resolved first, then checked against the struct's size.
int BtfChecker::resolve_struct(uint32_t at) {
  Vertex& v = stack_[at];
  const BtfType* t = v.t;
  const auto* members = reinterpret_cast<const BtfMember*>(t + 1);
  auto check = [&](const BtfMember* m, const BtfType* member_type) {
    return btf_kflag(t) ? check_kflag_member(t, m, member_type) : check_member(t, m, member_type);
  };
  if (v.next_member != 0) {
    // The member pushed last time is resolved now: check it before going on.
    const BtfMember* last = &members[v.next_member - 1];
    if (!is_resolved(last->type)) return -rt::kEINVAL;
    if (int error = check(last, btf_.type_by_id(last->type))) return error;
  }
  for (uint32_t i = v.next_member; i < btf_vlen(t); ++i) {
    const BtfMember* m = &members[i];
    const BtfType* member_type = btf_.type_by_id(m->type);
    if (member_type == nullptr || btf_no_size(member_type) || btf_is_source_only(member_type)) {
      log_member(t, m, "Invalid member");
      return -rt::kEINVAL;
    }
    if (!is_sink(member_type) && !is_resolved(m->type)) {
      v.next_member = static_cast<uint16_t>(i + 1);
      return push(member_type, m->type);
    }
    if (int error = check(m, member_type)) return error;
  }
  pop_resolved(0, 0);
  return 0;
}

// btf_datasec_resolve: each entry a VAR whose type fits the entry's size.
int BtfChecker::resolve_datasec(uint32_t at) {
  Vertex& v = stack_[at];
  const BtfType* t = v.t;
  const auto* entries = reinterpret_cast<const BtfVarSecinfo*>(t + 1);
  mode_ = ResolveMode::kToBeDetermined;
  for (uint32_t i = v.next_member; i < btf_vlen(t); ++i) {
    const BtfVarSecinfo* vsi = &entries[i];
    const BtfType* var = btf_.type_by_id(vsi->type);
    if (var == nullptr || btf_kind(var) != kBtfKindVar || Btf::is_void(var)) {
      log_vsi(t, vsi, "Not a VAR kind member");
      return -rt::kEINVAL;
    }
    if (!is_sink(var) && !is_resolved(vsi->type)) {
      v.next_member = static_cast<uint16_t>(i + 1);
      return push(var, vsi->type);
    }
    uint32_t type_id = var->size_or_type, type_size = 0;
    if (btf_.type_id_size(&type_id, &type_size) == nullptr) {
      log_vsi(t, vsi, "Invalid type");
      return -rt::kEINVAL;
    }
    if (vsi->size < type_size) {
      log_vsi(t, vsi, "Invalid size");
      return -rt::kEINVAL;
    }
  }
  pop_resolved(0, 0);
  return 0;
}

// btf_decl_tag_resolve: a tag on a FUNC, STRUCT, UNION, VAR or TYPEDEF, or on one member or
// argument of a struct, union or function.
int BtfChecker::resolve_decl_tag(uint32_t at) {
  const BtfType* t = stack_[at].t;
  uint32_t next_id = t->size_or_type;
  const BtfType* next = btf_.type_by_id(next_id);
  uint32_t kind = next != nullptr && !Btf::is_void(next) ? btf_kind(next) : kBtfKindUnknown;
  if (kind != kBtfKindFunc && kind != kBtfKindStruct && kind != kBtfKindUnion &&
      kind != kBtfKindVar && kind != kBtfKindTypedef) {
    log_type(t, true, "Invalid type_id");
    return -rt::kEINVAL;
  }
  if (!is_sink(next) && !is_resolved(next_id)) return push(next, next_id);
  int32_t component = reinterpret_cast<const BtfDeclTag*>(t + 1)->component_idx;
  if (component != -1) {
    if (kind == kBtfKindVar || kind == kBtfKindTypedef) {
      log_type(t, true, "Invalid component_idx");
      return -rt::kEINVAL;
    }
    uint32_t vlen =
        kind == kBtfKindFunc ? btf_vlen(btf_.type_by_id(next->size_or_type)) : btf_vlen(next);
    if (static_cast<uint32_t>(component) >= vlen) {
      log_type(t, true, "Invalid component_idx");
      return -rt::kEINVAL;
    }
  }
  pop_resolved(next_id, 0);
  return 0;
}

// btf_func_check: a FUNC names a FUNC_PROTO whose arguments all have names.
int BtfChecker::check_func(const BtfType* t) {
  const BtfType* proto = btf_.type_by_id(t->size_or_type);
  if (proto == nullptr || Btf::is_void(proto) || btf_kind(proto) != kBtfKindFuncProto) {
    log_type(t, true, "Invalid type_id");
    return -rt::kEINVAL;
  }
  const auto* args = reinterpret_cast<const BtfParam*>(proto + 1);
  for (uint32_t i = 0; i < btf_vlen(proto); ++i) {
    if (args[i].name_off == 0 && args[i].type != 0) {
      log_type(t, true, "Invalid arg#%u", i + 1);
      return -rt::kEINVAL;
    }
  }
  return 0;
}

// btf_func_proto_check: a return type and arguments with sizes; a vararg only last, unnamed.
int BtfChecker::check_func_proto(const BtfType* t) {
  if (t->size_or_type != 0) {
    uint32_t return_id = t->size_or_type;
    const BtfType* return_type = btf_.type_by_id(return_id);
    if (return_type == nullptr || btf_is_source_only(return_type)) {
      log_type(t, true, "Invalid return type");
      return -rt::kEINVAL;
    }
    if (btf_needs_resolve(return_type) && !is_resolved(return_id)) {
      if (int error = resolve(return_type, return_id)) return error;
    }
    if (btf_.type_id_size(&return_id, nullptr) == nullptr) {
      log_type(t, true, "Invalid return type");
      return -rt::kEINVAL;
    }
  }
  uint32_t count = btf_vlen(t);
  if (count == 0) return 0;
  const auto* args = reinterpret_cast<const BtfParam*>(t + 1);
  if (args[count - 1].type == 0) {
    if (args[count - 1].name_off != 0) {
      log_type(t, true, "Invalid arg#%u", count);
      return -rt::kEINVAL;
    }
    --count;
  }
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t arg_id = args[i].type;
    const BtfType* arg = btf_.type_by_id(arg_id);
    bool bad = arg == nullptr || btf_is_source_only(arg) ||
               (args[i].name_off != 0 &&
                (!name_offset_valid(args[i].name_off) || !name_valid(args[i].name_off, false)));
    if (!bad && btf_needs_resolve(arg) && !is_resolved(arg_id)) {
      if (int error = resolve(arg, arg_id)) return error;
    }
    if (bad || btf_.type_id_size(&arg_id, nullptr) == nullptr) {
      log_type(t, true, "Invalid arg#%u", i + 1);
      return -rt::kEINVAL;
    }
  }
  return 0;
}

// btf_resolve_valid: what a resolved type must have left in resolved_ids and resolved_sizes.
bool BtfChecker::resolve_valid(const BtfType* t, uint32_t id) {
  if (!is_resolved(id)) return false;
  uint32_t resolved_id = btf_.resolved_ids_[id];
  uint32_t resolved_size = btf_.resolved_sizes_[id];
  uint32_t kind = btf_kind(t);
  if (btf_is_struct(t) || kind == kBtfKindDatasec) return resolved_id == 0 && resolved_size == 0;
  if (kind == kBtfKindDeclTag || kind == kBtfKindFunc)
    return resolved_id != 0 && resolved_size == 0;
  if (btf_is_modifier(t) || kind == kBtfKindPtr || kind == kBtfKindVar) {
    const BtfType* resolved = btf_.type_by_id(resolved_id);
    return resolved != nullptr && !btf_is_modifier(resolved) &&
           (Btf::is_void(resolved) ||
            (btf_kind(resolved) != kBtfKindVar && btf_kind(resolved) != kBtfKindDatasec));
  }
  if (kind == kBtfKindArray) {
    const auto* array = reinterpret_cast<const BtfArray*>(t + 1);
    uint32_t element_id = array->type, element_size = 0;
    const BtfType* element = btf_.type_id_size(&element_id, &element_size);
    return element != nullptr && !btf_is_modifier(element) &&
           array->nelems * element_size == resolved_size;
  }
  return false;
}

// The member checks (each kind's check_member and check_kflag_member).

int BtfChecker::check_member(const BtfType* s, const BtfMember* m, const BtfType* member_type) {
  uint32_t struct_size = s->size_or_type;
  uint32_t bits_offset = m->offset;
  uint32_t bytes_offset = bits_offset >> 3;
  auto refuse = [&](const char* problem) {
    log_member(s, m, "%s", problem);
    return -rt::kEINVAL;
  };
  switch (btf_kind(member_type)) {
    case kBtfKindInt: {
      uint32_t data = btf_int_data(member_type);
      if (0xffffffffu - bits_offset < btf_int_offset(data))
        return refuse("bits_offset exceeds U32_MAX");
      bits_offset += btf_int_offset(data);
      bytes_offset = bits_offset >> 3;
      uint32_t copy_bits = btf_int_bits(data) + (bits_offset & 7);
      if (copy_bits > 128) return refuse("nr_copy_bits exceeds 128");
      if (struct_size < bytes_offset ||
          struct_size - bytes_offset < bits_roundup_bytes(copy_bits)) {
        return refuse("Member exceeds struct_size");
      }
      return 0;
    }
    case kBtfKindPtr:
      if (bits_offset & 7) return refuse("Member is not byte aligned");
      if (struct_size - bytes_offset < 8) return refuse("Member exceeds struct_size");
      return 0;
    case kBtfKindArray: {
      if (bits_offset & 7) return refuse("Member is not byte aligned");
      uint32_t array_id = m->type, array_size = 0;
      btf_.type_id_size(&array_id, &array_size);
      if (struct_size - bytes_offset < array_size) return refuse("Member exceeds struct_size");
      return 0;
    }
    case kBtfKindStruct:
    case kBtfKindUnion:
    case kBtfKindEnum:
    case kBtfKindEnum64:
      if (bits_offset & 7) return refuse("Member is not byte aligned");
      if (struct_size - bytes_offset < member_type->size_or_type)
        return refuse("Member exceeds struct_size");
      return 0;
    case kBtfKindFloat: {
      uint64_t align_bytes = member_type->size_or_type < 8 ? member_type->size_or_type : 8;
      if (bits_offset % (align_bytes * 8) != 0) return refuse("Member is not properly aligned");
      if (uint64_t{bits_offset / 8} + member_type->size_or_type > struct_size)
        return refuse("Member exceeds struct_size");
      return 0;
    }
    case kBtfKindTypedef:
    case kBtfKindVolatile:
    case kBtfKindConst:
    case kBtfKindRestrict:
    case kBtfKindTypeTag: {
      BtfMember resolved_member = *m;
      const BtfType* resolved = btf_.type_id_size(&resolved_member.type, nullptr);
      if (resolved == nullptr) return refuse("Invalid member");
      return check_member(s, &resolved_member, resolved);
    }
    default: log_type(s, false, "Unsupported check_member"); return -rt::kEINVAL;
  }
}

int BtfChecker::check_kflag_member(const BtfType* s, const BtfMember* m,
                                   const BtfType* member_type) {
  uint32_t struct_size = s->size_or_type;
  uint32_t bitfield_size = m->offset >> 24;
  uint32_t bits_offset = m->offset & 0xffffff;
  auto refuse = [&](const char* problem) {
    log_member(s, m, "%s", problem);
    return -rt::kEINVAL;
  };
  switch (btf_kind(member_type)) {
    case kBtfKindInt: {
      if (!btf_int_is_regular(member_type)) return refuse("Invalid member base type");
      uint32_t int_bits = btf_int_bits(btf_int_data(member_type));
      if (bitfield_size == 0) {
        if (bits_offset & 7) return refuse("Invalid member offset");
        bitfield_size = int_bits;
      } else if (bitfield_size > int_bits) {
        return refuse("Invalid member bitfield_size");
      }
      uint32_t bytes_offset = bits_offset >> 3;
      uint32_t copy_bits = bitfield_size + (bits_offset & 7);
      if (copy_bits > 128) return refuse("nr_copy_bits exceeds 128");
      if (struct_size < bytes_offset ||
          struct_size - bytes_offset < bits_roundup_bytes(copy_bits)) {
        return refuse("Member exceeds struct_size");
      }
      return 0;
    }
    case kBtfKindEnum:
    case kBtfKindEnum64: {
      if (bitfield_size == 0) {
        if (bits_offset & 7) return refuse("Member is not byte aligned");
        bitfield_size = 32;
      } else if (bitfield_size > 32) {
        return refuse("Invalid member bitfield_size");
      }
      if (struct_size < bits_roundup_bytes(bits_offset + bitfield_size))
        return refuse("Member exceeds struct_size");
      return 0;
    }
    case kBtfKindPtr:
    case kBtfKindArray:
    case kBtfKindStruct:
    case kBtfKindUnion:
    case kBtfKindFloat:
      // Not a bitfield: the offset is a plain bit offset, checked as without kind_flag.
      if (bitfield_size != 0) return refuse("Invalid member bitfield_size");
      return check_member(s, m, member_type);
    case kBtfKindTypedef:
    case kBtfKindVolatile:
    case kBtfKindConst:
    case kBtfKindRestrict:
    case kBtfKindTypeTag: {
      BtfMember resolved_member = *m;
      const BtfType* resolved = btf_.type_id_size(&resolved_member.type, nullptr);
      if (resolved == nullptr) return refuse("Invalid member");
      return check_kflag_member(s, &resolved_member, resolved);
    }
    default: log_type(s, false, "Unsupported check_kflag_member"); return -rt::kEINVAL;
  }
}

// btf_check_type_tags: type tags come before any other modifier in a chain, and no modifier
// chain is longer than 32 (or loops).
int BtfChecker::check_type_tags() {
  uint32_t good_id = 0;
  for (uint32_t id = 1; id < btf_.type_count_; ++id) {
    const BtfType* t = btf_.type_by_id(id);
    if (!btf_is_modifier(t)) continue;
    bool in_tags = btf_kind(t) == kBtfKindTypeTag;
    uint32_t chain_left = kMaxTypeTagChain;
    uint32_t current = id;
    while (!Btf::is_void(t) && btf_is_modifier(t)) {
      if (chain_left-- == 0) {
        log_.print("Max chain length or cycle detected");
        return -rt::kELOOP;
      }
      if (btf_kind(t) == kBtfKindTypeTag) {
        if (!in_tags) {
          log_.print("Type tags don't precede modifiers");
          return -rt::kEINVAL;
        }
      } else {
        in_tags = false;
      }
      if (current <= good_id) break;
      current = t->size_or_type;
      t = btf_.type_by_id(current);
      if (t == nullptr) return -rt::kEINVAL;
    }
    good_id = id;
  }
  return 0;
}

}  // namespace trace
