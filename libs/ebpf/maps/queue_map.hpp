// SPDX-License-Identifier: MIT
// BPF_MAP_TYPE_QUEUE (FIFO) and BPF_MAP_TYPE_STACK (LIFO): keyless rings of values.
#pragma once

#include "ebpf/map.hpp"

namespace ebpf {

class QueueMap final : public Map {
 public:
  QueueMap(const MapAttributes& attributes, uint8_t* storage);

  void* lookup(const void* key) override;
  long update(const void* key, const void* value, uint64_t flags) override;
  long remove(const void* key) override;
  long push(const void* value, uint64_t flags) override;
  long pop(void* value) override;
  long peek(void* value) override;
  [[nodiscard]] rt::Result<void> syscall_lookup(const void* key, void* value,
                                                uint64_t flags) override;
  [[nodiscard]] rt::Result<void> syscall_update(const void* key, const void* value,
                                                uint64_t flags) override;
  [[nodiscard]] rt::Result<void> get_next_key(const void* key, void* next_key) override;
  [[nodiscard]] rt::Result<void> lookup_and_delete(const void* key, void* value,
                                                   uint64_t flags) override;
  size_t memory_usage() const override;

  uint8_t* storage() const { return storage_; }
  static size_t storage_bytes(const MapAttributes& attributes) {
    return static_cast<size_t>(attributes.value_size) * attributes.max_entries;
  }

 private:
  bool is_stack() const { return type() == MapType::kStack; }
  uint8_t* slot(uint32_t index) const {
    return storage_ + static_cast<size_t>(index) * attributes().value_size;
  }
  long take(void* value, bool remove);

  uint8_t* storage_;
  uint32_t head_ = 0;  // oldest element
  uint32_t count_ = 0;
};

}  // namespace ebpf
