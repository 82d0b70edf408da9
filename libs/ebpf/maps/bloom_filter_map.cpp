// SPDX-License-Identifier: MIT
// Bloom filter maps: push sets a value's bits, peek tests them.
#include "maps/bloom_filter_map.hpp"

#include "maps/jhash.hpp"
#include "rt/errno.hpp"

namespace ebpf {
namespace {

constexpr uint32_t kDefaultHashes = 5;

}  // namespace

uint64_t BloomFilterMap::bitset_bytes(const MapAttributes& a, uint32_t* bit_mask) {
  uint64_t hashes = (a.map_extra & 0xF) != 0 ? (a.map_extra & 0xF) : kDefaultHashes;
  uint64_t bits = uint64_t{a.max_entries} * hashes;
  uint32_t mask;
  uint64_t bytes;
  // Linux computes in u32 and takes the whole 2^32-bit array when the product overflows or
  // passes 2^31 bits.
  if (bits > 0xFFFFFFFFull || (bits / 5) * 7 > 0xFFFFFFFFull || (bits / 5) * 7 > (1ull << 31)) {
    mask = 0xFFFFFFFFu;
    bytes = (0xFFFFFFFFull + 7) / 8;
  } else {
    bits = (bits / 5) * 7;
    if (bits <= 64) {
      bits = 64;
    } else {
      uint64_t power = 1;
      while (power < bits) power <<= 1;
      bits = power;
    }
    mask = static_cast<uint32_t>(bits - 1);
    bytes = bits / 8;
  }
  if (bit_mask != nullptr) *bit_mask = mask;
  return (bytes + 7) & ~uint64_t{7};  // whole longs
}

BloomFilterMap::BloomFilterMap(const MapAttributes& attributes, uint64_t* bits, uint32_t bit_mask,
                               uint32_t hashes, uint32_t seed)
    : Map(attributes), bits_(bits), bit_mask_(bit_mask), hashes_(hashes), seed_(seed) {}

uint32_t BloomFilterMap::hash(const void* value, uint32_t index) const {
  uint32_t size = attributes().value_size;
  // Values made of whole u32 words hash with jhash2, others with jhash, as Linux's.
  if (size % 4 == 0) return jhash2(static_cast<const uint32_t*>(value), size / 4, seed_ + index);
  return jhash(static_cast<const uint8_t*>(value), size, seed_ + index);
}

long BloomFilterMap::push(const void* value, uint64_t flags) {
  if (flags != kUpdateAny) return -rt::kEINVAL;
  for (uint32_t i = 0; i < hashes_; ++i) {
    uint32_t bit = hash(value, i) & bit_mask_;
    __atomic_fetch_or(&bits_[bit / 64], uint64_t{1} << (bit % 64), __ATOMIC_RELAXED);
  }
  return 0;
}

long BloomFilterMap::peek(void* value) {
  for (uint32_t i = 0; i < hashes_; ++i) {
    uint32_t bit = hash(value, i) & bit_mask_;
    uint64_t word = __atomic_load_n(&bits_[bit / 64], __ATOMIC_RELAXED);
    if ((word & (uint64_t{1} << (bit % 64))) == 0) return -rt::kENOENT;
  }
  return 0;
}

// What Linux's bloom filter ops answer for everything else.
long BloomFilterMap::pop(void*) { return -rt::kEOPNOTSUPP; }
void* BloomFilterMap::lookup(const void*) { return nullptr; }
long BloomFilterMap::update(const void*, const void*, uint64_t) { return -rt::kEINVAL; }
long BloomFilterMap::remove(const void*) { return -rt::kEOPNOTSUPP; }
rt::Result<void> BloomFilterMap::get_next_key(const void*, void*) {
  return rt::err(rt::kEOPNOTSUPP);
}

// bpf(MAP_LOOKUP_ELEM) of a bloom filter: the value is the caller's, tested, never written.
rt::Result<void> BloomFilterMap::syscall_lookup(const void*, void* value, uint64_t flags) {
  if (!syscall_can_read()) return rt::err(rt::kEPERM);
  if (flags != 0) return rt::err(rt::kEINVAL);
  return rt::from_negated_errno(peek(value));
}

rt::Result<void> BloomFilterMap::syscall_update(const void*, const void* value, uint64_t flags) {
  if (!syscall_can_write()) return rt::err(rt::kEPERM);
  return rt::from_negated_errno(push(value, flags));
}

size_t BloomFilterMap::memory_usage() const { return sizeof(*this) + bitset_bytes(attributes()); }

}  // namespace ebpf
