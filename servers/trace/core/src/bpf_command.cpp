// SPDX-License-Identifier: MIT
// bpf_command: Linux's __sys_bpf (attr size rules, dispatch) and the id and info commands.
#include "trace/bpf_command.hpp"

#include "commands.hpp"
#include "trace/links.hpp"

namespace trace {
namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.';
}

ObjectKind kind_of_id_command(int command) {
  switch (command) {
    case kProgGetNextId:
    case kProgGetFdById: return ObjectKind::kProgram;
    case kMapGetNextId:
    case kMapGetFdById: return ObjectKind::kMap;
    case kBtfGetNextId: return ObjectKind::kBtf;
    case kLinkGetNextId:
    case kLinkGetFdById: return ObjectKind::kLink;
    default: return ObjectKind::kNone;
  }
}

// bpf_obj_get_next_id.
rt::Result<int64_t> get_next_id(BpfCall& call, ObjectKind kind) {
  const GetIdAttr& attr = call.attr.get_id;
  if (!attr_tail_is_zero(call.attr, kGetNextIdLastFieldEnd) || attr.start_id >= 0x7fffffffu) {
    return rt::err(rt::kEINVAL);
  }
  if (!call.session.privileged()) return rt::err(rt::kEPERM);
  uint32_t next = TRY(call.session.objects().next_id(kind, attr.start_id));
  TRY(write_attr_field(call, &attr.next_id, next));
  return 0;
}

// bpf_get_file_flag: BPF_F_RDONLY / BPF_F_WRONLY as the handle's mode.
rt::Result<uint32_t> file_mode(uint32_t flags) {
  if ((flags & kFlagRdonly) && (flags & kFlagWronly)) return rt::err(rt::kEINVAL);
  if (flags & kFlagRdonly) return kCanRead;
  if (flags & kFlagWronly) return kCanWrite;
  return kCanRead | kCanWrite;
}

// bpf_prog_get_fd_by_id, bpf_map_get_fd_by_id.
rt::Result<int64_t> get_fd_by_id(BpfCall& call, ObjectKind kind) {
  const GetIdAttr& attr = call.attr.get_id;
  uint32_t mode = kCanRead | kCanWrite;
  if (kind == ObjectKind::kMap) {
    if (!attr_tail_is_zero(call.attr, kMapGetFdByIdLastFieldEnd) ||
        (attr.open_flags & ~(kFlagRdonly | kFlagWronly)) != 0) {
      return rt::err(rt::kEINVAL);
    }
    if (!call.session.privileged()) return rt::err(rt::kEPERM);
    mode = TRY(file_mode(attr.open_flags));
  } else {
    // Programs and links: CHECK_ATTR ends at the id.
    if (!attr_tail_is_zero(call.attr, kProgGetFdByIdLastFieldEnd)) return rt::err(rt::kEINVAL);
    if (!call.session.privileged()) return rt::err(rt::kEPERM);
  }
  Object* object = call.session.objects().find(kind, attr.start_id);
  if (object == nullptr) return rt::err(rt::kENOENT);
  return TRY(call.session.open_shared(object, mode));
}

}  // namespace

namespace {

// bpf_obj_get_info_by_fd. Linux answers EBADFD (not EBADF) for an fd that is not open.
rt::Result<int64_t> obj_get_info_by_fd(BpfCall& call) {
  if (!attr_tail_is_zero(call.attr, kInfoLastFieldEnd)) return rt::err(rt::kEINVAL);
  auto handle = call.session.lookup(static_cast<int32_t>(call.attr.info.bpf_fd));
  if (!handle.ok()) {
    if (handle.error().code == rt::kEBADF) return rt::err(rt::kEBADFD);
    return handle.error();
  }
  switch (handle->object->kind) {
    case ObjectKind::kMap:
      return map_get_info(call, *static_cast<const MapObject*>(handle->object));
    case ObjectKind::kProgram:
      return prog_get_info(call, *static_cast<const ProgramObject*>(handle->object));
    case ObjectKind::kBtf:
      return btf_get_info(call, *static_cast<const BtfObject*>(handle->object));
    case ObjectKind::kLink:
      return link_get_info(call, *static_cast<const LinkObject*>(handle->object));
    default: return rt::err(rt::kEINVAL);  // perf events have no bpf info
  }
}

}  // namespace

rt::Result<void> copy_object_name(char destination[kObjNameLen], const char source[kObjNameLen]) {
  for (uint32_t i = 0; i < kObjNameLen; ++i) destination[i] = 0;
  for (uint32_t i = 0; i < kObjNameLen; ++i) {
    if (source[i] == 0) return {};
    if (!is_name_char(source[i]))
      return rt::err(rt::kEINVAL, "object name has a character Linux refuses");
    destination[i] = source[i];
  }
  return rt::err(rt::kEINVAL, "object name is not NUL-terminated");
}

rt::Result<void> user_tail_is_zero(UserMemory& memory, uint64_t address, uint32_t expected,
                                   uint32_t actual) {
  if (actual > kAttrPageSize) return rt::err(rt::kE2BIG);
  for (uint32_t offset = expected; offset < actual; ++offset) {
    uint8_t byte = 0;
    TRY(memory.read(&byte, address + offset, 1));
    if (byte != 0) return rt::err(rt::kE2BIG);
  }
  return {};
}

