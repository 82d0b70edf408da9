// SPDX-License-Identifier: MIT
// BPF_MAP_TYPE_BLOOM_FILTER: a bit array that answers "maybe present" or "surely absent".
#pragma once

#include "ebpf/map.hpp"

namespace ebpf {

// Linux 6.1's bloom filter (kernel/bpf/bloom_filter.c): map_extra's low four bits give the
// number of hash functions (5 when 0); the bit array holds max_entries * hashes * 7 / 5 bits
// (1 / ln 2 approximated as 7 / 5), rounded up to a power of two and at least 64, or 2^32 bits
// when that overflows. bpf_map_push_elem sets a value's bits, bpf_map_peek_elem tests them
// (0 or -ENOENT); keyed operations are not there (EOPNOTSUPP), as in Linux.
class BloomFilterMap final : public Map {
 public:
  BloomFilterMap(const MapAttributes& attributes, uint64_t* bits, uint32_t bit_mask,
                 uint32_t hashes, uint32_t seed);

  // The bit array's bytes and the mask of a bit index for `attributes` (already checked).
  static uint64_t bitset_bytes(const MapAttributes& attributes, uint32_t* bit_mask = nullptr);

  void* lookup(const void* key) override;
  long update(const void* key, const void* value, uint64_t flags) override;
  long remove(const void* key) override;
  long push(const void* value, uint64_t flags) override;
  long pop(void* value) override;
  long peek(void* value) override;
  [[nodiscard]] rt::Result<void> syscall_lookup(const void* key, void* value,
                                                uint64_t flags) override;
  [[nodiscard]] rt::Result<void> syscall_update(const void* key, const void* value,
                                                uint64_t flags) override;
  [[nodiscard]] rt::Result<void> get_next_key(const void* key, void* next_key) override;
  size_t memory_usage() const override;

  uint64_t* bits() const { return bits_; }

 private:
  uint32_t hash(const void* value, uint32_t index) const;

  uint64_t* bits_;
  uint32_t bit_mask_;
  uint32_t hashes_;
  uint32_t seed_;
};

}  // namespace ebpf
