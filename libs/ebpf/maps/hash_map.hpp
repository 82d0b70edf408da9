// SPDX-License-Identifier: MIT
// BPF_MAP_TYPE_HASH and its per-CPU and LRU variants: elements in chained buckets, with
// Linux's update rules; LRU maps evict the least recently used key when full. Element storage
// comes in chunks: up to kPreallocBytes at creation (none with BPF_F_NO_PREALLOC), the rest
// as keys arrive (docs/TRACE.md "Hash map memory").
#pragma once

#include "ebpf/environment.hpp"
#include "ebpf/map.hpp"
#include "rt/allocator.hpp"

namespace ebpf {

class HashMap final : public Map {
 public:
  struct Element {
    Element* next;      // bucket chain, or free list
    Element* lru_prev;  // recency list (LRU maps): most recent at the head
    Element* lru_next;
    uint32_t hash;
    bool used;
    // key_size bytes of key, padded to 8, then one value (padded to 8) per CPU copy.
  };

  // A block of elements from the allocator; the elements follow the header.
  struct Chunk {
    Chunk* next;
    size_t bytes;  // header included, as allocated
  };

  // What a map preallocates at creation at most (all of a smaller map), and how much each
  // later chunk holds (at least one element).
  static constexpr size_t kPreallocBytes = size_t{1} << 20;
  static constexpr size_t kChunkBytes = size_t{64} << 10;

  HashMap(const MapAttributes& attributes, Element** buckets, uint32_t bucket_count,
          rt::Allocator* allocator, size_t element_size, uint32_t copies, bool lru,
          Environment* cpu_source, uint64_t seed = 0);

  // The creation-time chunk: every element when they fit kPreallocBytes, else that much
  // (nothing for BPF_F_NO_PREALLOC). false when the allocator refuses.
  [[nodiscard]] bool preallocate();
  // Gives every chunk back to the allocator (destroy_map).
  void release_storage();

  void* lookup(const void* key) override;
  void* lookup_percpu(const void* key, uint32_t cpu) override;
  long update(const void* key, const void* value, uint64_t flags) override;
  long remove(const void* key) override;
  [[nodiscard]] rt::Result<void> syscall_lookup(const void* key, void* value,
                                                uint64_t flags) override;
  [[nodiscard]] rt::Result<void> syscall_update(const void* key, const void* value,
                                                uint64_t flags) override;
  [[nodiscard]] rt::Result<void> get_next_key(const void* key, void* next_key) override;
  [[nodiscard]] rt::Result<void> lookup_and_delete(const void* key, void* value,
                                                   uint64_t flags) override;
  [[nodiscard]] rt::Result<void> lookup_batch(const void* in_batch, void* out_batch, void* keys,
                                              void* values, uint32_t* count) override {
    return batch(in_batch, out_batch, keys, values, count, false);
  }
  [[nodiscard]] rt::Result<void> lookup_and_delete_batch(const void* in_batch, void* out_batch,
                                                         void* keys, void* values,
                                                         uint32_t* count) override {
    return batch(in_batch, out_batch, keys, values, count, true);
  }
  [[nodiscard]] rt::Result<void> update_batch(const void* keys, const void* values, uint32_t* count,
                                              uint64_t elem_flags) override {
    return generic_update_batch(keys, values, count, elem_flags);
  }
  [[nodiscard]] rt::Result<void> delete_batch(const void* keys, uint32_t* count,
                                              uint64_t elem_flags) override {
    return generic_delete_batch(keys, count, elem_flags);
  }
  long for_each_element(ElementVisitor visit, void* state) override;
  size_t memory_usage() const override;
  LookupFunction lookup_function() const override;

  uint32_t count() const { return count_; }
  Element** buckets() const { return buckets_; }
  uint32_t bucket_count() const { return bucket_count_; }
  size_t element_size() const { return element_size_; }
  // Elements carved from chunks so far (at most max_entries).
  uint32_t allocated() const { return allocated_; }
  // Bytes of element chunks held.
  size_t storage_bytes() const { return storage_bytes_; }

  // Bytes of one element for these attributes (header, key padded to 8, values).
  static size_t element_bytes(const MapAttributes& attributes, uint32_t copies);

 private:
  Element* find(const void* key, uint32_t hash, Element*** link);
  uint8_t* key_of(Element* e) const { return reinterpret_cast<uint8_t*>(e + 1); }
  uint8_t* value_of(Element* e, uint32_t cpu = 0) const {
    return key_of(e) + key_stride_ + cpu * value_stride_;
  }
  uint32_t current_cpu() const;
  void touch(Element* e);  // LRU: move to the head
  void unlink_lru(Element* e);
  // Adds a chunk of up to `elements` elements to the free list; false when the allocator
  // refuses or the map has max_entries elements already.
  bool grow(uint32_t elements);
  // A free element, a new one from a new chunk, or for LRU maps the least recently used one,
  // evicted; nullptr with *error E2BIG (full) or ENOMEM (no memory for a new chunk).
  Element* take_free_or_evict(long* error);
  Element* insert(const void* key, uint32_t hash, long* error);
  void release(
      Element* e);  // an element already unlinked from its bucket goes back to the free list
  [[nodiscard]] rt::Result<void> batch(const void* in_batch, void* out_batch, void* keys,
                                       void* values, uint32_t* count, bool remove);
  uint32_t hash_key(const void* key) const;
  bool same_key(const uint8_t* stored, const void* key) const;

  Element** buckets_;
  uint32_t bucket_count_;  // power of two
  rt::Allocator* allocator_;
  size_t element_size_;
  size_t key_stride_;
  size_t value_stride_;
  bool lru_;
  Environment* cpu_source_;
  uint64_t seed_;
  Element* lru_head_ = nullptr;
  Element* lru_tail_ = nullptr;
  Element* free_list_ = nullptr;
  uint32_t count_ = 0;
  Chunk* chunks_ = nullptr;
  uint32_t allocated_ = 0;
  size_t storage_bytes_ = 0;
};

}  // namespace ebpf
