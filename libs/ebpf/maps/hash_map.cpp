// SPDX-License-Identifier: MIT
// BPF_MAP_TYPE_HASH: lookups, updates with BPF_ANY/NOEXIST/EXIST, deletion, iteration.
#include "maps/hash_map.hpp"

#include "rt/errno.hpp"

namespace ebpf {

size_t HashMap::element_bytes(const MapAttributes& a, uint32_t copies) {
  size_t key = (a.key_size + 7u) & ~size_t{7};
  size_t value = (a.value_size + 7u) & ~size_t{7};
  return sizeof(Element) + key + value * copies;
}

HashMap::HashMap(const MapAttributes& attributes, Element** buckets, uint32_t bucket_count,
                 rt::Allocator* allocator, size_t element_size, uint32_t copies, bool lru,
                 Environment* cpu_source, uint64_t seed)
    : Map(attributes, copies),
      buckets_(buckets),
      bucket_count_(bucket_count),
      allocator_(allocator),
      element_size_(element_size),
      key_stride_((attributes.key_size + 7u) & ~size_t{7}),
      value_stride_((attributes.value_size + 7u) & ~size_t{7}),
      lru_(lru),
      cpu_source_(cpu_source),
      seed_(seed) {
  for (uint32_t i = 0; i < bucket_count_; ++i) buckets_[i] = nullptr;
}

bool HashMap::preallocate() {
  if (attributes().map_flags & kMapNoPrealloc) return true;
  // Chunk header included, so the chunk is one 1 MiB block of a power-of-two heap.
  size_t fit = (kPreallocBytes - sizeof(Chunk)) / element_size_;
  uint32_t elements = fit >= attributes().max_entries ? attributes().max_entries
                                                      : static_cast<uint32_t>(fit > 0 ? fit : 1);
  return grow(elements);
}

bool HashMap::grow(uint32_t elements) {
  uint32_t room = attributes().max_entries - allocated_;
  if (elements > room) elements = room;
  if (elements == 0) return false;
  size_t bytes = sizeof(Chunk) + element_size_ * elements;
  auto* chunk = static_cast<Chunk*>(allocator_->allocate(bytes, 8));
  if (chunk == nullptr) return false;
  chunk->next = chunks_;
  chunk->bytes = bytes;
  chunks_ = chunk;
  storage_bytes_ += bytes;
  allocated_ += elements;
  // The chunk's elements join the free list in address order.
  auto* first = reinterpret_cast<uint8_t*>(chunk + 1);
  for (uint32_t i = elements; i > 0; --i) {
    auto* e = reinterpret_cast<Element*>(first + (i - 1) * element_size_);
    e->used = false;
    e->next = free_list_;
    free_list_ = e;
  }
  return true;
}

void HashMap::release_storage() {
  while (chunks_ != nullptr) {
    Chunk* chunk = chunks_;
    chunks_ = chunk->next;
    storage_bytes_ -= chunk->bytes;
    allocator_->deallocate(chunk, chunk->bytes);
  }
  free_list_ = nullptr;
  allocated_ = 0;
}

namespace {

uint64_t load64(const uint8_t* at) {
  uint64_t value;
  __builtin_memcpy(&value, at, 8);
  return value;
}

uint64_t mix(uint64_t value) {
  value ^= value >> 32;
  value *= 0xd6e8feb86659fd93ull;
  value ^= value >> 32;
  return value;
}

}  // namespace

// Eight key bytes at a time, multiplied and folded; seeded per map unless BPF_F_ZERO_SEED,
// as Linux seeds its jhash, so a client cannot choose keys that all share one bucket.
uint32_t HashMap::hash_key(const void* key) const {
  const auto* bytes = static_cast<const uint8_t*>(key);
  uint32_t size = attributes().key_size;
  uint64_t h = seed_ ^ (size * 0x9e3779b97f4a7c15ull);
  uint32_t i = 0;
  for (; i + 8 <= size; i += 8) h = mix(h ^ load64(bytes + i)) + 0x9e3779b97f4a7c15ull;
  // The last 1-7 bytes without a variable-length memcpy call (4-byte keys are the common case).
  uint32_t rest = size - i;
  if (rest == 4) {
    uint32_t word;
    __builtin_memcpy(&word, bytes + i, 4);
    h ^= word;
  } else if (rest != 0) {
    uint64_t tail = 0;
    for (uint32_t k = 0; k < rest; ++k) tail |= uint64_t{bytes[i + k]} << (8 * k);
    h ^= tail;
  }
  return static_cast<uint32_t>(mix(h));
}

bool HashMap::same_key(const uint8_t* stored, const void* key) const {
  switch (attributes().key_size) {
    case 4: {
      uint32_t a, b;
      __builtin_memcpy(&a, stored, 4);
      __builtin_memcpy(&b, key, 4);
      return a == b;
    }
    case 8: return load64(stored) == load64(static_cast<const uint8_t*>(key));
    default: return __builtin_memcmp(stored, key, attributes().key_size) == 0;
  }
}

HashMap::Element* HashMap::find(const void* key, uint32_t hash, Element*** link) {
  Element** at = &buckets_[hash & (bucket_count_ - 1)];
  for (Element* e = *at; e != nullptr; at = &e->next, e = e->next) {
    if (e->hash == hash && same_key(key_of(e), key)) {
      if (link) *link = at;
      return e;
    }
  }
  return nullptr;
}

uint32_t HashMap::current_cpu() const {
  if (value_copies() == 1) return 0;
  uint32_t cpu = cpu_source_->current_cpu();
  return cpu < value_copies() ? cpu : 0;
}

void HashMap::unlink_lru(Element* e) {
  if (e->lru_prev)
    e->lru_prev->lru_next = e->lru_next;
  else
    lru_head_ = e->lru_next;
  if (e->lru_next)
    e->lru_next->lru_prev = e->lru_prev;
  else
    lru_tail_ = e->lru_prev;
  e->lru_prev = e->lru_next = nullptr;
}

void HashMap::touch(Element* e) {
  if (!lru_ || lru_head_ == e) return;
  if (e->lru_prev != nullptr || e->lru_next != nullptr || lru_tail_ == e) unlink_lru(e);
  e->lru_next = lru_head_;
  e->lru_prev = nullptr;
  if (lru_head_) lru_head_->lru_prev = e;
  lru_head_ = e;
  if (lru_tail_ == nullptr) lru_tail_ = e;
}

HashMap::Element* HashMap::take_free_or_evict(long* error) {
  if (free_list_ == nullptr && allocated_ < attributes().max_entries) {
    size_t per_chunk = (kChunkBytes - sizeof(Chunk)) / element_size_;
    (void)grow(per_chunk > 0 ? static_cast<uint32_t>(per_chunk) : 1u);
  }
  if (free_list_ != nullptr) {
    Element* e = free_list_;
    free_list_ = e->next;
    return e;
  }
  // An LRU map short of memory for a new chunk evicts instead, as a full one does.
  if (!lru_ || lru_tail_ == nullptr) {
    *error = allocated_ < attributes().max_entries ? -rt::kENOMEM : -rt::kE2BIG;
    return nullptr;
  }
  Element* victim = lru_tail_;
  Element** link = nullptr;
  find(key_of(victim), victim->hash, &link);
  *link = victim->next;
  unlink_lru(victim);
  --count_;
  return victim;
}

Map::LookupFunction HashMap::lookup_function() const {
  return [](Map* map, const void* key) { return static_cast<HashMap*>(map)->HashMap::lookup(key); };
}

void* HashMap::lookup(const void* key) {
  Element* e = find(key, hash_key(key), nullptr);
  if (e == nullptr) return nullptr;
  touch(e);
  return value_of(e, current_cpu());
}

void* HashMap::lookup_percpu(const void* key, uint32_t cpu) {
  if (value_copies() == 1 || cpu >= value_copies()) return nullptr;
  Element* e = find(key, hash_key(key), nullptr);
  return e ? value_of(e, cpu) : nullptr;
}

long HashMap::update(const void* key, const void* value, uint64_t flags) {
  if ((flags & ~kUpdateLock) > kUpdateExist || (flags & kUpdateLock)) return -rt::kEINVAL;
  uint32_t hash = hash_key(key);
  Element* e = find(key, hash, nullptr);
  if (e != nullptr) {
    if (flags == kUpdateNoExist) return -rt::kEEXIST;
    __builtin_memcpy(value_of(e, current_cpu()), value, attributes().value_size);
    touch(e);
    return 0;
  }
  if (flags == kUpdateExist) return -rt::kENOENT;
  long error = 0;
  e = insert(key, hash, &error);
  if (e == nullptr) return error;
  __builtin_memcpy(value_of(e, current_cpu()), value, attributes().value_size);
  return 0;
}

HashMap::Element* HashMap::insert(const void* key, uint32_t hash, long* error) {
  Element* e = take_free_or_evict(error);
  if (e == nullptr) return nullptr;
  e->used = true;
  e->hash = hash;
  e->lru_prev = e->lru_next = nullptr;
  __builtin_memcpy(key_of(e), key, attributes().key_size);
  // A new element starts zeroed in every CPU copy, as Linux's per-CPU maps do.
  __builtin_memset(value_of(e), 0, value_stride_ * value_copies());
  Element** bucket = &buckets_[hash & (bucket_count_ - 1)];
  e->next = *bucket;
  *bucket = e;
  ++count_;
  touch(e);
  return e;
}

long HashMap::remove(const void* key) {
  Element** link = nullptr;
  Element* e = find(key, hash_key(key), &link);
  if (e == nullptr) return -rt::kENOENT;
  *link = e->next;
  release(e);
  return 0;
}

void HashMap::release(Element* e) {
  if (lru_) unlink_lru(e);
  e->used = false;
  e->next = free_list_;
  free_list_ = e;
  --count_;
}

// From user space, per-CPU maps read and write every CPU's copy at once.
rt::Result<void> HashMap::syscall_lookup(const void* key, void* value, uint64_t flags) {
  if (!syscall_can_read()) return rt::err(rt::kEPERM);
  if (flags != 0) return rt::err(rt::kEINVAL);  // BPF_F_LOCK: no spin locks in Sonde's values
  Element* e = find(key, hash_key(key), nullptr);
  if (e == nullptr) return rt::err(rt::kENOENT);
  auto* out = static_cast<uint8_t*>(value);
  if (value_copies() == 1) {
    __builtin_memcpy(out, value_of(e), attributes().value_size);
    return {};
  }
  for (uint32_t cpu = 0; cpu < value_copies(); ++cpu) {
    __builtin_memcpy(out + cpu * value_stride_, value_of(e, cpu), value_stride_);
  }
  return {};
}

rt::Result<void> HashMap::syscall_update(const void* key, const void* value, uint64_t flags) {
  if (!syscall_can_write()) return rt::err(rt::kEPERM);
  if (value_copies() == 1) return rt::from_negated_errno(update(key, value, flags));
  if ((flags & ~kUpdateLock) > kUpdateExist || (flags & kUpdateLock)) return rt::err(rt::kEINVAL);
  uint32_t hash = hash_key(key);
  Element* e = find(key, hash, nullptr);
  if (e != nullptr && flags == kUpdateNoExist) return rt::err(rt::kEEXIST);
  if (e == nullptr && flags == kUpdateExist) return rt::err(rt::kENOENT);
  long error = 0;
  if (e == nullptr) e = insert(key, hash, &error);
  if (e == nullptr) return rt::err(static_cast<rt::Errno>(-error));
  const auto* in = static_cast<const uint8_t*>(value);
  for (uint32_t cpu = 0; cpu < value_copies(); ++cpu) {
    __builtin_memcpy(value_of(e, cpu), in + cpu * value_stride_, attributes().value_size);
  }
  touch(e);
  return {};
}

rt::Result<void> HashMap::lookup_and_delete(const void* key, void* value, uint64_t flags) {
  if (!syscall_can_read() || !syscall_can_write()) return rt::err(rt::kEPERM);
  if (flags != 0) return rt::err(rt::kEINVAL);
  TRY(syscall_lookup(key, value, 0));
  return rt::from_negated_errno(remove(key));
}

rt::Result<void> HashMap::get_next_key(const void* key, void* next_key) {
  if (!syscall_can_read()) return rt::err(rt::kEPERM);  // BPF_MAP_GET_NEXT_KEY reads the map
  uint32_t start_bucket = 0;
  Element* e = nullptr;
  if (key != nullptr) {
    uint32_t hash = hash_key(key);
    Element* current = find(key, hash, nullptr);
    // A key that is not in the map restarts the walk from the first key, as in Linux.
    if (current != nullptr) {
      e = current->next;
      start_bucket = (hash & (bucket_count_ - 1)) + 1;
    }
  }
  if (e == nullptr) {
    for (uint32_t b = start_bucket; b < bucket_count_ && e == nullptr; ++b) e = buckets_[b];
  }
  if (e == nullptr) return rt::err(rt::kENOENT);
  __builtin_memcpy(next_key, key_of(e), attributes().key_size);
  return {};
}

// Whole buckets at a time, as Linux: the batch token is the next bucket.
rt::Result<void> HashMap::batch(const void* in_batch, void* out_batch, void* keys, void* values,
                                uint32_t* count, bool remove) {
  if (!syscall_can_read() || (remove && !syscall_can_write())) return rt::err(rt::kEPERM);
  uint32_t want = *count;
  if (want == 0) return {};
  uint32_t bucket = 0;
  if (in_batch != nullptr) __builtin_memcpy(&bucket, in_batch, 4);
  if (bucket >= bucket_count_) return rt::err(rt::kENOENT);
  uint32_t done = 0;
  uint32_t key_size = attributes().key_size;
  uint32_t value_bytes = syscall_value_size();
  auto* key_out = static_cast<uint8_t*>(keys);
  auto* value_out = static_cast<uint8_t*>(values);
  for (; bucket < bucket_count_; ++bucket) {
    uint32_t in_bucket = 0;
    for (Element* e = buckets_[bucket]; e != nullptr; e = e->next) ++in_bucket;
    if (done + in_bucket > want) {
      if (done == 0) {
        // Linux still reports where to continue (this bucket) and a count of 0.
        *count = 0;
        __builtin_memcpy(out_batch, &bucket, 4);
        return rt::err(rt::kENOSPC);
      }
      break;
    }
    for (Element* e = buckets_[bucket]; e != nullptr; e = e->next) {
      __builtin_memcpy(key_out + static_cast<size_t>(done) * key_size, key_of(e), key_size);
      for (uint32_t cpu = 0; cpu < value_copies(); ++cpu) {
        __builtin_memcpy(value_out + static_cast<size_t>(done) * value_bytes + cpu * value_stride_,
                         value_of(e, cpu),
                         value_copies() == 1 ? attributes().value_size : value_stride_);
      }
      ++done;
    }
    // BPF_MAP_LOOKUP_AND_DELETE_BATCH: the bucket was copied whole; empty it.
    while (remove && buckets_[bucket] != nullptr) {
      Element* e = buckets_[bucket];
      buckets_[bucket] = e->next;
      release(e);
    }
  }
  *count = done;
  __builtin_memcpy(out_batch, &bucket, 4);
  if (bucket >= bucket_count_) return rt::err(rt::kENOENT);
  return {};
}

long HashMap::for_each_element(ElementVisitor visit, void* state) {
  uint32_t cpu = current_cpu();
  long visited = 0;
  for (uint32_t b = 0; b < bucket_count_; ++b) {
    for (Element* e = buckets_[b]; e != nullptr;) {
      Element* next = e->next;  // the callback may delete the element it is given
      ++visited;
      if (visit(key_of(e), value_of(e, cpu), state) != 0) return visited;
      e = next;
    }
  }
  return visited;
}

size_t HashMap::memory_usage() const {
  return sizeof(*this) + bucket_count_ * sizeof(Element*) + storage_bytes_;
}

}  // namespace ebpf
