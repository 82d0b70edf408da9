// SPDX-License-Identifier: MIT
// create_map/destroy_map: Linux's attribute checks for each type, then the type's constructor.
#include "ebpf/maps.hpp"

#include "ebpf/environment.hpp"
#include "ebpf/perf_buffer.hpp"
#include "ebpf/prog_array.hpp"
#include "ebpf/ringbuf.hpp"
#include "maps/array_map.hpp"
#include "maps/bloom_filter_map.hpp"
#include "maps/cgroup_array_map.hpp"
#include "maps/hash_map.hpp"
#include "maps/lpm_trie_map.hpp"
#include "maps/queue_map.hpp"
#include "maps/stack_trace_map.hpp"
#include "rt/errno.hpp"
#include "rt/new.hpp"

namespace ebpf {
namespace {

constexpr uint64_t kKmallocMaxSize = 1ull << 22;  // KMALLOC_MAX_SIZE on x86-64 (order-10 pages)
constexpr uint64_t kPercpuMinUnitSize = 32768;    // PCPU_MIN_UNIT_SIZE: largest per-CPU value
constexpr uint64_t kHashElementHeader = 48;       // sizeof(struct htab_elem) in Linux
constexpr uint32_t kMaxHashEntries = 1u << 28;    // n_buckets * sizeof(struct bucket) fits u32
constexpr uint32_t kMaxPossibleCpus = 4096;
constexpr uint32_t kAccessFlags = kMapRdonly | kMapWronly | kMapRdonlyProg | kMapWronlyProg;

template <typename T, typename... Args>
T* construct(rt::Allocator& allocator, Args... args) {
  void* memory = allocator.allocate(sizeof(T), alignof(T));
  if (memory == nullptr) return nullptr;
  return new (memory) T(args...);
}

bool is_per_cpu(MapType type) {
  return type == MapType::kPercpuArray || type == MapType::kPercpuHash ||
         type == MapType::kLruPercpuHash;
}

// bpf_map_flags_access_ok: a program cannot be both read-only and write-only.
bool program_access_ok(uint32_t flags) {
  return (flags & (kMapRdonlyProg | kMapWronlyProg)) != (kMapRdonlyProg | kMapWronlyProg);
}

// array_map_alloc_check (and fd_array_map_alloc_check for program and perf event arrays).
int check_array(const MapAttributes& a) {
  bool per_cpu = a.type == MapType::kPercpuArray;
  bool fd_array = a.type == MapType::kProgArray || a.type == MapType::kPerfEventArray ||
                  a.type == MapType::kCgroupArray;
  if (fd_array && (a.value_size != 4 || (a.map_flags & (kMapRdonlyProg | kMapWronlyProg))))
    return rt::kEINVAL;
  uint32_t allowed = kMapNumaNode | kMapMmapable | kAccessFlags | kMapPreserveElems;
  if (a.max_entries == 0 || a.key_size != 4 || a.value_size == 0 || (a.map_flags & ~allowed) ||
      !program_access_ok(a.map_flags) || (per_cpu && (a.map_flags & kMapNumaNode))) {
    return rt::kEINVAL;
  }
  if (a.type != MapType::kArray && (a.map_flags & kMapMmapable)) return rt::kEINVAL;
  if (a.type != MapType::kPerfEventArray && (a.map_flags & kMapPreserveElems)) return rt::kEINVAL;
  if (a.value_size > kKmallocMaxSize) return rt::kE2BIG;
  if (per_cpu && ((a.value_size + 7ull) & ~7ull) > kPercpuMinUnitSize) return rt::kE2BIG;
  return 0;
}

// htab_map_alloc_check.
int check_hash(const MapAttributes& a) {
  bool lru = a.type == MapType::kLruHash || a.type == MapType::kLruPercpuHash;
  bool per_cpu = is_per_cpu(a.type);
  uint32_t allowed = kMapNoPrealloc | kMapNoCommonLru | kMapNumaNode | kAccessFlags | kMapZeroSeed;
  if ((a.map_flags & ~allowed) || !program_access_ok(a.map_flags)) return rt::kEINVAL;
  if (!lru && (a.map_flags & kMapNoCommonLru)) return rt::kEINVAL;
  if (lru && (a.map_flags & kMapNoPrealloc)) return rt::kENOTSUPP;
  if ((a.map_flags & kMapNumaNode) && (per_cpu || (a.map_flags & kMapNoCommonLru)))
    return rt::kEINVAL;
  if (a.max_entries == 0 || a.key_size == 0 || a.value_size == 0) return rt::kEINVAL;
  if (uint64_t{a.key_size} + a.value_size >= kKmallocMaxSize - kHashElementHeader)
    return rt::kE2BIG;
  if (a.max_entries > kMaxHashEntries) return rt::kE2BIG;  // htab_map_alloc: too many buckets
  // The per-CPU allocator refuses units above PCPU_MIN_UNIT_SIZE.
  if (per_cpu && ((a.value_size + 7ull) & ~7ull) > kPercpuMinUnitSize) return rt::kENOMEM;
  return 0;
}

// queue_stack_map_alloc_check.
int check_queue(const MapAttributes& a) {
  if (a.max_entries == 0 || a.key_size != 0 || a.value_size == 0 ||
      (a.map_flags & ~(kMapNumaNode | kAccessFlags)) || !program_access_ok(a.map_flags)) {
    return rt::kEINVAL;
  }
  if (a.value_size > kKmallocMaxSize) return rt::kE2BIG;
  return 0;
}

// trie_alloc: keys of a u32 prefix length and 1 to 256 bytes of data, values that fit one
// kmalloc with the node header (sizeof(struct lpm_trie_node), 40 bytes) and the largest data;
// BPF_F_NO_PREALLOC is required (nodes are allocated as entries arrive).
int check_lpm_trie(const MapAttributes& a) {
  constexpr uint32_t kMaxData = 256;    // LPM_DATA_SIZE_MAX
  constexpr uint64_t kNodeHeader = 40;  // sizeof(struct lpm_trie_node) on 64-bit Linux
  constexpr uint64_t kMaxValue = kKmallocMaxSize - kMaxData - kNodeHeader;
  uint32_t allowed = kMapNoPrealloc | kMapNumaNode | kAccessFlags;
  if (a.max_entries == 0 || !(a.map_flags & kMapNoPrealloc) || (a.map_flags & ~allowed) ||
      !program_access_ok(a.map_flags) || a.key_size < LpmTrieMap::kKeyHeader + 1 ||
      a.key_size > LpmTrieMap::kKeyHeader + kMaxData || a.value_size < 1 ||
      a.value_size > kMaxValue) {
    return rt::kEINVAL;
  }
  return 0;
}

// ringbuf_map_alloc: data size a power-of-two multiple of the page size.
int check_ringbuf(const MapAttributes& a) {
  uint32_t size = a.max_entries;
  if ((a.map_flags & ~kMapNumaNode) || a.key_size != 0 || a.value_size != 0 || size == 0 ||
      (size & (size - 1)) != 0 || size % kRingbufPageSize != 0) {
    return rt::kEINVAL;
  }
  return 0;
}

// stack_map_alloc: u32 ids, values of 8-byte ips at most perf_event_max_stack deep.
int check_stack_trace(const MapAttributes& a) {
  constexpr uint32_t kMaxStackDepth = 127;  // sysctl perf_event_max_stack
  uint32_t allowed = kMapNumaNode | kMapRdonly | kMapWronly | kMapStackBuildId;
  if ((a.map_flags & ~allowed) || a.max_entries == 0 || a.key_size != 4 || a.value_size < 8 ||
      a.value_size % 8 != 0 || a.value_size / 8 > kMaxStackDepth) {
    return rt::kEINVAL;
  }
  // GAP: BPF_F_STACK_BUILD_ID (stacks as build id + offset) is not supported: EINVAL.
  if (a.map_flags & kMapStackBuildId) return rt::kEINVAL;
  if (a.max_entries > (1u << 31)) return rt::kE2BIG;  // roundup_pow_of_two overflows
  return 0;
}

// bloom_map_alloc: no key, a value, map_extra's low four bits the number of hashes.
int check_bloom_filter(const MapAttributes& a) {
  uint32_t allowed = kMapNumaNode | kMapZeroSeed | kAccessFlags;
  if (a.key_size != 0 || a.value_size == 0 || a.max_entries == 0 || (a.map_flags & ~allowed) ||
      !program_access_ok(a.map_flags) || (a.map_extra & ~uint64_t{0xF}) != 0) {
    return rt::kEINVAL;
  }
  return 0;
}

int check_attributes(const MapAttributes& a) {
  // bpf_get_file_flag: the syscall side cannot be both read-only and write-only.
  if ((a.map_flags & kMapRdonly) && (a.map_flags & kMapWronly)) return rt::kEINVAL;
  switch (a.type) {
    case MapType::kArray:
    case MapType::kPercpuArray:
    case MapType::kProgArray:
    case MapType::kPerfEventArray:
    case MapType::kCgroupArray: return check_array(a);
    case MapType::kHash:
    case MapType::kPercpuHash:
    case MapType::kLruHash:
    case MapType::kLruPercpuHash: return check_hash(a);
    case MapType::kQueue:
    case MapType::kStack: return check_queue(a);
    case MapType::kRingbuf: return check_ringbuf(a);
    case MapType::kStackTrace: return check_stack_trace(a);
    case MapType::kBloomFilter: return check_bloom_filter(a);
    case MapType::kLpmTrie: return check_lpm_trie(a);
    default:
      return rt::kEINVAL;  // not a type Sonde implements (Linux: EINVAL for unknown types too)
  }
}

// Sizes beyond what a size_t allocation can describe are refused as memory Linux would not get.
bool fits(uint64_t bytes) { return bytes <= (uint64_t{1} << 40); }

rt::Result<Map*> no_memory() {
  return rt::err(rt::kENOMEM, "the map's memory budget refuses this map");
}

rt::Result<Map*> create_array(const MapAttributes& a, rt::Allocator& allocator, uint32_t copies,
                              Environment* cpu_source) {
  size_t stride = (a.value_size + 7u) & ~size_t{7};
  uint64_t bytes = ArrayMap::storage_bytes(a, copies);
  if (!fits(bytes)) return no_memory();
  auto* values = static_cast<uint8_t*>(allocator.allocate(bytes, ArrayMap::storage_alignment(a)));
  if (values == nullptr) return no_memory();
  __builtin_memset(values, 0, bytes);
  ArrayMap* map = construct<ArrayMap>(allocator, a, values, stride, copies, cpu_source);
  if (map == nullptr) {
    allocator.deallocate(values, bytes);
    return no_memory();
  }
  return static_cast<Map*>(map);
}

rt::Result<Map*> create_hash(const MapAttributes& a, rt::Allocator& allocator, uint32_t copies,
                             Environment* cpu_source) {
  uint32_t buckets = 1;
  while (buckets < a.max_entries) buckets <<= 1;
  bool lru = a.type == MapType::kLruHash || a.type == MapType::kLruPercpuHash;
  size_t element = HashMap::element_bytes(a, copies);
  if (!fits(uint64_t{element} * a.max_entries)) return no_memory();
  auto* bucket_array =
      static_cast<HashMap::Element**>(allocator.allocate(buckets * sizeof(void*), 8));
  if (bucket_array == nullptr) return no_memory();
  // Seeded from the host's randomness as Linux seeds its hash, unless BPF_F_ZERO_SEED asks
  // for reproducible placement (or there is no environment to ask).
  uint64_t seed = 0;
  if (!(a.map_flags & kMapZeroSeed) && cpu_source != nullptr) {
    seed = (uint64_t{cpu_source->random_u32()} << 32) | cpu_source->random_u32();
  }
  HashMap* map = construct<HashMap>(allocator, a, bucket_array, buckets, &allocator, element,
                                    copies, lru, cpu_source, seed);
  if (map != nullptr && !map->preallocate()) {
    map->release_storage();
    map->~HashMap();
    allocator.deallocate(map, sizeof(HashMap));
    map = nullptr;
  }
  if (map == nullptr) {
    allocator.deallocate(bucket_array, buckets * sizeof(void*));
    return no_memory();
  }
  return static_cast<Map*>(map);
}

rt::Result<Map*> create_queue(const MapAttributes& a, rt::Allocator& allocator) {
  uint64_t bytes = QueueMap::storage_bytes(a);
  if (!fits(bytes)) return no_memory();
  auto* storage = static_cast<uint8_t*>(allocator.allocate(bytes, 8));
  QueueMap* map = storage ? construct<QueueMap>(allocator, a, storage) : nullptr;
  if (map == nullptr) {
    if (storage) allocator.deallocate(storage, bytes);
    return no_memory();
  }
  return static_cast<Map*>(map);
}

// Nothing but the object: nodes come as entries do.
rt::Result<Map*> create_lpm_trie(const MapAttributes& a, rt::Allocator& allocator) {
  LpmTrieMap* map = construct<LpmTrieMap>(allocator, a, &allocator);
  if (map == nullptr) return no_memory();
  return static_cast<Map*>(map);
}

rt::Result<Map*> create_prog_array(const MapAttributes& a, rt::Allocator& allocator) {
  uint64_t bytes = ProgArrayMap::slots_bytes(a);
  auto* slots = static_cast<ProgArrayMap::Slot*>(allocator.allocate(bytes, 8));
  ProgArrayMap* map = slots ? construct<ProgArrayMap>(allocator, a, slots) : nullptr;
  if (map == nullptr) {
    if (slots) allocator.deallocate(slots, bytes);
    return no_memory();
  }
  return static_cast<Map*>(map);
}

rt::Result<Map*> create_perf_event_array(const MapAttributes& a, rt::Allocator& allocator) {
  uint64_t bytes = uint64_t{a.max_entries} * sizeof(void*);
  auto* slots = static_cast<PerfEventOutput**>(allocator.allocate(bytes, 8));
  PerfEventArrayMap* map = slots ? construct<PerfEventArrayMap>(allocator, a, slots) : nullptr;
  if (map == nullptr) {
    if (slots) allocator.deallocate(slots, bytes);
    return no_memory();
  }
  return static_cast<Map*>(map);
}

rt::Result<Map*> create_ringbuf(const MapAttributes& a, rt::Allocator& allocator) {
  uint64_t bytes = RingbufMap::pages_bytes(a);
  auto* pages = static_cast<uint8_t*>(allocator.allocate(bytes, kRingbufPageSize));
  RingbufMap* map = pages ? construct<RingbufMap>(allocator, a, pages) : nullptr;
  if (map == nullptr) {
    if (pages) allocator.deallocate(pages, bytes);
    return no_memory();
  }
  return static_cast<Map*>(map);
}

rt::Result<Map*> create_stack_trace(const MapAttributes& a, rt::Allocator& allocator) {
  uint32_t buckets = 1;
  while (buckets < a.max_entries) buckets <<= 1;
  uint64_t elements_bytes = StackTraceMap::elements_bytes(a);
  if (!fits(elements_bytes)) return no_memory();
  size_t buckets_bytes = size_t{buckets} * sizeof(void*);
  size_t chunks_bytes = size_t{StackTraceMap::chunk_count(a)} * sizeof(uint8_t*);
  auto* bucket_array =
      static_cast<StackTraceMap::Bucket**>(allocator.allocate(buckets_bytes, sizeof(void*)));
  auto* chunks =
      bucket_array ? static_cast<uint8_t**>(allocator.allocate(chunks_bytes, 8)) : nullptr;
  StackTraceMap* map =
      chunks ? construct<StackTraceMap>(allocator, a, &allocator, bucket_array, buckets, chunks)
             : nullptr;
  if (map == nullptr) {
    if (chunks) allocator.deallocate(chunks, chunks_bytes);
    if (bucket_array) allocator.deallocate(bucket_array, buckets_bytes);
    return no_memory();
  }
  return static_cast<Map*>(map);
}

rt::Result<Map*> create_bloom_filter(const MapAttributes& a, rt::Allocator& allocator,
                                     Environment* random_source) {
  uint32_t mask = 0;
  uint64_t bytes = BloomFilterMap::bitset_bytes(a, &mask);
  auto* bits = static_cast<uint64_t*>(allocator.allocate(bytes, 8));
  if (bits == nullptr) return no_memory();
  __builtin_memset(bits, 0, bytes);
  uint32_t hashes = (a.map_extra & 0xF) != 0 ? static_cast<uint32_t>(a.map_extra & 0xF) : 5;
  // Seeded from the environment's randomness as Linux seeds it, unless BPF_F_ZERO_SEED.
  uint32_t seed = 0;
  if (!(a.map_flags & kMapZeroSeed) && random_source != nullptr) seed = random_source->random_u32();
  BloomFilterMap* map = construct<BloomFilterMap>(allocator, a, bits, mask, hashes, seed);
  if (map == nullptr) {
    allocator.deallocate(bits, bytes);
    return no_memory();
  }
  return static_cast<Map*>(map);
}

}  // namespace

rt::Result<Map*> create_map(const MapAttributes& attributes, rt::Allocator& allocator,
                            uint32_t possible_cpus, Environment* cpu_source) {
  if (int error = check_attributes(attributes); error != 0) {
    return rt::err(static_cast<rt::Errno>(error),
                   "map attributes refused as Linux's map_create refuses them");
  }
  bool per_cpu = is_per_cpu(attributes.type);
  if (per_cpu &&
      (cpu_source == nullptr || possible_cpus == 0 || possible_cpus > kMaxPossibleCpus)) {
    return rt::err(rt::kEINVAL, "per-CPU maps need the CPU count and a CPU source");
  }
  uint32_t copies = per_cpu ? possible_cpus : 1;
  switch (attributes.type) {
    case MapType::kArray:
    case MapType::kPercpuArray: return create_array(attributes, allocator, copies, cpu_source);
    case MapType::kHash:
    case MapType::kPercpuHash:
    case MapType::kLruHash:
    case MapType::kLruPercpuHash: return create_hash(attributes, allocator, copies, cpu_source);
    case MapType::kQueue:
    case MapType::kStack: return create_queue(attributes, allocator);
    case MapType::kProgArray: return create_prog_array(attributes, allocator);
    case MapType::kPerfEventArray: return create_perf_event_array(attributes, allocator);
    case MapType::kRingbuf: return create_ringbuf(attributes, allocator);
    case MapType::kStackTrace: return create_stack_trace(attributes, allocator);
    case MapType::kBloomFilter: return create_bloom_filter(attributes, allocator, cpu_source);
    case MapType::kLpmTrie: return create_lpm_trie(attributes, allocator);
    case MapType::kCgroupArray: {
      CgroupArrayMap* map = construct<CgroupArrayMap>(allocator, attributes);
      if (map == nullptr) return no_memory();
      return static_cast<Map*>(map);
    }
    default: return rt::err(rt::kEINVAL, "map type not supported");
  }
}

rt::Result<Map*> create_map(const MapAttributes& attributes, rt::Allocator& allocator,
                            Environment& environment) {
  return create_map(attributes, allocator, environment.possible_cpus(), &environment);
}

void destroy_map(Map* map, rt::Allocator& allocator) {
  if (map == nullptr) return;
  switch (map->type()) {
    case MapType::kArray:
    case MapType::kPercpuArray: {
      auto* array = static_cast<ArrayMap*>(map);
      allocator.deallocate(array->storage(),
                           ArrayMap::storage_bytes(array->attributes(), array->value_copies()));
      array->~ArrayMap();
      allocator.deallocate(array, sizeof(ArrayMap));
      return;
    }
    case MapType::kHash:
    case MapType::kPercpuHash:
    case MapType::kLruHash:
    case MapType::kLruPercpuHash: {
      auto* hash = static_cast<HashMap*>(map);
      hash->release_storage();
      allocator.deallocate(hash->buckets(), hash->bucket_count() * sizeof(void*));
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
      allocator.deallocate(array->slots(), ProgArrayMap::slots_bytes(array->attributes()));
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
    case MapType::kCgroupArray: {
      auto* array = static_cast<CgroupArrayMap*>(map);
      array->~CgroupArrayMap();
      allocator.deallocate(array, sizeof(CgroupArrayMap));
      return;
    }
    case MapType::kStackTrace: {
      auto* stacks = static_cast<StackTraceMap*>(map);
      stacks->release_chunks();
      allocator.deallocate(stacks->buckets(), stacks->bucket_count() * sizeof(void*));
      stacks->~StackTraceMap();
      allocator.deallocate(stacks, sizeof(StackTraceMap));
      return;
    }
    case MapType::kBloomFilter: {
      auto* bloom = static_cast<BloomFilterMap*>(map);
      allocator.deallocate(bloom->bits(), BloomFilterMap::bitset_bytes(bloom->attributes()));
      bloom->~BloomFilterMap();
      allocator.deallocate(bloom, sizeof(BloomFilterMap));
      return;
    }
    case MapType::kLpmTrie: {
      auto* trie = static_cast<LpmTrieMap*>(map);
      trie->release_nodes();
      trie->~LpmTrieMap();
      allocator.deallocate(trie, sizeof(LpmTrieMap));
      return;
    }
    case MapType::kRingbuf: {
      auto* ring = static_cast<RingbufMap*>(map);
      allocator.deallocate(ring->pages(), RingbufMap::pages_bytes(ring->attributes()));
      ring->~RingbufMap();
      allocator.deallocate(ring, sizeof(RingbufMap));
      return;
    }
    default: return;
  }
}

}  // namespace ebpf
