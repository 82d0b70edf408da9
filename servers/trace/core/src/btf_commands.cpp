// SPDX-License-Identifier: MIT
// The BTF commands of bpf(2): BTF_LOAD, BTF_GET_FD_BY_ID, bpf_btf_info, and map_check_btf.
#include "commands.hpp"
#include "ebpf/map.hpp"
#include "rt/new.hpp"
#include "verifier_log.hpp"

namespace trace {
namespace {

constexpr uint32_t kMaxLogSize = 0xffffffffu >> 2;
constexpr uint32_t kLogLevelMask = 1 | 2 | 4;

// array_map_check_btf: an array's key is a 32-bit int, or nothing for a global-data section
// (a one-entry array whose value is a DATASEC).
rt::Result<void> check_array_btf(const ebpf::MapAttributes& map, const BtfType* key,
                                 const BtfType* value) {
  if (Btf::is_void(key)) {
    if (map.type != ebpf::MapType::kArray || map.max_entries != 1 ||
        btf_kind(value) != kBtfKindDatasec) {
      return rt::err(rt::kEINVAL, "a key-less BTF array must be one global-data section");
    }
    return {};
  }
  uint32_t data = *reinterpret_cast<const uint32_t*>(key + 1);
  if (btf_kind(key) != kBtfKindInt || (data & 0xff) != 32 || ((data >> 16) & 0xff) != 0)
    return rt::err(rt::kEINVAL, "an array's BTF key is not a 32-bit int");
  return {};
}

}  // namespace

// bpf_btf_load and btf_parse: the blob is copied in, checked, and named by a read-only handle.
rt::Result<int64_t> btf_load(BpfCall& call) {
  const BtfLoadAttr& attr = call.attr.btf_load;
  if (!attr_tail_is_zero(call.attr, kBtfLoadLastFieldEnd)) return rt::err(rt::kEINVAL);
  if (attr.btf_size > kBtfMaxSize) return rt::err(rt::kE2BIG);
  bool logging = attr.btf_log_level != 0 || attr.btf_log_buf != 0 || attr.btf_log_size != 0;
  if (logging &&
      (attr.btf_log_size < 128 || attr.btf_log_size > kMaxLogSize || attr.btf_log_level == 0 ||
       attr.btf_log_buf == 0 || (attr.btf_log_level & ~kLogLevelMask) != 0)) {
    return rt::err(rt::kEINVAL);
  }
  ObjectTable& objects = call.session.objects();
  rt::Allocator& allocator = objects.allocator();
  void* memory = allocator.allocate(sizeof(BtfObject), alignof(BtfObject));
  if (memory == nullptr) return rt::err(rt::kENOMEM);
  auto* object = new (memory) BtfObject();
  object->kind = ObjectKind::kBtf;
  auto fail = [&](rt::Error error) -> rt::Result<int64_t> {
    object->btf.destroy(allocator);
    object->~BtfObject();
    allocator.deallocate(object, sizeof(BtfObject));
    return error;
  };
  uint8_t* data = nullptr;
  if (attr.btf_size != 0) {
    data = static_cast<uint8_t*>(allocator.allocate(attr.btf_size, 8));
    if (data == nullptr) return fail(rt::err(rt::kENOMEM));
    if (!call.memory.read(data, attr.btf, attr.btf_size).ok()) {
      allocator.deallocate(data, attr.btf_size);
      return fail(rt::err(rt::kEFAULT));
    }
  }
  ScratchBuffer log_buffer(allocator, logging ? attr.btf_log_size : 0);
  if (!log_buffer.ok()) {
    if (data != nullptr) allocator.deallocate(data, attr.btf_size);
    return fail(rt::err(rt::kENOMEM));
  }
  VerifierLog log(reinterpret_cast<char*>(log_buffer.data()), logging ? attr.btf_log_size : 0,
                  attr.btf_log_level);
  rt::Result<void> parsed = object->btf.parse(allocator, data, attr.btf_size, log);
  // GAP: Linux 6.1 copies each message out as it goes (a log it cannot write is dropped
  // silently); the core copies the log out once, and EFAULT when it cannot (as Linux 6.4).
  if (logging && !call.memory.write(attr.btf_log_buf, log_buffer.data(), log.used() + 1).ok())
    return fail(rt::err(rt::kEFAULT));
  if (call.size >= offsetof(BtfLoadAttr, btf_log_true_size) + sizeof(uint32_t)) {
    if (!write_attr_field(call, &attr.btf_log_true_size, log.true_size()).ok())
      return fail(rt::err(rt::kEFAULT));
  }
  if (!parsed.ok()) return fail(parsed.error());
  if (auto added = objects.add(object); !added.ok()) return fail(added.error());
  return TRY(call.session.open(object, kCanRead));
}

// bpf_btf_get_fd_by_id.
rt::Result<int64_t> btf_get_fd_by_id(BpfCall& call) {
  if (!attr_tail_is_zero(call.attr, kBtfGetFdByIdLastFieldEnd)) return rt::err(rt::kEINVAL);
  if (!call.session.privileged()) return rt::err(rt::kEPERM);
  Object* object = call.session.objects().find(ObjectKind::kBtf, call.attr.get_id.start_id);
  if (object == nullptr) return rt::err(rt::kENOENT);
  return TRY(call.session.open_shared(object, kCanRead));
}

// btf_get_info_by_fd: the blob as loaded (cut to the caller's room), its size, id, kernel_btf
// and name ("vmlinux" for the kernel's BTF; user BTF has none: name_len 0, and a name buffer
// gets just the NUL). name_len is the name's length, whatever room the caller gave; a name cut
// to the caller's room is ENOSPC, with the info written all the same.
rt::Result<int64_t> btf_get_info(BpfCall& call, const BtfObject& object) {
  const InfoAttr& attr = call.attr.info;
  UserMemory& memory = call.memory;
  TRY(user_tail_is_zero(memory, attr.info, sizeof(BtfInfo), attr.info_len));
  uint32_t info_len = attr.info_len < sizeof(BtfInfo) ? attr.info_len : sizeof(BtfInfo);
  BtfInfo info = {};
  TRY(memory.read(&info, attr.info, info_len));
  info.id = object.id;
  uint32_t copy = object.btf.size() < info.btf_size ? object.btf.size() : info.btf_size;
  TRY(memory.write(info.btf, object.btf.data(), copy));
  info.btf_size = object.btf.size();
  info.kernel_btf = object.kernel_btf ? 1 : 0;
  if ((info.name == 0) != (info.name_len == 0)) return rt::err(rt::kEINVAL);
  uint32_t name_len = 0;
  while (object.name[name_len] != 0) ++name_len;
  uint32_t room = info.name_len;
  info.name_len = name_len;
  bool cut = false;
  if (info.name != 0) {
    if (room >= name_len + 1) {
      TRY(memory.write(info.name, object.name, name_len + 1));
    } else {
      char nul = 0;
      TRY(memory.write(info.name, object.name, room - 1));
      TRY(memory.write(info.name + room - 1, &nul, 1));
      cut = true;
    }
  }
  TRY(memory.write(attr.info, &info, info_len));
  TRY(write_attr_field(call, &attr.info_len, info_len));
  if (cut) return rt::err(rt::kENOSPC);
  return 0;
}

// map_check_btf and the map types' own checks: the key and value types have the map's sizes.
rt::Result<void> check_map_btf(const Btf& btf, const ebpf::MapAttributes& map, uint32_t key_id,
                               uint32_t value_id) {
  using ebpf::MapType;
  MapType type = map.type;
  bool array = type == MapType::kArray || type == MapType::kPercpuArray;
  // The types whose Linux ops refuse BTF outright (map_check_no_btf).
  bool no_btf = type == MapType::kProgArray || type == MapType::kPerfEventArray ||
                type == MapType::kCgroupArray || type == MapType::kArrayOfMaps ||
                type == MapType::kHashOfMaps;
  bool has_check = array || no_btf || type == MapType::kLpmTrie || type == MapType::kBloomFilter;
  const BtfType* key = btf.type_by_id(0);
  if (key_id != 0) {
    uint32_t key_size = 0;
    key = btf.type_id_size(&key_id, &key_size);
    if (key == nullptr || key_size != map.key_size)
      return rt::err(rt::kEINVAL, "BTF key type does not have the key's size");
  } else if (!has_check) {
    return rt::err(rt::kEINVAL, "BTF value without key for a map type that needs one");
  }
  uint32_t value_size = 0;
  const BtfType* value = btf.type_id_size(&value_id, &value_size);
  if (value == nullptr || value_size != map.value_size)
    return rt::err(rt::kEINVAL, "BTF value type does not have the value's size");
  // GAP: bpf_spin_lock, bpf_timer and kptr fields in values are not recognized: a value that
  // has one is taken as plain bytes (Linux would give it their special handling).
  if (array) return check_array_btf(map, key, value);
  if (no_btf) return rt::err(rt::kENOTSUPP, "map type takes no BTF");
  if (type == MapType::kBloomFilter && key_id != 0)
    return rt::err(rt::kEINVAL, "a bloom filter's BTF key is not void");
  if (type == MapType::kLpmTrie && btf_kind(key) != kBtfKindStruct)
    return rt::err(rt::kEINVAL, "an LPM trie's BTF key is not a struct");
  return {};
}

}  // namespace trace
