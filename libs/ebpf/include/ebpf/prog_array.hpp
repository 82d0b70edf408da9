// ProgArrayMap: the program array behind bpf_tail_call, public so the trace server can fill it.
#pragma once

#include "ebpf/map.hpp"

namespace ebpf {

// BPF_MAP_TYPE_PROG_ARRAY: programs by index, for tail calls. The trace server resolves
// program fds and calls set()/clear(); bpf(BPF_MAP_UPDATE_ELEM) goes through it.
class ProgArrayMap final : public Map {
 public:
  ProgArrayMap(const MapAttributes& attributes, const Program** slots);

  long set(uint32_t index, const Program* program);
  long clear(uint32_t index);

  void* lookup(const void* key) override;
  long update(const void* key, const void* value, uint64_t flags) override;
  long remove(const void* key) override;
  long syscall_lookup(const void* key, void* value, uint64_t flags) override;
  long syscall_update(const void* key, const void* value, uint64_t flags) override;
  long get_next_key(const void* key, void* next_key) override;
  const Program* tail_call_target(uint32_t index) const override;
  size_t memory_usage() const override;

  const Program** slots() const { return slots_; }

 private:
  const Program** slots_;
};

}  // namespace ebpf
