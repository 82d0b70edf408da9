// BPF_MAP_TYPE_ARRAY: preallocated, zero-filled values indexed by a u32 key.
#pragma once

#include "ebpf/map.hpp"
#include "rt/allocator.hpp"

namespace ebpf {

class ArrayMap final : public Map {
 public:
  ArrayMap(const MapAttributes& attributes, uint8_t* values, size_t stride)
      : Map(attributes), values_(values), stride_(stride) {}

  void* lookup(const void* key) override;
  long update(const void* key, const void* value, uint64_t flags) override;
  long remove(const void* key) override;
  long syscall_lookup(const void* key, void* value, uint64_t flags) override;
  long syscall_update(const void* key, const void* value, uint64_t flags) override;
  long get_next_key(const void* key, void* next_key) override;
  size_t memory_usage() const override;

  uint8_t* storage() const { return values_; }
  size_t stride() const { return stride_; }

 private:
  uint8_t* values_;
  size_t stride_;  // value_size rounded up to 8, as Linux lays array elements out
};

}  // namespace ebpf
