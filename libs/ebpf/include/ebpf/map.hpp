// SPDX-License-Identifier: MIT
// Map: the interface every BPF map type implements, with Linux's numbering and semantics.
// The verifier reads a map's attributes, engines and helpers call its operations, and the
// trace server calls the syscall-side operations on behalf of bpf(BPF_MAP_*).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rt/errno.hpp"
#include "rt/result.hpp"

namespace ebpf {

// enum bpf_map_type values (Linux uapi).
enum class MapType : uint32_t {
  kUnspec = 0,
  kHash = 1,
  kArray = 2,
  kProgArray = 3,
  kPerfEventArray = 4,
  kPercpuHash = 5,
  kPercpuArray = 6,
  kStackTrace = 7,
  kCgroupArray = 8,
  kLruHash = 9,
  kLruPercpuHash = 10,
  kLpmTrie = 11,
  kArrayOfMaps = 12,
  kHashOfMaps = 13,
  kQueue = 22,
  kStack = 23,
  kRingbuf = 27,
  kBloomFilter = 30,
};

// Update flags (BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK).
inline constexpr uint64_t kUpdateAny = 0;
inline constexpr uint64_t kUpdateNoExist = 1;
inline constexpr uint64_t kUpdateExist = 2;
inline constexpr uint64_t kUpdateLock = 4;

// map_flags bits used by supported types (Linux uapi values).
inline constexpr uint32_t kMapNoPrealloc = 1u << 0;
inline constexpr uint32_t kMapNoCommonLru = 1u << 1;   // BPF_F_NO_COMMON_LRU
inline constexpr uint32_t kMapNumaNode = 1u << 2;      // BPF_F_NUMA_NODE
inline constexpr uint32_t kMapRdonly = 1u << 3;        // BPF_F_RDONLY: syscall side may only read
inline constexpr uint32_t kMapWronly = 1u << 4;        // BPF_F_WRONLY: syscall side may only write
inline constexpr uint32_t kMapStackBuildId = 1u << 5;  // BPF_F_STACK_BUILD_ID
inline constexpr uint32_t kMapZeroSeed = 1u << 6;      // BPF_F_ZERO_SEED
inline constexpr uint32_t kMapRdonlyProg = 1u << 7;
inline constexpr uint32_t kMapWronlyProg = 1u << 8;
inline constexpr uint32_t kMapMmapable = 1u << 10;
inline constexpr uint32_t kMapPreserveElems = 1u << 11;  // BPF_F_PRESERVE_ELEMS

struct MapAttributes {
  MapType type = MapType::kUnspec;
  uint32_t key_size = 0;
  uint32_t value_size = 0;
  uint32_t max_entries = 0;
  uint32_t map_flags = 0;
  char name[16] = {};      // BPF_OBJ_NAME_LEN
  uint64_t map_extra = 0;  // a bloom filter's number of hash functions (low 4 bits)
};

// Program-side operations (what helpers return to programs) give 0 or a negative Linux errno,
// like the kernel's map ops; syscall-side operations (bpf(BPF_MAP_*)) give an rt::Result
// carrying the errno bpf() returns.
class Map {
 public:
  virtual ~Map() = default;

  const MapAttributes& attributes() const { return attributes_; }
  MapType type() const { return attributes_.type; }
  // Per-CPU maps keep one value per possible CPU; their syscall values hold every copy,
  // each rounded up to 8 bytes, as Linux lays them out.
  uint32_t value_copies() const { return value_copies_; }
  uint32_t syscall_value_size() const {
    return value_copies_ == 1 ? attributes_.value_size
                              : ((attributes_.value_size + 7u) & ~7u) * value_copies_;
  }

  // Program side (helpers). Lookup returns a pointer into the map's storage (for per-CPU
  // maps, the current CPU's copy) or nullptr.
  virtual void* lookup(const void* key) = 0;
  virtual long update(const void* key, const void* value, uint64_t flags) = 0;
  virtual long remove(const void* key) = 0;  // bpf_map_delete_elem
  virtual long push(const void* value, uint64_t flags) {
    (void)value;
    (void)flags;
    return -22;
  }
  virtual long pop(void* value) {
    (void)value;
    return -22;
  }
  // bpf_map_lookup_percpu_elem: the copy of `cpu`, or nullptr (also for non-per-CPU maps).
  virtual void* lookup_percpu(const void* key, uint32_t cpu) {
    (void)key;
    (void)cpu;
    return nullptr;
  }
  virtual long peek(void* value) {
    (void)value;
    return -22;
  }

