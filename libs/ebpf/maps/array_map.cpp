// SPDX-License-Identifier: MIT
// BPF_MAP_TYPE_ARRAY with Linux's rules: every key exists, nothing can be deleted.
#include "maps/array_map.hpp"

#include "rt/errno.hpp"

namespace ebpf {
namespace {

uint32_t read_key(const void* key) {
  uint32_t index;
  __builtin_memcpy(&index, key, sizeof(index));
  return index;
}

}  // namespace

uint32_t ArrayMap::current_cpu() const {
  if (value_copies() == 1) return 0;
  uint32_t cpu = cpu_source_->current_cpu();
  return cpu < value_copies() ? cpu : 0;
}

void* ArrayMap::lookup(const void* key) {
  uint32_t index = read_key(key);
  if (index >= attributes().max_entries) return nullptr;
  return element(index, current_cpu());
}

Map::LookupFunction ArrayMap::lookup_function() const {
  return
      [](Map* map, const void* key) { return static_cast<ArrayMap*>(map)->ArrayMap::lookup(key); };
}

// A per-CPU array keeps each element's copies side by side (element()), so an element is
// value_copies() strides long and CPU c's copy is c strides into it.
bool ArrayMap::inline_array(InlineArray& layout) const {
  if (type() != MapType::kArray && type() != MapType::kPercpuArray) return false;
  layout = InlineArray{values_, stride_ * value_copies(), attributes().max_entries, value_copies(),
                       value_copies() == 1 ? 0 : stride_};
  return true;
}

void* ArrayMap::lookup_percpu(const void* key, uint32_t cpu) {
  uint32_t index = read_key(key);
  if (value_copies() == 1 || index >= attributes().max_entries || cpu >= value_copies())
    return nullptr;
  return element(index, cpu);
}

long ArrayMap::update(const void* key, const void* value, uint64_t flags) {
  // Linux's order of checks (array_map_update_elem).
  if ((flags & ~kUpdateLock) > kUpdateExist) return -rt::kEINVAL;
  uint32_t index = read_key(key);
  if (index >= attributes().max_entries) return -rt::kE2BIG;
  // Every element of an array always exists.
  if (flags & kUpdateNoExist) return -rt::kEEXIST;
  // BPF_F_LOCK needs a bpf_spin_lock in the value, which Sonde's maps never have.
  if (flags & kUpdateLock) return -rt::kEINVAL;
  __builtin_memcpy(element(index, current_cpu()), value, attributes().value_size);
  return 0;
}

long ArrayMap::remove(const void*) { return -rt::kEINVAL; }

// From user space, per-CPU maps read and write every CPU's copy at once.
rt::Result<void> ArrayMap::syscall_lookup(const void* key, void* value, uint64_t flags) {
  if (!syscall_can_read()) return rt::err(rt::kEPERM);
  if (flags != 0) return rt::err(rt::kEINVAL);  // BPF_F_LOCK: no spin locks in Sonde's values
  uint32_t index = read_key(key);
  if (index >= attributes().max_entries) return rt::err(rt::kENOENT);
  auto* out = static_cast<uint8_t*>(value);
  if (value_copies() == 1) {
    __builtin_memcpy(out, element(index, 0), attributes().value_size);
    return {};
  }
  // Each CPU's copy in its own 8-byte-aligned slot; the padding is zero in storage.
  for (uint32_t cpu = 0; cpu < value_copies(); ++cpu) {
    __builtin_memcpy(out + cpu * stride_, element(index, cpu), stride_);
  }
  return {};
}

rt::Result<void> ArrayMap::syscall_update(const void* key, const void* value, uint64_t flags) {
  if (!syscall_can_write()) return rt::err(rt::kEPERM);
  if (flags & kUpdateLock)
    return rt::err(rt::kEINVAL);  // the syscall refuses it before the map sees it
  if (value_copies() == 1) return rt::from_negated_errno(update(key, value, flags));
  if (flags > kUpdateExist) return rt::err(rt::kEINVAL);
  uint32_t index = read_key(key);
  if (index >= attributes().max_entries) return rt::err(rt::kE2BIG);
  if (flags == kUpdateNoExist) return rt::err(rt::kEEXIST);
  const auto* in = static_cast<const uint8_t*>(value);
  for (uint32_t cpu = 0; cpu < value_copies(); ++cpu) {
    __builtin_memcpy(element(index, cpu), in + cpu * stride_, attributes().value_size);
  }
  return {};
}

rt::Result<void> ArrayMap::get_next_key(const void* key, void* next_key) {
  if (!syscall_can_read()) return rt::err(rt::kEPERM);  // BPF_MAP_GET_NEXT_KEY reads the map
  return next_array_index(attributes().max_entries, key, next_key);
}

// Linux's generic_map_lookup_batch: the batch token is the last key copied, and the walk
// continues with get_next_key from it; -ENOENT once the walk runs off the end.
rt::Result<void> ArrayMap::lookup_batch(const void* in_batch, void* out_batch, void* keys,
                                        void* values, uint32_t* count) {
  if (!syscall_can_read()) return rt::err(rt::kEPERM);
  uint32_t want = *count;
  if (want == 0) return {};
  uint32_t value_bytes = syscall_value_size();
  auto* key_out = static_cast<uint8_t*>(keys);
  auto* value_out = static_cast<uint8_t*>(values);
  uint32_t previous = 0, key = 0, done = 0;
  const void* from = in_batch;
  rt::Result<void> result;
  while (done < want) {
    result = get_next_key(from, &key);
    if (!result.ok()) break;
    __builtin_memcpy(key_out + static_cast<size_t>(done) * 4, &key, 4);
    (void)syscall_lookup(&key, value_out + static_cast<size_t>(done) * value_bytes, 0);
    previous = key;
    from = &previous;
    ++done;
  }
  *count = done;
  if (done > 0) __builtin_memcpy(out_batch, &previous, 4);
  return result;
}

long ArrayMap::for_each_element(ElementVisitor visit, void* state) {
  uint32_t cpu = current_cpu();
  long visited = 0;
  for (uint32_t index = 0; index < attributes().max_entries; ++index) {
    uint32_t key = index;
    ++visited;
    if (visit(&key, element(index, cpu), state) != 0) break;
  }
  return visited;
}

size_t ArrayMap::memory_usage() const {
  return sizeof(*this) + storage_bytes(attributes(), value_copies());
}

}  // namespace ebpf
