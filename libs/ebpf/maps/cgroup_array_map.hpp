// SPDX-License-Identifier: MIT
// CgroupArrayMap: BPF_MAP_TYPE_CGROUP_ARRAY, cgroups by index for bpf_current_task_under_cgroup.
#pragma once

#include "ebpf/map.hpp"
#include "rt/errno.hpp"

namespace ebpf {

// Sonde has no cgroup file system, so no fd names a cgroup: every slot stays empty. The map
// exists as Linux's does (tools create it for their --cgroup filters), refuses what Linux
// refuses for a non-cgroup fd (EBADF), and bpf_current_task_under_cgroup answers -EAGAIN for
// an empty slot, as Linux.
class CgroupArrayMap final : public Map {
 public:
  explicit CgroupArrayMap(const MapAttributes& attributes) : Map(attributes) {}

  void* lookup(const void*) override { return nullptr; }
  long update(const void*, const void*, uint64_t) override { return -rt::kEINVAL; }
  long remove(const void* key) override;  // bpf(BPF_MAP_DELETE_ELEM): E2BIG or ENOENT
  [[nodiscard]] rt::Result<void> syscall_lookup(const void* key, void* value,
                                                uint64_t flags) override;
  [[nodiscard]] rt::Result<void> syscall_update(const void* key, const void* value,
                                                uint64_t flags) override;
  [[nodiscard]] rt::Result<void> get_next_key(const void* key, void* next_key) override;
  size_t memory_usage() const override { return sizeof(*this); }

  // bpf_current_task_under_cgroup(map, index): -E2BIG past the end, -EAGAIN for an empty slot.
  long task_under_cgroup(uint32_t index) const;
};

}  // namespace ebpf
