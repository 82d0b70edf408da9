// SPDX-License-Identifier: MIT
// ProgArrayMap: the program array behind bpf_tail_call, public so the trace server can fill it.
#pragma once

#include "ebpf/map.hpp"

namespace ebpf {

// BPF_MAP_TYPE_PROG_ARRAY: programs by index, for tail calls. The trace server resolves
// program fds and calls set()/clear(); the map only holds the opaque Program pointers it is
// given (and each program's id, which bpf(BPF_MAP_LOOKUP_ELEM) returns, as Linux does).
class ProgArrayMap final : public Map {
 public:
  struct Slot {
    const Program* program;
    uint32_t id;
  };

  ProgArrayMap(const MapAttributes& attributes, Slot* slots);

  // E2BIG for an index out of range, EINVAL for a null program.
  [[nodiscard]] rt::Result<void> set(uint32_t index, const Program* program, uint32_t id = 0);
  [[nodiscard]] rt::Result<void> clear(uint32_t index);  // ENOENT when the slot is empty

  void* lookup(const void* key) override;
  long update(const void* key, const void* value, uint64_t flags) override;
  long remove(const void* key) override;
  [[nodiscard]] rt::Result<void> syscall_lookup(const void* key, void* value,
                                                uint64_t flags) override;
  [[nodiscard]] rt::Result<void> syscall_update(const void* key, const void* value,
                                                uint64_t flags) override;
  [[nodiscard]] rt::Result<void> get_next_key(const void* key, void* next_key) override;
  const Program* tail_call_target(uint32_t index) const override;
  size_t memory_usage() const override;

  Slot* slots() const { return slots_; }
  static uint64_t slots_bytes(const MapAttributes& attributes) {
    return uint64_t{attributes.max_entries} * sizeof(Slot);
  }

 private:
  Slot* slots_;
};

}  // namespace ebpf
