// SPDX-License-Identifier: MIT
// BtfKernelTypes: struct walks (Linux's btf_struct_walk, in brief) and tracing attach targets
// (bpf_check_attach_target, btf_distill_func_proto) over the kernel's BTF.
#include "trace/kernel_types.hpp"

#include "rt/errno.hpp"
#include "rt/format.hpp"
#include "verifier_log.hpp"

namespace trace {
namespace {

bool same(const char* a, const char* b) {
  if (a == nullptr || b == nullptr) return false;
  while (*a != 0 && *a == *b) ++a, ++b;
  return *a == *b;
}

bool is_modifier(uint32_t kind) {
  return kind == kBtfKindTypedef || kind == kBtfKindVolatile || kind == kBtfKindConst ||
         kind == kBtfKindRestrict || kind == kBtfKindTypeTag;
}

bool is_struct(const BtfType* t) {
  return t != nullptr && (btf_kind(t) == kBtfKindStruct || btf_kind(t) == kBtfKindUnion);
}

constexpr int kMaxWalkDepth = 32;  // nested structs and arrays followed for one access

}  // namespace

BtfKernelTypes::BtfKernelTypes(const Btf& btf) : btf_(btf) {
  for (uint32_t id = 1; id < btf_.type_count(); ++id) {
    const BtfType* t = btf_.type_by_id(id);
    if (btf_kind(t) == kBtfKindStruct && same(btf_.name_by_offset(t->name_off), "task_struct")) {
      task_struct_ = id;
      break;
    }
  }
}

uint32_t BtfKernelTypes::resolve(uint32_t id) const {
  for (int i = 0; i < kMaxWalkDepth; ++i) {
    const BtfType* t = btf_.type_by_id(id);
    if (t == nullptr || id == 0 || !is_modifier(btf_kind(t))) return id;
    id = t->size_or_type;
  }
  return id;
}

uint32_t BtfKernelTypes::pointee_struct(uint32_t pointer_type) const {
  uint32_t id = resolve(pointer_type);
  const BtfType* t = btf_.type_by_id(id);
  if (t == nullptr || id == 0 || btf_kind(t) != kBtfKindPtr) return 0;
  uint32_t target = resolve(t->size_or_type);
  return is_struct(btf_.type_by_id(target)) && target != 0 ? target : 0;
}

const char* BtfKernelTypes::type_name(uint32_t type) const {
  const BtfType* t = btf_.type_by_id(type);
  const char* name = t != nullptr ? btf_.name_by_offset(t->name_off) : nullptr;
  return name != nullptr ? name : "";
}

int BtfKernelTypes::read_field(uint32_t type, int32_t offset, int size, uint32_t* pointee,
                               char* message, size_t message_size) const {
  *pointee = 0;
  uint32_t id = resolve(type);
  uint32_t off = static_cast<uint32_t>(offset);
  const char* outer = type_name(id);
  for (int depth = 0; depth < kMaxWalkDepth; ++depth) {
    const BtfType* t = btf_.type_by_id(id);
    if (!is_struct(t)) break;
    const char* name = type_name(id);
    if (uint64_t{off} + static_cast<uint32_t>(size) > t->size_or_type) {
      rt::format_to(message, message_size, "access beyond struct %s at off %u size %d", name, off,
                    size);
      return -rt::kEACCES;
    }
    // The member that holds the access's first byte (the first such one of a union).
    const auto* members = reinterpret_cast<const BtfMember*>(t + 1);
    const BtfMember* found = nullptr;
    uint32_t member_start = 0, member_size = 0;
    for (uint32_t i = 0; i < btf_vlen(t) && found == nullptr; ++i) {
      uint32_t bits = btf_kflag(t) ? members[i].offset & 0xffffff : members[i].offset;
      uint32_t bitfield = btf_kflag(t) ? members[i].offset >> 24 : 0;
      uint32_t member_id = members[i].type;
      uint32_t bytes = 0;
      if (btf_.type_id_size(&member_id, &bytes) == nullptr) continue;
      uint32_t start = bits / 8;
      uint32_t end = bitfield != 0 ? (bits + bitfield + 7) / 8 : start + bytes;
      if (off >= start && off < end) {
        found = &members[i];
        member_start = start;
        member_size = end - start;
      }
    }
    if (found == nullptr) {
      rt::format_to(message, message_size, "struct %s doesn't have field at offset %u", name, off);
      return -rt::kEACCES;
    }
    uint32_t inner = off - member_start;
    if (inner + static_cast<uint32_t>(size) > member_size) {
      const char* member = btf_.name_by_offset(found->name_off);
      rt::format_to(message, message_size,
                    "access beyond the end of member %s (mend:%u) in struct %s with off %u size %d",
                    member != nullptr ? member : "", member_start + member_size, name, off, size);
      return -rt::kEACCES;
    }
    uint32_t member_type = resolve(found->type);
    const BtfType* m = btf_.type_by_id(member_type);
    // Arrays: the element holding the access (an array of structs walks on into it).
    while (m != nullptr && btf_kind(m) == kBtfKindArray) {
      const auto* array = reinterpret_cast<const BtfArray*>(m + 1);
      uint32_t element = array->type;
      uint32_t element_size = 0;
      if (btf_.type_id_size(&element, &element_size) == nullptr || element_size == 0) break;
      if (inner % element_size + static_cast<uint32_t>(size) > element_size) return 0;  // bytes
      inner %= element_size;
      member_type = resolve(element);
      m = btf_.type_by_id(member_type);
    }
    if (is_struct(m)) {
      id = member_type;
      off = inner;
      continue;
    }
    if (m != nullptr && btf_kind(m) == kBtfKindPtr && inner == 0 && size == 8) {
      *pointee = pointee_struct(member_type);
    }
    return 0;
  }
  rt::format_to(message, message_size, "struct %s is too deep to walk at off %u", outer, off);
  return -rt::kEACCES;
}

rt::Result<TracingTarget> BtfKernelTypes::resolve_target(uint32_t btf_id, uint32_t attach_type,
                                                         VerifierLog& log) const {
  TracingTarget target;
  if (btf_id == 0) {
    log.print("Tracing programs must provide btf_id\n");
    return rt::err(rt::kEINVAL, "no attach_btf_id");
  }
  const BtfType* t = btf_id < btf_.type_count() ? btf_.type_by_id(btf_id) : nullptr;
  if (t == nullptr) {
    log.print("attach_btf_id %u is invalid\n", btf_id);
    return rt::err(rt::kEINVAL, "attach_btf_id is no type");
  }
  const char* name = btf_.name_by_offset(t->name_off);
  if (name == nullptr || name[0] == 0) {
    log.print("attach_btf_id %u doesn't have a name\n", btf_id);
    return rt::err(rt::kEINVAL, "attach_btf_id has no name");
  }
  const BtfType* proto = nullptr;
  uint32_t skipped = 0;  // a tracepoint's first argument is the probe's data pointer
  if (attach_type == kAttachTraceRawTp) {
    static constexpr char kPrefix[] = "btf_trace_";
    if (btf_kind(t) != kBtfKindTypedef) {
      log.print("attach_btf_id %u is not a typedef\n", btf_id);
      return rt::err(rt::kEINVAL, "tp_btf target is no typedef");
    }
    for (uint32_t i = 0; i + 1 < sizeof kPrefix; ++i) {
      if (name[i] != kPrefix[i]) {
        log.print("attach_btf_id %u points to wrong type name %s\n", btf_id, name);
        return rt::err(rt::kEINVAL, "tp_btf target is no btf_trace_ typedef");
      }
    }
    name += sizeof kPrefix - 1;
    const BtfType* pointer = btf_.type_by_id(t->size_or_type);
    if (pointer == nullptr || btf_kind(pointer) != kBtfKindPtr) return rt::err(rt::kEINVAL);
    proto = btf_.type_by_id(pointer->size_or_type);
    skipped = 1;
  } else if (attach_type == kAttachTraceFentry || attach_type == kAttachTraceFexit) {
    if (btf_kind(t) != kBtfKindFunc) {
      log.print("attach_btf_id %u is not a function\n", btf_id);
      return rt::err(rt::kEINVAL, "fentry/fexit target is no function");
    }
    proto = btf_.type_by_id(t->size_or_type);
  } else {
    // BPF_MODIFY_RETURN, BPF_LSM_MAC, iterators: Sonde has no such attach points.
    return rt::err(rt::kEINVAL, "attach type not supported for tracing programs");
  }
  if (proto == nullptr || btf_kind(proto) != kBtfKindFuncProto) return rt::err(rt::kEINVAL);
  // btf_distill_func_proto: at most MAX_BPF_FUNC_ARGS arguments, none variadic, each a number,
  // an enum, a pointer or a small struct.
  uint32_t count = btf_vlen(proto);
  const auto* params = reinterpret_cast<const BtfParam*>(proto + 1);
  if (count > 0 && params[count - 1].type == 0) {
    log.print("The function %s with variable args is unsupported.\n", name);
    return rt::err(rt::kEINVAL, "variadic function");
  }
  if (count < skipped) return rt::err(rt::kEINVAL);
  uint32_t args = count - skipped;
  if (args > ebpf::kMaxTracingArgs) {
    log.print("The function %s has %u arguments. Too many.\n", name, args);
    return rt::err(rt::kE2BIG, "too many arguments");
  }
  for (uint32_t i = 0; i < args; ++i) {
    uint32_t id = params[skipped + i].type;
    uint32_t size = 0;
    const BtfType* type = btf_.type_id_size(&id, &size);
    if (type == nullptr || size > 16 || (is_struct(type) && size > 16)) {
      log.print("The function %s arg%u type %s is unsupported.\n", name, i,
                type != nullptr ? type_name(id) : "?");
      return rt::err(rt::kEINVAL, "argument type unsupported");
    }
    target.arg_types[i] = pointee_struct(params[skipped + i].type);
  }
  target.name = name;
  target.function_args = args;
  target.context_args = args;
  if (attach_type == kAttachTraceFexit) {
    // The return value follows the arguments (void: still a slot, which reads as 0).
    target.arg_types[args] = pointee_struct(proto->size_or_type);
    target.context_args = args + 1;
  }
  return target;
}

}  // namespace trace