namespace {

// OBJ_PIN and OBJ_GET: the bpf file system is the POSIX server's (it keeps the pinned file), so
// here the attr is checked as Linux checks it, and for OBJ_PIN the object (a map, program or
// link: anything else, or a closed fd, is EINVAL as bpf_fd_probe_obj answers); 0 tells the
// POSIX server to go on with the path.
rt::Result<int64_t> obj_pin(BpfCall& call) {
  if (!attr_tail_is_zero(call.attr, kObjLastFieldEnd) || call.attr.obj.file_flags != 0) {
    return rt::err(rt::kEINVAL);
  }
  auto handle = call.session.lookup(static_cast<int32_t>(call.attr.obj.bpf_fd));
  if (!handle.ok()) return rt::err(rt::kEINVAL, "OBJ_PIN of an fd that is no map, program or link");
  ObjectKind kind = handle.value().object->kind;
  if (kind != ObjectKind::kMap && kind != ObjectKind::kProgram && kind != ObjectKind::kLink) {
    return rt::err(rt::kEINVAL, "OBJ_PIN of an fd that is no map, program or link");
  }
  return 0;
}

rt::Result<int64_t> obj_get(BpfCall& call) {
  const ObjAttr& attr = call.attr.obj;
  constexpr uint32_t kBoth = kObjFlagRdonly | kObjFlagWronly;
  if (!attr_tail_is_zero(call.attr, kObjLastFieldEnd) || attr.bpf_fd != 0 ||
      (attr.file_flags & ~kBoth) != 0 || attr.file_flags == kBoth) {
    return rt::err(rt::kEINVAL);
  }
  return 0;
}

// bpf_enable_stats: CHECK_ATTR (enable_stats.type is the last field), CAP_SYS_ADMIN, then
// BPF_STATS_RUN_TIME's fd (the only type); statistics stay on until its last close.
rt::Result<int64_t> enable_stats(BpfCall& call) {
  uint32_t type = 0;
  __builtin_memcpy(&type, call.attr.bytes, sizeof type);
  if (!attr_tail_is_zero(call.attr, kEnableStatsLastFieldEnd)) return rt::err(rt::kEINVAL);
  if (!call.session.privileged()) return rt::err(rt::kEPERM);
  if (type != kStatsRunTime) return rt::err(rt::kEINVAL, "unknown bpf_stats_type");
  Object* stats = TRY(call.session.objects().enable_stats());
  return TRY(call.session.open(stats, kCanRead));
}

}  // namespace

rt::Result<int64_t> bpf_command(Session& session, int command, const uint8_t* attr, uint32_t size,
                                UserMemory& memory) {
  // unprivileged_bpf_disabled: only capable callers reach any command.
  if (!session.privileged()) return rt::err(rt::kEPERM);
  // bpf_check_uarg_tail_zero: a larger attr is fine while its tail is zero.
  if (size > kAttrPageSize) return rt::err(rt::kE2BIG);
  for (uint32_t i = kAttrSize; i < size; ++i) {
    if (attr[i] != 0) return rt::err(rt::kE2BIG);
  }
  BpfAttr copy;
  for (uint32_t i = 0; i < kAttrSize; ++i) copy.bytes[i] = i < size ? attr[i] : 0;
  BpfCall call{session, copy, size < kAttrSize ? size : kAttrSize, memory};

  switch (command) {
    case kMapCreate: return map_create(call);
    case kMapLookupElem: return map_lookup_elem(call);
    case kMapUpdateElem: return map_update_elem(call);
    case kMapDeleteElem: return map_delete_elem(call);
    case kMapGetNextKey: return map_get_next_key(call);
    case kMapLookupAndDeleteElem: return map_lookup_and_delete_elem(call);
    case kMapFreeze: return map_freeze(call);
    case kMapLookupBatch:
    case kMapLookupAndDeleteBatch:
    case kMapUpdateBatch:
    case kMapDeleteBatch: return map_batch(call, command);
    case kProgLoad: return prog_load(call);
    case kProgTestRun: return prog_test_run(call);
    case kProgGetNextId:
    case kMapGetNextId:
    case kBtfGetNextId:
    case kLinkGetNextId: return get_next_id(call, kind_of_id_command(command));
    case kProgGetFdById:
    case kMapGetFdById:
    case kLinkGetFdById: return get_fd_by_id(call, kind_of_id_command(command));
    case kObjGetInfoByFd: return obj_get_info_by_fd(call);
    case kBtfLoad: return btf_load(call);
    case kBtfGetFdById: return btf_get_fd_by_id(call);
    case kProgBindMap: return prog_bind_map(call);
    case kLinkCreate: return link_create(call);
    case kRawTracepointOpen: return raw_tracepoint_open(call);
    case kLinkUpdate: return link_update(call);
    case kLinkDetach: return link_detach(call);
    case kTaskFdQuery: return task_fd_query(call);
    case kObjPin: return obj_pin(call);
    case kObjGet: return obj_get(call);
    case kEnableStats: return enable_stats(call);
    default:
      // GAP: PROG_ATTACH/DETACH, PROG_QUERY, ITER_CREATE. Linux answers EINVAL for a command it
      // does not know.
      return rt::err(rt::kEINVAL, "bpf command not implemented");
  }
}

}  // namespace trace
