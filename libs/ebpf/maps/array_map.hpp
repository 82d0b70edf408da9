// SPDX-License-Identifier: MIT
// BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY: preallocated, zero-filled values
// indexed by a u32 key (one copy per possible CPU for the per-CPU type).
#pragma once

#include "ebpf/environment.hpp"
#include "ebpf/map.hpp"
#include "rt/allocator.hpp"

namespace ebpf {

class ArrayMap final : public Map {
 public:
  ArrayMap(const MapAttributes& attributes, uint8_t* values, size_t stride, uint32_t copies = 1,
           Environment* cpu_source = nullptr)
      : Map(attributes, copies), values_(values), stride_(stride), cpu_source_(cpu_source) {}

  void* lookup(const void* key) override;
  void* lookup_percpu(const void* key, uint32_t cpu) override;
  long update(const void* key, const void* value, uint64_t flags) override;
  long remove(const void* key) override;
  [[nodiscard]] rt::Result<void> syscall_lookup(const void* key, void* value,
                                                uint64_t flags) override;
  [[nodiscard]] rt::Result<void> syscall_update(const void* key, const void* value,
                                                uint64_t flags) override;
  [[nodiscard]] rt::Result<void> get_next_key(const void* key, void* next_key) override;
  [[nodiscard]] rt::Result<void> lookup_batch(const void* in_batch, void* out_batch, void* keys,
                                              void* values, uint32_t* count) override;
  [[nodiscard]] rt::Result<void> update_batch(const void* keys, const void* values, uint32_t* count,
                                              uint64_t elem_flags) override {
    return generic_update_batch(keys, values, count, elem_flags);
  }
  long for_each_element(ElementVisitor visit, void* state) override;
  uint8_t* direct_value(uint32_t offset) override {
    // As Linux: only single-element, non-per-CPU arrays, within the value.
    if (attributes().max_entries != 1 || value_copies() != 1 || offset >= attributes().value_size)
      return nullptr;
    return values_ + offset;
  }
  size_t memory_usage() const override;
  uint8_t* mapped_memory(uint64_t* bytes) override {
    *bytes =
        (attributes().map_flags & kMapMmapable) ? storage_bytes(attributes(), value_copies()) : 0;
    return *bytes != 0 ? values_ : nullptr;
  }
  LookupFunction lookup_function() const override;
  bool inline_array(InlineArray& layout) const override;

  uint8_t* storage() const { return values_; }
  size_t stride() const { return stride_; }
  // Bytes of value storage: every element (and copy) at an 8-byte stride; for a
  // BPF_F_MMAPABLE array, whole pages, page-aligned, so the trace server can map them into
  // a reader as Linux's mmap of the array does.
  static uint64_t storage_bytes(const MapAttributes& attributes, uint32_t copies) {
    uint64_t bytes = ((attributes.value_size + 7ull) & ~7ull) * attributes.max_entries * copies;
    if (attributes.map_flags & kMapMmapable) bytes = (bytes + kPageSize - 1) & ~(kPageSize - 1);
    return bytes;
  }
  static size_t storage_alignment(const MapAttributes& attributes) {
    return (attributes.map_flags & kMapMmapable) ? kPageSize : 8;
  }
  static constexpr uint64_t kPageSize = 4096;

 private:
  uint8_t* element(uint32_t index, uint32_t cpu) const {
    return values_ + (static_cast<size_t>(index) * value_copies() + cpu) * stride_;
  }
  uint32_t current_cpu() const;

  uint8_t* values_;
  size_t stride_;  // value_size rounded up to 8, as Linux lays array elements out
  Environment* cpu_source_;
};

}  // namespace ebpf
