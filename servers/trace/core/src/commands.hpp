// SPDX-License-Identifier: MIT
// What the command areas share: the call being served, Linux's attr checks, one entry each.
#pragma once

#include <stdint.h>

#include "rt/errno.hpp"
#include "rt/result.hpp"
#include "trace/bpf_uapi.hpp"
#include "trace/session.hpp"
#include "trace/user_memory.hpp"

namespace trace {

// One bpf() call: the attr (zero beyond what the caller passed), its size, the caller.
struct BpfCall {
  Session& session;
  const BpfAttr& attr;
  uint32_t size;
  UserMemory& memory;
};

// CHECK_ATTR: every byte after the command's last field must be zero.
inline bool attr_tail_is_zero(const BpfAttr& attr, uint32_t last_field_end) {
  for (uint32_t i = last_field_end; i < kAttrSize; ++i) {
    if (attr.bytes[i] != 0) return false;
  }
  return true;
}

// Writes an output field of the caller's attr (Linux's put_user(x, &uattr->field)).
template <typename T>
rt::Result<void> write_attr_field(BpfCall& call, const void* field, const T& value) {
  uint32_t offset = static_cast<uint32_t>(static_cast<const uint8_t*>(field) - call.attr.bytes);
  return call.memory.write_attr(offset, &value, sizeof(T));
}

// bpf_obj_name_cpy: letters, digits, '_' and '.', NUL-terminated within the field; EINVAL else.
rt::Result<void> copy_object_name(char destination[kObjNameLen], const char source[kObjNameLen]);

// bpf_check_uarg_tail_zero on a user struct (bpf_*_info): `actual` bytes at `address` where
// the kernel knows `expected`; E2BIG for a nonzero tail or more than a page, EFAULT.
rt::Result<void> user_tail_is_zero(UserMemory& memory, uint64_t address, uint32_t expected,
                                   uint32_t actual);

// Memory from the object table's allocator for the length of one call.
class ScratchBuffer {
 public:
  ScratchBuffer(rt::Allocator& allocator, uint64_t size) : allocator_(allocator), size_(size) {
    if (size > 0 && size <= kMaxScratch)
      bytes_ = static_cast<uint8_t*>(allocator.allocate(size, 8));
  }
  ~ScratchBuffer() {
    if (bytes_ != nullptr) allocator_.deallocate(bytes_, size_);
  }
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;
  // False when a nonzero size could not be had (the command then fails with ENOMEM).
  bool ok() const { return size_ == 0 || bytes_ != nullptr; }
  uint8_t* data() { return bytes_; }

  static constexpr uint64_t kMaxScratch = uint64_t{1} << 31;

 private:
  rt::Allocator& allocator_;
  uint64_t size_;
  uint8_t* bytes_ = nullptr;
};

// Maps (map_commands.cpp).
rt::Result<int64_t> map_create(BpfCall& call);
rt::Result<int64_t> map_lookup_elem(BpfCall& call);
rt::Result<int64_t> map_update_elem(BpfCall& call);
rt::Result<int64_t> map_delete_elem(BpfCall& call);
rt::Result<int64_t> map_get_next_key(BpfCall& call);
rt::Result<int64_t> map_lookup_and_delete_elem(BpfCall& call);
rt::Result<int64_t> map_freeze(BpfCall& call);
rt::Result<int64_t> map_batch(BpfCall& call, int command);
rt::Result<int64_t> map_get_info(BpfCall& call, const MapObject& map);
// Perf event arrays (perf_event_array.cpp): a slot takes a perf event handle.
rt::Result<void> update_perf_event_array(BpfCall& call, MapObject& map, const void* key,
                                         const void* value, uint64_t flags);
// bpf_prog_array_compatible: a program array takes programs of one type, its owner's.
rt::Result<void> claim_program_array(MapObject& map, const ProgramObject& program);

// BTF (btf_commands.cpp, prog_btf_info.cpp).
rt::Result<int64_t> btf_load(BpfCall& call);
rt::Result<int64_t> btf_get_fd_by_id(BpfCall& call);
rt::Result<int64_t> btf_get_info(BpfCall& call, const BtfObject& btf);
// map_check_btf: the key (0: none) and value types exist with the map's sizes; EINVAL else.
rt::Result<void> check_map_btf(const Btf& btf, const ebpf::MapAttributes& map, uint32_t key_id,
                               uint32_t value_id);
class VerifierLog;
// check_btf_info: prog_btf_fd's BTF object (held by the program) and the func and line info
// records, with Linux's messages in `log`.
rt::Result<void> check_program_btf(BpfCall& call, ProgramObject& program, VerifierLog& log);

// Programs (prog_commands.cpp, prog_info.cpp).
rt::Result<int64_t> prog_load(BpfCall& call);
rt::Result<int64_t> prog_test_run(BpfCall& call);
rt::Result<int64_t> prog_bind_map(BpfCall& call);

// Links (link_commands.cpp).
rt::Result<int64_t> link_create(BpfCall& call);
rt::Result<int64_t> raw_tracepoint_open(BpfCall& call);
rt::Result<int64_t> link_detach(BpfCall& call);
rt::Result<int64_t> task_fd_query(BpfCall& call);
rt::Result<int64_t> link_update(BpfCall& call);
struct LinkObject;
rt::Result<int64_t> link_get_info(BpfCall& call, const LinkObject& link);
rt::Result<int64_t> prog_get_info(BpfCall& call, const ProgramObject& program);

}  // namespace trace