  // Syscall side (bpf(BPF_MAP_*)): values of per-CPU maps are value_size rounded up to 8,
  // times the number of possible CPUs.
  [[nodiscard]] virtual rt::Result<void> syscall_lookup(const void* key, void* value,
                                                        uint64_t flags) = 0;
  [[nodiscard]] virtual rt::Result<void> syscall_update(const void* key, const void* value,
                                                        uint64_t flags) = 0;
  [[nodiscard]] virtual rt::Result<void> get_next_key(
      const void* key, void* next_key) = 0;  // key nullptr: first key
  [[nodiscard]] virtual rt::Result<void> lookup_and_delete(const void* key, void* value,
                                                           uint64_t flags) {
    (void)key;
    (void)value;
    (void)flags;
    return rt::err(rt::kENOTSUPP);  // as Linux for other types
  }
  // For engines that specialise bpf_map_lookup_elem on a map known at the call site (the JIT,
  // as Linux's map_gen_lookup and direct map_lookup_elem calls). `lookup_function`: this map's
  // `lookup` without virtual dispatch, called as function(map, key); nullptr when the type has
  // none. `inline_array`: for BPF_MAP_TYPE_ARRAY and PERCPU_ARRAY, where its values live, so
  // the lookup can be computed in place: element i (i < max_entries) of CPU c at
  // values + i * stride + c * cpu_stride, where c is the running CPU when it is below `cpus`
  // and 0 otherwise (the copy the map's own lookup picks); a plain array has one copy.
  using LookupFunction = void* (*)(Map* map, const void* key);
  virtual LookupFunction lookup_function() const { return nullptr; }
  struct InlineArray {
    uint8_t* values;
    uint64_t stride;
    uint32_t max_entries;
    uint32_t cpus = 1;
    uint64_t cpu_stride = 0;
  };
  virtual bool inline_array(InlineArray& layout) const {
    (void)layout;
    return false;
  }
  // Direct access to the value of a single-element array (global variables, .rodata):
  // the byte at `offset`, or nullptr when the map has no direct value access.
  virtual uint8_t* direct_value(uint32_t offset) {
    (void)offset;
    return nullptr;
  }
  // What mmap() of the map's fd shows (Linux's map_mmap): page-aligned memory and its size in
  // `bytes`, or nullptr for a map that cannot be mapped. An mmapable array: its values; a ring
  // buffer: the consumer page, the producer page, then the data twice (records wrap
  // contiguously there, as in Linux's double mapping).
  // BPF_MAP_GET_NEXT_KEY of an array-like map of `max_entries` u32 indexes
  // (array_map_get_next_key): the first index for no key or one out of range, ENOENT after the
  // last.
  [[nodiscard]] static rt::Result<void> next_array_index(uint32_t max_entries, const void* key,
                                                         void* next_key) {
    uint32_t next = 0;
    if (key != nullptr) {
      uint32_t index;
      __builtin_memcpy(&index, key, sizeof(index));
      if (index < max_entries) {
        if (index == max_entries - 1) return rt::err(rt::kENOENT);
        next = index + 1;
      }
    }
    __builtin_memcpy(next_key, &next, sizeof(next));
    return {};
  }
  virtual uint8_t* mapped_memory(uint64_t* bytes) {
    *bytes = 0;
    return nullptr;
  }

  // BPF_MAP_LOOKUP_BATCH: copies up to *count keys and values starting at the position in
  // `in_batch` (nullptr: the start), stores where to continue in `out_batch` (a u32 bucket
  // for hashes; the last key copied, key_size bytes, for Linux's generic walk), and
  // sets *count to what was copied. -ENOENT once the end is reached (with the last
  // elements copied), -ENOSPC if not even one bucket fits, -ENOTSUPP for other types.
  [[nodiscard]] virtual rt::Result<void> lookup_batch(const void* in_batch, void* out_batch,
                                                      void* keys, void* values, uint32_t* count) {
    (void)in_batch;
    (void)out_batch;
    (void)keys;
    (void)values;
    (void)count;
    return rt::err(rt::kENOTSUPP);
  }
  // BPF_MAP_LOOKUP_AND_DELETE_BATCH: as lookup_batch, deleting what it copies (hash maps;
  // ENOTSUPP for other types, as Linux).
  [[nodiscard]] virtual rt::Result<void> lookup_and_delete_batch(const void* in_batch,
                                                                 void* out_batch, void* keys,
                                                                 void* values, uint32_t* count) {
    (void)in_batch;
    (void)out_batch;
    (void)keys;
    (void)values;
    (void)count;
    return rt::err(rt::kENOTSUPP);
  }
  // BPF_MAP_UPDATE_BATCH / BPF_MAP_DELETE_BATCH (Linux's generic_map_update_batch and
  // generic_map_delete_batch): element by element with the syscall rules, stopping at the
  // first error, which is returned with *count set to the elements done. elem_flags may
  // only be 0 here (BPF_F_LOCK needs a spin lock Sonde's values never have): EINVAL.
  // Arrays and hashes take updates, hashes deletions; other types ENOTSUPP.
  [[nodiscard]] virtual rt::Result<void> update_batch(const void* keys, const void* values,
                                                      uint32_t* count, uint64_t elem_flags) {
    (void)keys;
    (void)values;
    (void)count;
    (void)elem_flags;
    return rt::err(rt::kENOTSUPP);
  }
  [[nodiscard]] virtual rt::Result<void> delete_batch(const void* keys, uint32_t* count,
                                                      uint64_t elem_flags) {
    (void)keys;
    (void)count;
    (void)elem_flags;
    return rt::err(rt::kENOTSUPP);
  }
  // bpf_for_each_map_elem: calls `visit(key, value, state)` for each element until it
  // returns non-zero; returns the number of elements visited, or -EINVAL for other types.
  using ElementVisitor = uint64_t (*)(void* key, void* value, void* state);
  virtual long for_each_element(ElementVisitor visit, void* state) {
    (void)visit;
    (void)state;
    return -22;
  }

