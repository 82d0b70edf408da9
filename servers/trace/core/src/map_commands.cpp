// SPDX-License-Identifier: MIT
// The map commands of bpf(2): create, the element commands, freeze, the batches, bpf_map_info.
#include "commands.hpp"
#include "ebpf/maps.hpp"
#include "ebpf/prog_array.hpp"
#include "ebpf/ringbuf.hpp"
#include "rt/new.hpp"
#include "trace/perf_events.hpp"

namespace trace {
namespace {

constexpr uint32_t kMapFlagNumaNode = 1u << 2;  // BPF_F_NUMA_NODE

// __bpf_map_get plus map_get_sys_perms: the map behind a handle and what the caller may do.
struct MapAccess {
  MapObject* object;
  ebpf::Map* map;
  bool can_read;
  bool can_write;
};

rt::Result<MapAccess> map_access(BpfCall& call, uint32_t fd) {
  Handle handle = TRY(call.session.lookup_kind(static_cast<int32_t>(fd), ObjectKind::kMap));
  auto* object = static_cast<MapObject*>(handle.object);
  return MapAccess{object, object->map, (handle.mode & kCanRead) && object->map->syscall_can_read(),
                   (handle.mode & kCanWrite) && object->map->syscall_can_write()};
}

// __bpf_copy_key: a key of key_size bytes; no key at all for key-less maps (EINVAL if given).
rt::Result<void> copy_key(BpfCall& call, uint64_t address, uint32_t key_size, ScratchBuffer& key) {
  if (key_size == 0) {
    if (address != 0) return rt::err(rt::kEINVAL);
    return {};
  }
  if (!key.ok()) return rt::err(rt::kENOMEM);
  return call.memory.read(key.data(), address, key_size);
}

bool is_queue_or_stack(ebpf::MapType type) {
  return type == ebpf::MapType::kQueue || type == ebpf::MapType::kStack;
}

bool is_hash(ebpf::MapType type) {
  return type == ebpf::MapType::kHash || type == ebpf::MapType::kPercpuHash ||
         type == ebpf::MapType::kLruHash || type == ebpf::MapType::kLruPercpuHash;
}

// bpf_fd_array_map_update_elem for program arrays: the value is a program fd; the slot holds a
// reference on the program, and the program it replaces loses one.
rt::Result<void> update_program_array(BpfCall& call, MapObject& object, const void* key,
                                      const void* value, uint64_t flags) {
  auto* array = static_cast<ebpf::ProgArrayMap*>(object.map);
  if (flags != 0) return rt::err(rt::kEINVAL);  // BPF_ANY only
  uint32_t index, fd;
  __builtin_memcpy(&index, key, sizeof(index));
  __builtin_memcpy(&fd, value, sizeof(fd));
  if (index >= array->attributes().max_entries) return rt::err(rt::kE2BIG);
  Handle handle = TRY(call.session.lookup_kind(static_cast<int32_t>(fd), ObjectKind::kProgram));
  auto* program = static_cast<ProgramObject*>(handle.object);
  TRY(claim_program_array(object, *program));
  ObjectTable& objects = call.session.objects();
  uint32_t old_id = array->slots()[index].program != nullptr ? array->slots()[index].id : 0;
  TRY(array->set(index, &program->program, program->id));
  objects.acquire(program);
  if (old_id != 0) {
    if (Object* old = objects.find(ObjectKind::kProgram, old_id); old != nullptr)
      objects.release(old);
  }
  return {};
}

bool is_plain_array(ebpf::MapType type) {
  return type == ebpf::MapType::kArray || type == ebpf::MapType::kPercpuArray;
}

// Types whose BPF_MAP_LOOKUP_BATCH is generic_map_lookup_batch (its token is a key).
bool has_generic_lookup_batch(ebpf::MapType type) {
  return is_plain_array(type) || type == ebpf::MapType::kLpmTrie;
}

}  // namespace

rt::Result<void> claim_program_array(MapObject& map, const ProgramObject& program) {
  uint32_t type = static_cast<uint32_t>(program.type);
  if (map.owner_type == 0) {
    map.owner_type = type;
    map.owner_jited = program.jit.compiled();
  }
  if (map.owner_type != type)
    return rt::err(rt::kEINVAL, "program array owned by another program type");
  return {};
}

// map_create.
rt::Result<int64_t> map_create(BpfCall& call) {
  const MapCreateAttr& attr = call.attr.map_create;
  if (!attr_tail_is_zero(call.attr, kMapCreateLastFieldEnd)) return rt::err(rt::kEINVAL);
  if (attr.btf_vmlinux_value_type_id != 0) return rt::err(rt::kEINVAL);  // struct_ops only
  if (attr.btf_key_type_id != 0 && attr.btf_value_type_id == 0) return rt::err(rt::kEINVAL);
  if (attr.map_type != static_cast<uint32_t>(ebpf::MapType::kBloomFilter) && attr.map_extra != 0)
    return rt::err(rt::kEINVAL);  // bloom filters only
  if ((attr.map_flags & kFlagRdonly) && (attr.map_flags & kFlagWronly)) return rt::err(rt::kEINVAL);
  // One NUMA node: node 0 is the only one online.
  if ((attr.map_flags & kMapFlagNumaNode) && attr.numa_node != 0) return rt::err(rt::kEINVAL);
  if (attr.map_ifindex != 0) return rt::err(rt::kEINVAL);  // no device to offload to

  ebpf::MapAttributes attributes;
  attributes.type = static_cast<ebpf::MapType>(attr.map_type);
  attributes.key_size = attr.key_size;
  attributes.value_size = attr.value_size;
  attributes.max_entries = attr.max_entries;
  attributes.map_flags = attr.map_flags;
  attributes.map_extra = attr.map_extra;
  // Linux checks the name after the type's own checks, so a bad name fails only then.
  rt::Result<void> named = copy_object_name(attributes.name, attr.map_name);
  ObjectTable& objects = call.session.objects();
  ebpf::Map* map = TRY(ebpf::create_map(attributes, objects.allocator(), objects.environment()));
  if (attributes.type == ebpf::MapType::kRingbuf) {
    static_cast<ebpf::RingbufMap*>(map)->set_wakeup(&ReaderWakeups::wake,
                                                    &objects.reader_wakeups());
  }

  auto fail = [&](rt::Error error) -> rt::Result<int64_t> {
    ebpf::destroy_map(map, objects.allocator());
    return error;
  };
  if (!named.ok()) return fail(named.error());
  BtfObject* btf = nullptr;
  if (attr.btf_key_type_id != 0 || attr.btf_value_type_id != 0) {
    // btf_get_by_fd: EBADF for a closed handle, EINVAL for another object.
    auto handle = call.session.lookup_kind(static_cast<int32_t>(attr.btf_fd), ObjectKind::kBtf);
    if (!handle.ok()) return fail(handle.error());
    btf = static_cast<BtfObject*>(handle->object);
    if (btf->kernel_btf) return fail(rt::err(rt::kEACCES, "a map's BTF cannot be the kernel's"));
    if (auto checked = check_map_btf(btf->btf, map->attributes(), attr.btf_key_type_id,
                                     attr.btf_value_type_id);
        !checked.ok()) {
      return fail(checked.error());
    }
  }
  void* memory = objects.allocator().allocate(sizeof(MapObject), alignof(MapObject));
  if (memory == nullptr) return fail(rt::err(rt::kENOMEM));
  auto* object = new (memory) MapObject();
  object->kind = ObjectKind::kMap;
  object->map = map;
  if (auto added = objects.add(object); !added.ok()) {
    objects.allocator().deallocate(object, sizeof(MapObject));
    return fail(added.error());
  }
  if (btf != nullptr) {
    objects.acquire(btf);
    object->btf = btf;
    object->btf_key_type_id = attr.btf_key_type_id;
    object->btf_value_type_id = attr.btf_value_type_id;
  }
  uint32_t mode = (attr.map_flags & kFlagRdonly)   ? kCanRead
                  : (attr.map_flags & kFlagWronly) ? kCanWrite
                                                   : kCanRead | kCanWrite;
  return TRY(call.session.open(object, mode));
}

// map_lookup_elem.
rt::Result<int64_t> map_lookup_elem(BpfCall& call) {
  const MapElemAttr& attr = call.attr.elem;
  if (!attr_tail_is_zero(call.attr, kMapElemFlagsEnd)) return rt::err(rt::kEINVAL);
  if (attr.flags & ~kFlagLock) return rt::err(rt::kEINVAL);
  MapAccess access = TRY(map_access(call, attr.map_fd));
  if (!access.can_read) return rt::err(rt::kEPERM);
  if (attr.flags & kFlagLock) return rt::err(rt::kEINVAL);  // no value has a bpf_spin_lock
  uint32_t key_size = access.map->attributes().key_size;
  ScratchBuffer key(call.session.objects().allocator(), key_size);
  TRY(copy_key(call, attr.key, key_size, key));
  uint32_t value_size = access.map->syscall_value_size();
  ScratchBuffer value(call.session.objects().allocator(), value_size);
  if (!value.ok()) return rt::err(rt::kENOMEM);
  if (access.map->type() == ebpf::MapType::kBloomFilter) {
    // The caller's value is what is looked for: read, tested, never written back.
    TRY(call.memory.read(value.data(), attr.value, value_size));
    TRY(access.map->syscall_lookup(key.data(), value.data(), attr.flags));
    return 0;
  }
  TRY(access.map->syscall_lookup(key.data(), value.data(), attr.flags));
  TRY(call.memory.write(attr.value, value.data(), value_size));
  return 0;
}

// map_update_elem.
rt::Result<int64_t> map_update_elem(BpfCall& call) {
  const MapElemAttr& attr = call.attr.elem;
  if (!attr_tail_is_zero(call.attr, kMapElemFlagsEnd)) return rt::err(rt::kEINVAL);
  MapAccess access = TRY(map_access(call, attr.map_fd));
  if (!access.can_write) return rt::err(rt::kEPERM);
  if (attr.flags & kFlagLock) return rt::err(rt::kEINVAL);  // no value has a bpf_spin_lock
  uint32_t key_size = access.map->attributes().key_size;
  ScratchBuffer key(call.session.objects().allocator(), key_size);
  TRY(copy_key(call, attr.key, key_size, key));
  uint32_t value_size = access.map->syscall_value_size();
  ScratchBuffer value(call.session.objects().allocator(), value_size);
  if (!value.ok()) return rt::err(rt::kENOMEM);
  TRY(call.memory.read(value.data(), attr.value, value_size));
  if (access.map->type() == ebpf::MapType::kProgArray) {
    TRY(update_program_array(call, *access.object, key.data(), value.data(), attr.flags));
    return 0;
  }
  if (access.map->type() == ebpf::MapType::kPerfEventArray) {
    TRY(update_perf_event_array(call, *access.object, key.data(), value.data(), attr.flags));
    return 0;
  }
  TRY(access.map->syscall_update(key.data(), value.data(), attr.flags));
  return 0;
}

// map_delete_elem.
rt::Result<int64_t> map_delete_elem(BpfCall& call) {
  const MapElemAttr& attr = call.attr.elem;
  if (!attr_tail_is_zero(call.attr, kMapDeleteLastFieldEnd)) return rt::err(rt::kEINVAL);
  MapAccess access = TRY(map_access(call, attr.map_fd));
  if (!access.can_write) return rt::err(rt::kEPERM);
  uint32_t key_size = access.map->attributes().key_size;
  ScratchBuffer key(call.session.objects().allocator(), key_size);
  TRY(copy_key(call, attr.key, key_size, key));
  uint32_t old_id = 0;
  if (access.map->type() == ebpf::MapType::kProgArray) {
    auto* array = static_cast<ebpf::ProgArrayMap*>(access.map);
    uint32_t index;
    __builtin_memcpy(&index, key.data(), sizeof(index));
    if (index < array->attributes().max_entries && array->slots()[index].program != nullptr) {
      old_id = array->slots()[index].id;
    }
  }
  PerfEventObject* old_event = nullptr;
  if (access.map->type() == ebpf::MapType::kPerfEventArray) {
    uint32_t index;
    __builtin_memcpy(&index, key.data(), sizeof(index));
    old_event = perf_event_in_slot(*access.object, index);
  }
  TRY(access.map->syscall_delete(key.data()));
  if (old_event != nullptr) call.session.objects().release(old_event);
  if (old_id != 0) {
    ObjectTable& objects = call.session.objects();
    if (Object* old = objects.find(ObjectKind::kProgram, old_id); old != nullptr)
      objects.release(old);
  }
  return 0;
}

// map_get_next_key: no key (NULL) asks for the first one.
rt::Result<int64_t> map_get_next_key(BpfCall& call) {
  const MapElemAttr& attr = call.attr.elem;
  if (!attr_tail_is_zero(call.attr, kMapNextKeyLastFieldEnd)) return rt::err(rt::kEINVAL);
  MapAccess access = TRY(map_access(call, attr.map_fd));
  if (!access.can_read) return rt::err(rt::kEPERM);
  uint32_t key_size = access.map->attributes().key_size;
  ScratchBuffer key(call.session.objects().allocator(), key_size);
  const void* current = nullptr;
  if (attr.key != 0) {
    TRY(copy_key(call, attr.key, key_size, key));
    current = key.data();
  }
  ScratchBuffer next(call.session.objects().allocator(), key_size);
  if (!next.ok()) return rt::err(rt::kENOMEM);
  TRY(access.map->get_next_key(current, next.data()));
  TRY(call.memory.write(attr.value, next.data(), key_size));
  return 0;
}

// map_lookup_and_delete_elem: hashes, and queues and stacks (pop).
rt::Result<int64_t> map_lookup_and_delete_elem(BpfCall& call) {
  const MapElemAttr& attr = call.attr.elem;
  if (!attr_tail_is_zero(call.attr, kMapElemFlagsEnd)) return rt::err(rt::kEINVAL);
  if (attr.flags & ~kFlagLock) return rt::err(rt::kEINVAL);
  MapAccess access = TRY(map_access(call, attr.map_fd));
  if (!access.can_read || !access.can_write) return rt::err(rt::kEPERM);
  if (attr.flags != 0 && is_queue_or_stack(access.map->type())) return rt::err(rt::kEINVAL);
  if (attr.flags & kFlagLock) return rt::err(rt::kEINVAL);
  uint32_t key_size = access.map->attributes().key_size;
  ScratchBuffer key(call.session.objects().allocator(), key_size);
  TRY(copy_key(call, attr.key, key_size, key));
  uint32_t value_size = access.map->syscall_value_size();
  ScratchBuffer value(call.session.objects().allocator(), value_size);
  if (!value.ok()) return rt::err(rt::kENOMEM);
  TRY(access.map->lookup_and_delete(key.data(), value.data(), attr.flags));
  TRY(call.memory.write(attr.value, value.data(), value_size));
  return 0;
}

// map_freeze: no write access needed, only the capability.
rt::Result<int64_t> map_freeze(BpfCall& call) {
  if (!attr_tail_is_zero(call.attr, kMapFreezeLastFieldEnd)) return rt::err(rt::kEINVAL);
  Handle handle =
      TRY(call.session.lookup_kind(static_cast<int32_t>(call.attr.elem.map_fd), ObjectKind::kMap));
  ebpf::Map* map = static_cast<MapObject*>(handle.object)->map;
  if (map->frozen()) return rt::err(rt::kEBUSY);
  if (!call.session.privileged()) return rt::err(rt::kEPERM);
  TRY(map->syscall_freeze());
  return 0;
}

namespace {

// generic_map_lookup_batch and htab's batch: the engine walks the map into host buffers; the
// results, the count and the token go back to the caller. The token is a u32 bucket for hashes
// and the last key copied for the generic walk.
rt::Result<int64_t> lookup_batch(BpfCall& call, const MapAccess& access, bool remove) {
  const MapBatchAttr& attr = call.attr.batch;
  ebpf::MapType type = access.map->type();
  if (remove ? !is_hash(type) : !(is_hash(type) || has_generic_lookup_batch(type)))
    return rt::err(rt::kENOTSUPP);
  if (attr.elem_flags != 0)
    return rt::err(rt::kEINVAL);  // only BPF_F_LOCK, which needs a spin lock
  if (is_hash(type) && attr.flags != 0) return rt::err(rt::kEINVAL);
  uint32_t count = attr.count;
  if (count == 0) return 0;
  if (is_hash(type)) TRY(write_attr_field(call, &attr.count, uint32_t{0}));
  uint32_t key_size = access.map->attributes().key_size;
  // Keys of the generic walk are at most an LPM trie's: 4 + 256 bytes.
  alignas(8) uint8_t token[260];
  alignas(8) uint8_t next_token[sizeof(token)] = {};
  uint32_t token_size = is_hash(type) ? sizeof(uint32_t) : key_size;
  if (token_size > sizeof(token)) return rt::err(rt::kENOTSUPP);
  if (attr.in_batch != 0) TRY(call.memory.read(token, attr.in_batch, token_size));
  // No walk copies more than max_entries elements; one more slot keeps "the end was reached"
  // (ENOENT) exactly as for the caller's count, without buffers sized by a hostile count.
  uint32_t max_entries = access.map->attributes().max_entries;
  if (count > max_entries) count = max_entries + 1;
  uint32_t value_size = access.map->syscall_value_size();
  rt::Allocator& allocator = call.session.objects().allocator();
  ScratchBuffer keys(allocator, uint64_t{count} * key_size);
  ScratchBuffer values(allocator, uint64_t{count} * value_size);
  if (!keys.ok() || !values.ok()) return rt::err(rt::kENOMEM);
  uint32_t done = count;
  const void* from = attr.in_batch != 0 ? token : nullptr;
  rt::Result<void> walked =
      remove
          ? access.map->lookup_and_delete_batch(from, next_token, keys.data(), values.data(), &done)
          : access.map->lookup_batch(from, next_token, keys.data(), values.data(), &done);
  if (!walked.ok() && walked.error().code != rt::kENOENT && walked.error().code != rt::kENOSPC) {
    return walked.error();
  }
  TRY(call.memory.write(attr.keys, keys.data(), uint64_t{done} * key_size));
  TRY(call.memory.write(attr.values, values.data(), uint64_t{done} * value_size));
  // Hashes always report where to go on; the generic walk only after copying something.
  if (is_hash(type) || done > 0) TRY(call.memory.write(attr.out_batch, next_token, token_size));
  TRY(write_attr_field(call, &attr.count, done));
  if (!walked.ok()) return walked.error();
  return 0;
}

// generic_map_update_batch and generic_map_delete_batch: element by element from the caller's
// arrays, stopping at the first error; the count says how many were done.
rt::Result<int64_t> change_batch(BpfCall& call, const MapAccess& access, bool update) {
  const MapBatchAttr& attr = call.attr.batch;
  uint32_t key_size = access.map->attributes().key_size;
  uint32_t value_size = access.map->syscall_value_size();
  rt::Allocator& allocator = call.session.objects().allocator();
  ScratchBuffer key(allocator, key_size);
  ScratchBuffer value(allocator, update ? value_size : 0);
  if (!key.ok() || !value.ok()) return rt::err(rt::kENOMEM);
  // The engine's own checks (type support, elem_flags) answer for an empty batch too.
  uint32_t none = 0;
  if (update) {
    TRY(access.map->update_batch(key.data(), value.data(), &none, attr.elem_flags));
  } else {
    TRY(access.map->delete_batch(key.data(), &none, attr.elem_flags));
  }
  if (attr.count == 0) return 0;
  TRY(call.memory.prefetch(attr.keys, uint64_t{attr.count} * key_size));
  if (update) TRY(call.memory.prefetch(attr.values, uint64_t{attr.count} * value_size));
  uint32_t done = 0;
  rt::Result<void> result;
  for (; done < attr.count; ++done) {
    result = call.memory.read(key.data(), attr.keys + uint64_t{done} * key_size, key_size);
    if (result.ok() && update) {
      result =
          call.memory.read(value.data(), attr.values + uint64_t{done} * value_size, value_size);
    }
    if (!result.ok()) break;
    uint32_t one = 1;
    result = update ? access.map->update_batch(key.data(), value.data(), &one, attr.elem_flags)
                    : access.map->delete_batch(key.data(), &one, attr.elem_flags);
    if (!result.ok()) break;
  }
  TRY(write_attr_field(call, &attr.count, done));
  if (!result.ok()) return result.error();
  return 0;
}

}  // namespace

// bpf_map_do_batch.
rt::Result<int64_t> map_batch(BpfCall& call, int command) {
  if (!attr_tail_is_zero(call.attr, kBatchLastFieldEnd)) return rt::err(rt::kEINVAL);
  MapAccess access = TRY(map_access(call, call.attr.batch.map_fd));
  bool reads = command == kMapLookupBatch || command == kMapLookupAndDeleteBatch;
  bool writes = command != kMapLookupBatch;
  if ((reads && !access.can_read) || (writes && !access.can_write)) return rt::err(rt::kEPERM);
  switch (command) {
    case kMapLookupBatch: return lookup_batch(call, access, false);
    case kMapLookupAndDeleteBatch: return lookup_batch(call, access, true);
    case kMapUpdateBatch: return change_batch(call, access, true);
    default: return change_batch(call, access, false);
  }
}

// bpf_map_get_info_by_fd.
rt::Result<int64_t> map_get_info(BpfCall& call, const MapObject& object) {
  const InfoAttr& attr = call.attr.info;
  TRY(user_tail_is_zero(call.memory, attr.info, sizeof(MapInfo), attr.info_len));
  uint32_t info_len = attr.info_len < sizeof(MapInfo) ? attr.info_len : sizeof(MapInfo);
  MapInfo info = {};
  const ebpf::MapAttributes& attributes = object.map->attributes();
  info.type = static_cast<uint32_t>(attributes.type);
  info.id = object.id;
  info.key_size = attributes.key_size;
  info.value_size = attributes.value_size;
  info.max_entries = attributes.max_entries;
  info.map_flags = attributes.map_flags;
  info.map_extra = attributes.map_extra;
  for (uint32_t i = 0; i < kObjNameLen; ++i) info.name[i] = attributes.name[i];
  if (object.btf != nullptr) {
    info.btf_id = object.btf->id;
    info.btf_key_type_id = object.btf_key_type_id;
    info.btf_value_type_id = object.btf_value_type_id;
  }
  TRY(call.memory.write(attr.info, &info, info_len));
  TRY(write_attr_field(call, &attr.info_len, info_len));
  return 0;
}

}  // namespace trace
