// SPDX-License-Identifier: MIT
// StackTraceMap: BPF_MAP_TYPE_STACK_TRACE, stacks of instruction pointers by bpf_get_stackid id.
#pragma once

#include "ebpf/map.hpp"
#include "maps/jhash.hpp"  // the ids are jhash2 of the stacks
#include "rt/allocator.hpp"

namespace ebpf {

// Linux's stackmap.c without build ids: ids are buckets of a power-of-two table (max_entries
// rounded up), a bucket holds one stack (its jhash2 and its ips), and max_entries stacks come
// from a free list. Linux preallocates them all; here they are allocated kChunkElements at a
// time when the free list runs dry (bpftrace's kstack maps are 131,072 stacks of 127 frames,
// 135 MB that a few hundred stacks use), and a chunk that cannot be had is what Linux's empty
// free list is: -ENOMEM from bpf_get_stackid. Programs only reach it through bpf_get_stackid
// (the verifier refuses every other helper on it, as Linux); user space looks stacks up,
// deletes them and walks the ids.
class StackTraceMap final : public Map {
 public:
  struct Bucket {
    uint32_t hash;
    uint32_t count;  // ips stored (value_size / 8 at most)
    Bucket* next_free;
    // value_size bytes of ips follow the header.
    uint64_t* ips() { return reinterpret_cast<uint64_t*>(this + 1); }
  };

  static constexpr uint32_t kChunkElements = 64;

  // `chunks`: chunk_count(attributes) null pointers, filled as stacks need room.
  StackTraceMap(const MapAttributes& attributes, rt::Allocator* allocator, Bucket** buckets,
                uint32_t bucket_count, uint8_t** chunks);

  // bpf_get_stackid on a captured stack (`ips` after the skipped frames): the bucket's id, or
  // -EEXIST (another stack holds it and BPF_F_REUSE_STACKID is not set), -ENOMEM (no free
  // element). `flags` are the helper's, already checked.
  long stack_id(const uint64_t* ips, uint32_t count, uint64_t flags);

  // Programs cannot look up, update or delete (the verifier refuses); these answer as Linux's
  // ops for the syscall side (delete) and for completeness.
  void* lookup(const void*) override { return nullptr; }
  long update(const void*, const void*, uint64_t) override { return -rt::kEINVAL; }
  long remove(const void* key) override;
  [[nodiscard]] rt::Result<void> syscall_lookup(const void* key, void* value,
                                                uint64_t flags) override;
  [[nodiscard]] rt::Result<void> syscall_update(const void* key, const void* value,
                                                uint64_t flags) override;
  [[nodiscard]] rt::Result<void> get_next_key(const void* key, void* next_key) override;
  size_t memory_usage() const override;

  Bucket** buckets() const { return buckets_; }
  uint32_t bucket_count() const { return bucket_count_; }
  static size_t element_bytes(const MapAttributes& attributes) {
    return sizeof(Bucket) + attributes.value_size;
  }
  // What Linux preallocates.
  static size_t elements_bytes(const MapAttributes& attributes) {
    return element_bytes(attributes) * attributes.max_entries;
  }
  static uint32_t chunk_count(const MapAttributes& attributes) {
    return (attributes.max_entries + kChunkElements - 1) / kChunkElements;
  }
  // Gives back every chunk and the chunk table (destroy_map).
  void release_chunks();
  // Chunks allocated so far (tests).
  uint32_t chunks_used() const { return chunks_used_; }

 private:
  void free_bucket(Bucket* bucket);
  // The next chunk's elements onto the free list; false when there is none or no memory.
  bool grow();
  size_t chunk_bytes(uint32_t chunk) const;

  rt::Allocator& allocator_;
  Bucket** buckets_;
  uint32_t bucket_count_;
  uint8_t** chunks_;
  uint32_t chunks_used_ = 0;
  Bucket* free_ = nullptr;
};

}  // namespace ebpf