  // The shared loops behind update_batch and delete_batch, for types that support them.
  [[nodiscard]] rt::Result<void> generic_update_batch(const void* keys, const void* values,
                                                      uint32_t* count, uint64_t elem_flags) {
    if (elem_flags != 0) return rt::err(rt::kEINVAL);
    if (!syscall_can_write()) return rt::err(rt::kEPERM);
    uint32_t want = *count, done = 0;
    rt::Result<void> result;
    const auto* key_bytes = static_cast<const uint8_t*>(keys);
    const auto* value_bytes = static_cast<const uint8_t*>(values);
    for (; done < want; ++done) {
      result = syscall_update(key_bytes + static_cast<size_t>(done) * attributes_.key_size,
                              value_bytes + static_cast<size_t>(done) * syscall_value_size(), 0);
      if (!result.ok()) break;
    }
    *count = done;
    return result;
  }
  [[nodiscard]] rt::Result<void> generic_delete_batch(const void* keys, uint32_t* count,
                                                      uint64_t elem_flags) {
    if (elem_flags != 0) return rt::err(rt::kEINVAL);
    if (!syscall_can_write()) return rt::err(rt::kEPERM);
    uint32_t want = *count, done = 0;
    rt::Result<void> result;
    const auto* key_bytes = static_cast<const uint8_t*>(keys);
    for (; done < want; ++done) {
      result = rt::from_negated_errno(
          remove(key_bytes + static_cast<size_t>(done) * attributes_.key_size));
      if (!result.ok()) break;
    }
    *count = done;
    return result;
  }

  bool frozen() const { return frozen_; }
  void freeze() { frozen_ = true; }
  // What a bpf() caller may do (Linux's map_get_sys_perms): BPF_F_RDONLY and freezing take
  // away writes, BPF_F_WRONLY takes away reads. Refused operations are EPERM.
  bool syscall_can_read() const { return (attributes_.map_flags & kMapWronly) == 0; }
  bool syscall_can_write() const { return !frozen_ && (attributes_.map_flags & kMapRdonly) == 0; }
  // bpf(BPF_MAP_DELETE_ELEM): EPERM when not writable, else the type's delete.
  [[nodiscard]] rt::Result<void> syscall_delete(const void* key) {
    if (!syscall_can_write()) return rt::err(rt::kEPERM);
    return rt::from_negated_errno(remove(key));
  }
  // bpf(BPF_MAP_FREEZE): EBUSY when already frozen (Linux 6.1).
  [[nodiscard]] rt::Result<void> syscall_freeze() {
    if (frozen_) return rt::err(rt::kEBUSY);
    frozen_ = true;
    return {};
  }

  // For BPF_MAP_TYPE_PROG_ARRAY: the program at `index`, or nullptr (tail calls).
  virtual const struct Program* tail_call_target(uint32_t index) const {
    (void)index;
    return nullptr;
  }

  // Bytes of memory this map holds, for accounting.
  virtual size_t memory_usage() const = 0;

 protected:
  explicit Map(const MapAttributes& attributes, uint32_t value_copies = 1)
      : attributes_(attributes), value_copies_(value_copies) {}

 private:
  MapAttributes attributes_;
  uint32_t value_copies_;
  bool frozen_ = false;
};

}  // namespace ebpf
