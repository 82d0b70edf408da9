// SPDX-License-Identifier: MIT
// Ring buffer: records are reserved at the producer position with the BUSY bit set, and
// committed (or discarded) in place; readers consume in order and stop at a busy record.
#include "ebpf/ringbuf.hpp"
#include "rt/errno.hpp"

namespace ebpf {

RingbufMap::RingbufMap(const MapAttributes& attributes, uint8_t* pages)
    : Map(attributes), pages_(pages), mask_(attributes.max_entries - 1u) {
  __builtin_memset(pages_, 0, pages_bytes(attributes));
  RingbufMap* self = this;
  __builtin_memcpy(pages_, &self, sizeof(self));
}

RingbufMap* RingbufMap::of_sample(const void* sample) {
  const uint8_t* header = static_cast<const uint8_t*>(sample) - kRingbufHeaderSize;
  uint32_t page_offset;
  __builtin_memcpy(&page_offset, header + 4, sizeof(page_offset));
  uint64_t page = reinterpret_cast<uint64_t>(header) & ~uint64_t{kRingbufPageSize - 1};
  const uint8_t* base =
      reinterpret_cast<const uint8_t*>(page - uint64_t{page_offset} * kRingbufPageSize);
  RingbufMap* ring;
  __builtin_memcpy(&ring, base, sizeof(ring));
  return ring;
}

uint64_t RingbufMap::consumer_position() const {
  return __atomic_load_n(consumer(), __ATOMIC_ACQUIRE);
}
uint64_t RingbufMap::producer_position() const {
  return __atomic_load_n(producer(), __ATOMIC_ACQUIRE);
}
void RingbufMap::set_consumer_position(uint64_t position) {
  __atomic_store_n(consumer(), position, __ATOMIC_RELEASE);
}

void* RingbufMap::reserve(uint64_t size, uint64_t flags) {
  if (flags != 0) return nullptr;
  // RINGBUF_MAX_RECORD_SZ: the two top bits of the length are BUSY and DISCARD.
  if (size > kRingbufMaxRecordSize) return nullptr;
  uint64_t total = (size + kRingbufHeaderSize + 7) & ~uint64_t{7};
  if (total > mask_ + 1) return nullptr;
  uint64_t producer_pos = *producer();
  uint64_t consumer_pos = consumer_position();
  // As Linux, the producer never gets more than ring size - 1 bytes ahead of the consumer,
  // so a ring is never completely full.
  if (producer_pos + total - consumer_pos > mask_) return nullptr;
  uint8_t* header = data_mut() + (producer_pos & mask_);
  uint32_t length = static_cast<uint32_t>(size) | kRingbufBusyBit;
  uint32_t page_offset = static_cast<uint32_t>(((header - pages_) / kRingbufPageSize));
  __builtin_memcpy(header + 4, &page_offset, 4);
  __atomic_store_n(reinterpret_cast<uint32_t*>(header), length, __ATOMIC_RELAXED);
  __atomic_store_n(producer(), producer_pos + total, __ATOMIC_RELEASE);
  return header + kRingbufHeaderSize;
}

void RingbufMap::submit(void* sample, uint64_t flags, bool discard) {
  uint8_t* header = static_cast<uint8_t*>(sample) - kRingbufHeaderSize;
  uint32_t length =
      __atomic_load_n(reinterpret_cast<uint32_t*>(header), __ATOMIC_RELAXED) & ~kRingbufBusyBit;
  uint64_t offset = static_cast<uint64_t>(header - data_mut());
  uint64_t total = (length + kRingbufHeaderSize + 7) & ~uint64_t{7};
  // A record that ran past the end was written into the mirror: fold it back to the start.
  uint64_t ring = mask_ + 1;
  if (offset + total > ring) {
    uint64_t overflow = offset + total - ring;
    __builtin_memcpy(data_mut(), data_mut() + ring, overflow);
  }
  uint32_t committed = length | (discard ? kRingbufDiscardBit : 0);
  __atomic_store_n(reinterpret_cast<uint32_t*>(header), committed, __ATOMIC_RELEASE);
  // Wake the reader if asked, or if this record is the next one it will read.
  uint64_t record_position = offset;
  bool next_to_read = (consumer_position() & mask_) == record_position;
  if ((flags & kRingbufForceWakeup) || (!(flags & kRingbufNoWakeup) && next_to_read)) {
    ++wakeups_;
    if (wakeup_ != nullptr) wakeup_(wakeup_cookie_);
  }
}

long RingbufMap::output(const void* data, uint64_t size, uint64_t flags) {
  if (flags & ~(kRingbufNoWakeup | kRingbufForceWakeup)) return -rt::kEINVAL;
  void* sample = reserve(size, 0);
  if (sample == nullptr) return -rt::kEAGAIN;
  __builtin_memcpy(sample, data, size);
  submit(sample, flags, false);
  return 0;
}

uint64_t RingbufMap::query(uint64_t flags) const {
  switch (flags) {
    case kRingbufAvailData: return producer_position() - consumer_position();
    case kRingbufRingSize: return mask_ + 1;
    case kRingbufConsPos: return consumer_position();
    case kRingbufProdPos: return producer_position();
    default: return 0;
  }
}

long RingbufMap::update(const void*, const void*, uint64_t) { return -rt::kENOTSUPP; }
long RingbufMap::remove(const void*) { return -rt::kENOTSUPP; }
rt::Result<void> RingbufMap::syscall_lookup(const void*, void*, uint64_t) {
  return rt::err(rt::kENOTSUPP);
}
rt::Result<void> RingbufMap::syscall_update(const void*, const void*, uint64_t) {
  return rt::err(rt::kENOTSUPP);
}
rt::Result<void> RingbufMap::get_next_key(const void*, void*) { return rt::err(rt::kENOTSUPP); }
size_t RingbufMap::memory_usage() const { return sizeof(*this) + pages_bytes(attributes()); }

}  // namespace ebpf
