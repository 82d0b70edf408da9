// SPDX-License-Identifier: MIT
// Perf event arrays from bpf(): slots take perf event handles and hold a reference on each event.
#include "commands.hpp"
#include "trace/perf_events.hpp"

namespace trace {
namespace {

ebpf::PerfEventArrayMap& array_of(MapObject& map) {
  return *static_cast<ebpf::PerfEventArrayMap*>(map.map);
}

}  // namespace

// bpf_fd_array_map_update_elem with perf_event_fd_array_get_ptr.
rt::Result<void> update_perf_event_array(BpfCall& call, MapObject& map, const void* key,
                                         const void* value, uint64_t flags) {
  ebpf::PerfEventArrayMap& array = array_of(map);
  if (flags != 0) return rt::err(rt::kEINVAL);  // BPF_ANY only
  uint32_t index, fd;
  __builtin_memcpy(&index, key, sizeof(index));
  __builtin_memcpy(&fd, value, sizeof(fd));
  if (index >= array.attributes().max_entries) return rt::err(rt::kE2BIG);
  // perf_event_get: EBADF for an fd that is not a perf event.
  auto handle = call.session.lookup(static_cast<int32_t>(fd));
  if (!handle.ok() || handle->object->kind != ObjectKind::kPerfEvent) return rt::err(rt::kEBADF);
  auto* event = static_cast<PerfEventObject*>(handle->object);
  // perf_event_read_local answers EOPNOTSUPP for inherited events only.
  if (event->attr.has(kPerfAttrInherit)) return rt::err(rt::kEOPNOTSUPP);
  ObjectTable& objects = call.session.objects();
  PerfEventObject* old = perf_event_in_slot(map, index);
  TRY(array.set(index, event));
  objects.acquire(event);
  if (old != nullptr) objects.release(old);
  return {};
}

PerfEventObject* perf_event_in_slot(MapObject& map, uint32_t index) {
  ebpf::PerfEventArrayMap& array = array_of(map);
  if (index >= array.attributes().max_entries || array.slots()[index] == nullptr) return nullptr;
  return static_cast<PerfEventObject*>(array.slots()[index]);
}

// GAP: Linux drops the entries stored through a map file when that file is closed; here they
// go with the array's last handle, like a program array's.
void clear_perf_event_array(ObjectTable& objects, MapObject* map) {
  ebpf::PerfEventArrayMap& array = array_of(*map);
  for (uint32_t index = 0; index < array.attributes().max_entries; ++index) {
    PerfEventObject* event = perf_event_in_slot(*map, index);
    if (event == nullptr) continue;
    array.slots()[index] = nullptr;
    objects.release(event);
  }
}

}  // namespace trace
