// create_map/destroy_map: attribute checks shared by every type, then the type's constructor.
#include "ebpf/maps.hpp"

#include "maps/array_map.hpp"
#include "maps/hash_map.hpp"
#include "maps/queue_map.hpp"
#include "ebpf/perf_buffer.hpp"
#include "ebpf/ringbuf.hpp"
#include "rt/errno.hpp"

#include "rt/new.hpp"

namespace ebpf {
namespace {

constexpr uint32_t kMaxValueSize = 1u << 20;  // Linux caps array values near KMALLOC_MAX_SIZE
constexpr uint32_t kMaxKeySize = 512;         // MAX_BPF_STACK: keys live on the stack

template <typename T, typename... Args>
T* construct(rt::Allocator& allocator, Args... args) {
  void* memory = allocator.allocate(sizeof(T), alignof(T));
  if (memory == nullptr) return nullptr;
  return new (memory) T(args...);
}

}  // namespace

rt::Result<Map*> create_map(const MapAttributes& attributes, rt::Allocator& allocator,
                            uint32_t possible_cpus, Environment* cpu_source) {
  bool per_cpu = attributes.type == MapType::kPercpuArray || attributes.type == MapType::kPercpuHash ||
                 attributes.type == MapType::kLruPercpuHash;
  if (per_cpu && (cpu_source == nullptr || possible_cpus == 0 || possible_cpus > 4096)) {
    return rt::err(rt::kEINVAL, "per-CPU maps need the CPU count and a CPU source");
  }
  uint32_t copies = per_cpu ? possible_cpus : 1;
  switch (attributes.type) {
    case MapType::kArray:
    case MapType::kPercpuArray: {
      if (attributes.key_size != 4 || attributes.value_size == 0 || attributes.max_entries == 0) {
        return rt::err(rt::kEINVAL, "array maps need key_size 4, value_size > 0, max_entries > 0");
      }
      if ((attributes.map_flags & ~(kMapRdonlyProg | kMapWronlyProg | kMapMmapable)) != 0) {
        return rt::err(rt::kEINVAL, "unsupported map_flags for an array map");
      }
      if (attributes.value_size > kMaxValueSize) return rt::err(rt::kE2BIG, "value_size too large");
      if (per_cpu && (attributes.map_flags & kMapMmapable)) return rt::err(rt::kEINVAL, "per-CPU arrays cannot be mmapped");
      size_t stride = (attributes.value_size + 7u) & ~size_t{7};
      uint64_t bytes = static_cast<uint64_t>(stride) * attributes.max_entries * copies;
      if (bytes > 0xffffffffu) return rt::err(rt::kE2BIG, "array map too large");
      auto* values = static_cast<uint8_t*>(allocator.allocate(bytes, 8));
      if (values == nullptr) return rt::err(rt::kENOMEM, "no memory for the map's values");
      __builtin_memset(values, 0, bytes);
      ArrayMap* map = construct<ArrayMap>(allocator, attributes, values, stride, copies, cpu_source);
      if (map == nullptr) {
        allocator.deallocate(values, bytes);
        return rt::err(rt::kENOMEM, "no memory for the map");
      }
      return static_cast<Map*>(map);
    }
    case MapType::kHash:
    case MapType::kPercpuHash:
    case MapType::kLruHash:
    case MapType::kLruPercpuHash: {
      if (attributes.key_size == 0 || attributes.value_size == 0 || attributes.max_entries == 0) {
        return rt::err(rt::kEINVAL, "hash maps need key_size, value_size and max_entries > 0");
      }
      if ((attributes.map_flags & ~(kMapNoPrealloc | kMapRdonlyProg | kMapWronlyProg)) != 0) {
        return rt::err(rt::kEINVAL, "unsupported map_flags for a hash map");
      }
      if (attributes.key_size > kMaxKeySize || attributes.value_size > kMaxValueSize) {
        return rt::err(rt::kE2BIG, "key or value too large");
      }
      uint32_t buckets = 1;
      while (buckets < attributes.max_entries && buckets < (1u << 30)) buckets <<= 1;
      bool lru = attributes.type == MapType::kLruHash || attributes.type == MapType::kLruPercpuHash;
      if (lru && (attributes.map_flags & kMapNoPrealloc)) return rt::err(rt::kEINVAL, "LRU maps are always preallocated");
      size_t element = HashMap::element_bytes(attributes, copies);
      uint64_t pool_bytes = static_cast<uint64_t>(element) * attributes.max_entries;
      if (pool_bytes > 0xffffffffu) return rt::err(rt::kE2BIG, "hash map too large");
      auto* bucket_array = static_cast<HashMap::Element**>(allocator.allocate(buckets * sizeof(void*), 8));
      auto* pool = static_cast<uint8_t*>(allocator.allocate(pool_bytes, 8));
      HashMap* map = (bucket_array && pool) ? construct<HashMap>(allocator, attributes, bucket_array, buckets, pool, element, copies, lru, cpu_source) : nullptr;
      if (map == nullptr) {
        if (bucket_array) allocator.deallocate(bucket_array, buckets * sizeof(void*));
        if (pool) allocator.deallocate(pool, pool_bytes);
        return rt::err(rt::kENOMEM, "no memory for the hash map");
      }
      return static_cast<Map*>(map);
    }
    case MapType::kQueue:
    case MapType::kStack: {
      if (attributes.key_size != 0 || attributes.value_size == 0 || attributes.max_entries == 0) {
        return rt::err(rt::kEINVAL, "queue and stack maps need key_size 0, value_size and max_entries > 0");
      }
      if ((attributes.map_flags & ~(kMapRdonlyProg | kMapWronlyProg)) != 0) {
        return rt::err(rt::kEINVAL, "unsupported map_flags for a queue or stack map");
      }
      if (attributes.value_size > kMaxValueSize) return rt::err(rt::kE2BIG, "value_size too large");
      uint64_t bytes = QueueMap::storage_bytes(attributes);
      if (bytes > 0xffffffffu) return rt::err(rt::kE2BIG, "queue map too large");
      auto* storage = static_cast<uint8_t*>(allocator.allocate(bytes, 8));
      QueueMap* map = storage ? construct<QueueMap>(allocator, attributes, storage) : nullptr;
      if (map == nullptr) {
        if (storage) allocator.deallocate(storage, bytes);
        return rt::err(rt::kENOMEM, "no memory for the queue map");
      }
      return static_cast<Map*>(map);
    }
    case MapType::kProgArray: {
      if (attributes.key_size != 4 || attributes.value_size != 4 || attributes.max_entries == 0) {
        return rt::err(rt::kEINVAL, "prog_array maps need key_size 4, value_size 4, max_entries > 0");
      }
      if (attributes.map_flags != 0) return rt::err(rt::kEINVAL, "unsupported map_flags for a prog_array");
      uint64_t bytes = static_cast<uint64_t>(attributes.max_entries) * sizeof(void*);
      if (bytes > 0xffffffffu) return rt::err(rt::kE2BIG, "prog_array too large");
      auto* slots = static_cast<const Program**>(allocator.allocate(bytes, 8));
      ProgArrayMap* map = slots ? construct<ProgArrayMap>(allocator, attributes, slots) : nullptr;
      if (map == nullptr) {
        if (slots) allocator.deallocate(slots, bytes);
        return rt::err(rt::kENOMEM, "no memory for the prog_array");
      }
      return static_cast<Map*>(map);
    }
    case MapType::kPerfEventArray: {
      if (attributes.key_size != 4 || attributes.value_size != 4 || attributes.max_entries == 0 || attributes.map_flags != 0) {
        return rt::err(rt::kEINVAL, "perf_event_array maps need key_size 4, value_size 4, max_entries > 0");
      }
      uint64_t bytes = static_cast<uint64_t>(attributes.max_entries) * sizeof(void*);
      if (bytes > 0xffffffffu) return rt::err(rt::kE2BIG, "perf_event_array too large");
      auto* slots = static_cast<PerfRing**>(allocator.allocate(bytes, 8));
      PerfEventArrayMap* map = slots ? construct<PerfEventArrayMap>(allocator, attributes, slots) : nullptr;
      if (map == nullptr) {
        if (slots) allocator.deallocate(slots, bytes);
        return rt::err(rt::kENOMEM, "no memory for the perf_event_array");
      }
      return static_cast<Map*>(map);
    }
    case MapType::kRingbuf: {
      uint32_t size = attributes.max_entries;
      if (attributes.key_size != 0 || attributes.value_size != 0 || size < kRingbufPageSize ||
          (size & (size - 1)) != 0 || attributes.map_flags != 0) {
        return rt::err(rt::kEINVAL, "ringbuf maps need key_size 0, value_size 0, a power-of-two page-multiple max_entries");
      }
      if (size > (1u << 30)) return rt::err(rt::kE2BIG, "ringbuf too large");
      uint64_t bytes = RingbufMap::pages_bytes(attributes);
      auto* pages = static_cast<uint8_t*>(allocator.allocate(bytes, kRingbufPageSize));
      RingbufMap* map = pages ? construct<RingbufMap>(allocator, attributes, pages) : nullptr;
      if (map == nullptr) {
        if (pages) allocator.deallocate(pages, bytes);
        return rt::err(rt::kENOMEM, "no memory for the ring buffer");
      }
      return static_cast<Map*>(map);
    }
    default:
      return rt::err(rt::kEINVAL, "map type not supported yet");
  }
}

void destroy_map(Map* map, rt::Allocator& allocator) {
  if (map == nullptr) return;
  switch (map->type()) {
    case MapType::kArray:
    case MapType::kPercpuArray: {
      auto* array = static_cast<ArrayMap*>(map);
      allocator.deallocate(array->storage(), array->stride() * array->attributes().max_entries * array->value_copies());
      array->~ArrayMap();
      allocator.deallocate(array, sizeof(ArrayMap));
      return;
    }
    case MapType::kHash:
    case MapType::kPercpuHash:
    case MapType::kLruHash:
    case MapType::kLruPercpuHash: {
      auto* hash = static_cast<HashMap*>(map);
      allocator.deallocate(hash->buckets(), hash->bucket_count() * sizeof(void*));
      allocator.deallocate(hash->pool(), hash->element_size() * hash->attributes().max_entries);
      hash->~HashMap();
      allocator.deallocate(hash, sizeof(HashMap));
      return;
    }
    case MapType::kQueue:
    case MapType::kStack: {
      auto* queue = static_cast<QueueMap*>(map);
      allocator.deallocate(queue->storage(), QueueMap::storage_bytes(queue->attributes()));
      queue->~QueueMap();
      allocator.deallocate(queue, sizeof(QueueMap));
      return;
    }
    case MapType::kProgArray: {
      auto* array = static_cast<ProgArrayMap*>(map);
      allocator.deallocate(array->slots(), array->attributes().max_entries * sizeof(void*));
      array->~ProgArrayMap();
      allocator.deallocate(array, sizeof(ProgArrayMap));
      return;
    }
    case MapType::kPerfEventArray: {
      auto* array = static_cast<PerfEventArrayMap*>(map);
      allocator.deallocate(array->slots(), array->attributes().max_entries * sizeof(void*));
      array->~PerfEventArrayMap();
      allocator.deallocate(array, sizeof(PerfEventArrayMap));
      return;
    }
    case MapType::kRingbuf: {
      auto* ring = static_cast<RingbufMap*>(map);
      allocator.deallocate(ring->pages(), RingbufMap::pages_bytes(ring->attributes()));
      ring->~RingbufMap();
      allocator.deallocate(ring, sizeof(RingbufMap));
      return;
    }
    default:
      return;
  }
}

}  // namespace ebpf
