// SPDX-License-Identifier: MIT
// Stack trace maps: bpf_get_stackid's buckets, and their syscall side (kernel/bpf/stackmap.c).
#include "maps/stack_trace_map.hpp"

#include "maps/jhash.hpp"
#include "rt/errno.hpp"

namespace ebpf {
namespace {

constexpr uint64_t kFastStackCompare = 1u << 9;  // BPF_F_FAST_STACK_CMP
constexpr uint64_t kReuseStackId = 1u << 10;     // BPF_F_REUSE_STACKID

uint32_t read_id(const void* key) {
  uint32_t id;
  __builtin_memcpy(&id, key, sizeof(id));
  return id;
}

}  // namespace

StackTraceMap::StackTraceMap(const MapAttributes& attributes, rt::Allocator* allocator,
                             Bucket** buckets, uint32_t bucket_count, uint8_t** chunks)
    : Map(attributes),
      allocator_(*allocator),
      buckets_(buckets),
      bucket_count_(bucket_count),
      chunks_(chunks) {
  for (uint32_t i = 0; i < bucket_count; ++i) buckets_[i] = nullptr;
  for (uint32_t i = 0; i < chunk_count(attributes); ++i) chunks_[i] = nullptr;
}

size_t StackTraceMap::chunk_bytes(uint32_t chunk) const {
  uint32_t first = chunk * kChunkElements;
  uint32_t left = attributes().max_entries - first;
  return element_bytes(attributes()) * (left < kChunkElements ? left : kChunkElements);
}

bool StackTraceMap::grow() {
  if (chunks_used_ == chunk_count(attributes())) return false;
  size_t bytes = chunk_bytes(chunks_used_);
  auto* chunk = static_cast<uint8_t*>(allocator_.allocate(bytes, 8));
  if (chunk == nullptr) return false;
  chunks_[chunks_used_++] = chunk;
  size_t size = element_bytes(attributes());
  for (size_t at = bytes; at >= size; at -= size) {
    free_bucket(reinterpret_cast<Bucket*>(chunk + at - size));
  }
  return true;
}

void StackTraceMap::release_chunks() {
  for (uint32_t i = 0; i < chunks_used_; ++i) allocator_.deallocate(chunks_[i], chunk_bytes(i));
  allocator_.deallocate(chunks_, chunk_count(attributes()) * sizeof(uint8_t*));
  chunks_used_ = 0;
  chunks_ = nullptr;
  free_ = nullptr;
}

void StackTraceMap::free_bucket(Bucket* bucket) {
  bucket->next_free = free_;
  free_ = bucket;
}

// __bpf_get_stackid: the id is the hash's bucket; the same stack there gives the same id.
long StackTraceMap::stack_id(const uint64_t* ips, uint32_t count, uint64_t flags) {
  uint32_t length = count * 8;
  uint32_t hash = jhash2(reinterpret_cast<const uint32_t*>(ips), length / 4, 0);
  uint32_t id = hash & (bucket_count_ - 1);
  Bucket* bucket = buckets_[id];
  bool hash_matches = bucket != nullptr && bucket->hash == hash;
  if (hash_matches && (flags & kFastStackCompare)) return id;
  if (hash_matches && bucket->count == count && __builtin_memcmp(bucket->ips(), ips, length) == 0) {
    return id;
  }
  if (bucket != nullptr && !(flags & kReuseStackId)) return -rt::kEEXIST;
  if (free_ == nullptr && !grow()) return -rt::kENOMEM;
  Bucket* fresh = free_;
  free_ = fresh->next_free;
  __builtin_memcpy(fresh->ips(), ips, length);
  fresh->hash = hash;
  fresh->count = count;
  buckets_[id] = fresh;
  if (bucket != nullptr) free_bucket(bucket);
  return id;
}

// stack_map_delete_elem.
long StackTraceMap::remove(const void* key) {
  uint32_t id = read_id(key);
  if (id >= bucket_count_) return -rt::kE2BIG;
  Bucket* bucket = buckets_[id];
  if (bucket == nullptr) return -rt::kENOENT;
  buckets_[id] = nullptr;
  free_bucket(bucket);
  return 0;
}

// bpf_stackmap_copy: the stored ips, zeros after them.
rt::Result<void> StackTraceMap::syscall_lookup(const void* key, void* value, uint64_t flags) {
  if (!syscall_can_read()) return rt::err(rt::kEPERM);
  if (flags != 0) return rt::err(rt::kEINVAL);  // BPF_F_LOCK: no spin locks here
  uint32_t id = read_id(key);
  if (id >= bucket_count_ || buckets_[id] == nullptr) return rt::err(rt::kENOENT);
  Bucket* bucket = buckets_[id];
  uint32_t length = bucket->count * 8;
  auto* out = static_cast<uint8_t*>(value);
  __builtin_memcpy(out, bucket->ips(), length);
  __builtin_memset(out + length, 0, attributes().value_size - length);
  return {};
}

// stack_map_update_elem: stacks only come from bpf_get_stackid.
rt::Result<void> StackTraceMap::syscall_update(const void*, const void*, uint64_t) {
  if (!syscall_can_write()) return rt::err(rt::kEPERM);
  return rt::err(rt::kEINVAL);
}

// stack_map_get_next_key: the next id holding a stack; from no key, or a key out of range or
// empty, the first.
rt::Result<void> StackTraceMap::get_next_key(const void* key, void* next_key) {
  if (!syscall_can_read()) return rt::err(rt::kEPERM);  // BPF_MAP_GET_NEXT_KEY reads the map
  uint32_t id = 0;
  if (key != nullptr) {
    id = read_id(key);
    id = id >= bucket_count_ || buckets_[id] == nullptr ? 0 : id + 1;
  }
  while (id < bucket_count_ && buckets_[id] == nullptr) ++id;
  if (id >= bucket_count_) return rt::err(rt::kENOENT);
  __builtin_memcpy(next_key, &id, sizeof(id));
  return {};
}

size_t StackTraceMap::memory_usage() const {
  size_t held = sizeof(*this) + size_t{bucket_count_} * sizeof(Bucket*) +
                size_t{chunk_count(attributes())} * sizeof(uint8_t*);
  for (uint32_t i = 0; i < chunks_used_; ++i) held += chunk_bytes(i);
  return held;
}

}  // namespace ebpf
