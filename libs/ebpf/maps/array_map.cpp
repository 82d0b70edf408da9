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

void* ArrayMap::lookup_percpu(const void* key, uint32_t cpu) {
  uint32_t index = read_key(key);
  if (value_copies() == 1 || index >= attributes().max_entries || cpu >= value_copies()) return nullptr;
  return element(index, cpu);
}

long ArrayMap::update(const void* key, const void* value, uint64_t flags) {
  if ((flags & ~kUpdateLock) > kUpdateExist) return -rt::kEINVAL;
  uint32_t index = read_key(key);
  if (index >= attributes().max_entries) return -rt::kE2BIG;
  // Every element of an array always exists.
  if ((flags & ~kUpdateLock) == kUpdateNoExist) return -rt::kEEXIST;
  __builtin_memcpy(element(index, current_cpu()), value, attributes().value_size);
  return 0;
}

long ArrayMap::remove(const void*) { return -rt::kEINVAL; }

// From user space, per-CPU maps read and write every CPU's copy at once.
long ArrayMap::syscall_lookup(const void* key, void* value, uint64_t flags) {
  if (flags & ~kUpdateLock) return -rt::kEINVAL;
  uint32_t index = read_key(key);
  if (index >= attributes().max_entries) return -rt::kENOENT;
  auto* out = static_cast<uint8_t*>(value);
  for (uint32_t cpu = 0; cpu < value_copies(); ++cpu) {
    __builtin_memcpy(out + cpu * stride_, element(index, cpu), attributes().value_size);
  }
  return 0;
}

long ArrayMap::syscall_update(const void* key, const void* value, uint64_t flags) {
  if (frozen()) return -rt::kEPERM;
  if (value_copies() == 1) return update(key, value, flags);
  if ((flags & ~kUpdateLock) > kUpdateExist) return -rt::kEINVAL;
  uint32_t index = read_key(key);
  if (index >= attributes().max_entries) return -rt::kE2BIG;
  if ((flags & ~kUpdateLock) == kUpdateNoExist) return -rt::kEEXIST;
  const auto* in = static_cast<const uint8_t*>(value);
  for (uint32_t cpu = 0; cpu < value_copies(); ++cpu) {
    __builtin_memcpy(element(index, cpu), in + cpu * stride_, attributes().value_size);
  }
  return 0;
}

long ArrayMap::get_next_key(const void* key, void* next_key) {
  uint32_t max = attributes().max_entries;
  uint32_t next = 0;
  if (key != nullptr) {
    uint32_t index = read_key(key);
    if (index < max) {
      if (index == max - 1) return -rt::kENOENT;
      next = index + 1;
    }
  }
  __builtin_memcpy(next_key, &next, sizeof(next));
  return 0;
}

size_t ArrayMap::memory_usage() const {
  return sizeof(*this) + stride_ * attributes().max_entries * value_copies();
}

}  // namespace ebpf
