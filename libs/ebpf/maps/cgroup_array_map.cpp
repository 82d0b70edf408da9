// SPDX-License-Identifier: MIT
// BPF_MAP_TYPE_CGROUP_ARRAY, with every slot empty (no cgroups on Sonde).
#include "maps/cgroup_array_map.hpp"

#include "rt/errno.hpp"

namespace ebpf {

rt::Result<void> CgroupArrayMap::syscall_lookup(const void*, void*, uint64_t) {
  // bpf_fd_array_map_lookup_elem: cgroup arrays have no map_fd_sys_lookup_elem.
  return rt::err(rt::kENOTSUPP);
}

rt::Result<void> CgroupArrayMap::syscall_update(const void* key, const void*, uint64_t flags) {
  // bpf_fd_array_map_update_elem, then cgroup_fd_array_get_ptr on an fd that is no cgroup.
  if (flags != 0) return rt::err(rt::kEINVAL);
  uint32_t index;
  __builtin_memcpy(&index, key, sizeof(index));
  if (index >= attributes().max_entries) return rt::err(rt::kE2BIG);
  return rt::err(rt::kEBADF, "no fd names a cgroup here");
}

long CgroupArrayMap::remove(const void* key) {
  uint32_t index;
  __builtin_memcpy(&index, key, sizeof(index));
  return index >= attributes().max_entries ? -rt::kE2BIG : -rt::kENOENT;
}

rt::Result<void> CgroupArrayMap::get_next_key(const void* key, void* next_key) {
  return next_array_index(attributes().max_entries, key, next_key);
}

long CgroupArrayMap::task_under_cgroup(uint32_t index) const {
  if (index >= attributes().max_entries) return -rt::kE2BIG;
  return -rt::kEAGAIN;
}

}  // namespace ebpf
