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

void* ArrayMap::lookup(const void* key) {
  uint32_t index = read_key(key);
  if (index >= attributes().max_entries) return nullptr;
  return values_ + static_cast<size_t>(index) * stride_;
}

long ArrayMap::update(const void* key, const void* value, uint64_t flags) {
  if ((flags & ~kUpdateLock) > kUpdateExist) return -rt::kEINVAL;
  uint32_t index = read_key(key);
  if (index >= attributes().max_entries) return -rt::kE2BIG;
  // Every element of an array always exists.
  if ((flags & ~kUpdateLock) == kUpdateNoExist) return -rt::kEEXIST;
  __builtin_memcpy(values_ + static_cast<size_t>(index) * stride_, value, attributes().value_size);
  return 0;
}

long ArrayMap::remove(const void*) { return -rt::kEINVAL; }

long ArrayMap::syscall_lookup(const void* key, void* value, uint64_t flags) {
  if (flags & ~kUpdateLock) return -rt::kEINVAL;
  void* element = lookup(key);
  if (element == nullptr) return -rt::kENOENT;
  __builtin_memcpy(value, element, attributes().value_size);
  return 0;
}

long ArrayMap::syscall_update(const void* key, const void* value, uint64_t flags) {
  if (frozen()) return -rt::kEPERM;
  return update(key, value, flags);
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

size_t ArrayMap::memory_usage() const { return sizeof(*this) + stride_ * attributes().max_entries; }

}  // namespace ebpf
