// SPDX-License-Identifier: MIT
// mmap of maps and perf events: the pages a Linux process may map, and the mapping handle.
#include "trace/object_mmap.hpp"

#include "ebpf/map.hpp"
#include "ebpf/ringbuf.hpp"
#include "rt/errno.hpp"
#include "trace/perf_events.hpp"

namespace trace {

namespace {

constexpr uint64_t kPage = 4096;
constexpr rt::Errno kENOTSUPP = static_cast<rt::Errno>(524);

rt::Result<ObjectMapping> mmap_map(Session& session, MapObject& object, uint64_t offset,
                                   uint64_t length, bool writable, bool shared) {
  ebpf::Map& map = *object.map;
  uint64_t bytes = 0;
  uint8_t* memory = map.mapped_memory(&bytes);
  const ebpf::MapAttributes& attributes = map.attributes();
  bool ringbuf = attributes.type == ebpf::MapType::kRingbuf;
  bool array = attributes.type == ebpf::MapType::kArray;
  if (!ringbuf && !array) return rt::err(kENOTSUPP, "this map type cannot be mapped");
  if (!shared) return rt::err(rt::kEINVAL, "maps are mapped MAP_SHARED only");
  if (writable) {
    if (map.frozen()) return rt::err(rt::kEPERM, "a frozen map is not mapped writable");
    if ((attributes.map_flags & ebpf::kMapRdonlyProg) != 0) {
      return rt::err(rt::kEACCES, "a BPF_F_RDONLY_PROG map is not mapped writable");
    }
  }
  if (array && memory == nullptr) return rt::err(rt::kEINVAL, "the array is not BPF_F_MMAPABLE");
  uint64_t first = offset / kPage;
  uint64_t pages = (length + kPage - 1) / kPage;
  if (ringbuf && writable && (first != 0 || pages != 1)) {
    return rt::err(rt::kEPERM, "only the consumer page of a ring buffer is writable");
  }
  uint64_t available = (bytes + kPage - 1) / kPage;
  if (pages == 0 || first > available || pages > available - first) {
    return rt::err(rt::kEINVAL, "the mapping goes past the map's memory");
  }
  session.objects().acquire(&object);
  int32_t handle = TRY(session.open(&object, kCanRead | kMapping));
  return ObjectMapping{memory + first * kPage, pages, writable, handle};
}

}  // namespace

rt::Result<ObjectMapping> mmap_object(Session& session, int32_t fd, uint64_t offset,
                                      uint64_t length, bool writable, bool shared) {
  if ((offset & (kPage - 1)) != 0 || length == 0) return rt::err(rt::kEINVAL);
  Handle handle = TRY(session.lookup(fd));
  switch (handle.object->kind) {
    case ObjectKind::kMap:
      return mmap_map(session, *static_cast<MapObject*>(handle.object), offset, length, writable,
                      shared);
    case ObjectKind::kPerfEvent: {
      PerfEventMapping mapping = TRY(perf_event_mmap(session, fd, length, offset / kPage, shared));
      // perf_event_mmap took a reference for the mapping: the handle holds it.
      int32_t mapping_handle = TRY(session.open(mapping.event, kCanRead | kMapping));
      return ObjectMapping{mapping.memory, mapping.size / kPage, writable, mapping_handle};
    }
    default: return rt::err(rt::kENODEV, "programs, links and BTF cannot be mapped");
  }
}

rt::Result<uint32_t> poll_object(Session& session, int32_t fd) {
  constexpr uint32_t kPollIn = 0x1, kPollOut = 0x4, kPollErr = 0x8, kPollRdNorm = 0x40,
                     kPollWrNorm = 0x100;
  Handle handle = TRY(session.lookup(fd));
  switch (handle.object->kind) {
    case ObjectKind::kMap: {
      ebpf::Map& map = *static_cast<MapObject*>(handle.object)->map;
      if (map.attributes().type != ebpf::MapType::kRingbuf) return kPollErr;
      auto& ring = static_cast<ebpf::RingbufMap&>(map);
      return ring.producer_position() != ring.consumer_position() ? kPollIn | kPollRdNorm : 0u;
    }
    case ObjectKind::kPerfEvent: return perf_event_poll(session, fd);
    default: return kPollIn | kPollOut | kPollRdNorm | kPollWrNorm;
  }
}

void perf_event_unmapped(ObjectTable& objects, Object* event) {
  auto* perf_event = static_cast<PerfEventObject*>(event);
  // perf_event_munmap without its release: the closing handle drops that reference.
  objects.acquire(perf_event);
  perf_event_munmap(objects, perf_event);
}

}  // namespace trace
