// SPDX-License-Identifier: MIT
// BPF_MAP_TYPE_RINGBUF: Linux's ring buffer layout (consumer page, producer page, data with
// 8-byte record headers) and its reserve/submit/discard/output/query semantics.
#pragma once

#include <stdint.h>

#include "ebpf/map.hpp"

namespace ebpf {

inline constexpr uint32_t kRingbufBusyBit = 1u << 31;     // BPF_RINGBUF_BUSY_BIT
inline constexpr uint32_t kRingbufDiscardBit = 1u << 30;  // BPF_RINGBUF_DISCARD_BIT
inline constexpr uint32_t kRingbufHeaderSize = 8;         // BPF_RINGBUF_HDR_SZ
inline constexpr uint64_t kRingbufNoWakeup = 1;           // BPF_RB_NO_WAKEUP
inline constexpr uint64_t kRingbufForceWakeup = 2;        // BPF_RB_FORCE_WAKEUP
inline constexpr uint64_t kRingbufAvailData = 0;          // bpf_ringbuf_query flags
inline constexpr uint64_t kRingbufRingSize = 1;
inline constexpr uint64_t kRingbufConsPos = 2;
inline constexpr uint64_t kRingbufProdPos = 3;
inline constexpr uint32_t kRingbufPageSize = 4096;
inline constexpr uint64_t kRingbufMaxRecordSize = 0xffffffffu / 4;  // RINGBUF_MAX_RECORD_SZ

class RingbufMap final : public Map {
 public:
  // `pages` holds a kernel-only page (a pointer back to this map, found from any record
  // through its header's page offset, as Linux finds its ring), the consumer page, the
  // producer page, then 2 * max_entries data bytes: the second copy stands in for Linux's
  // double mapping so every record is contiguous.
  RingbufMap(const MapAttributes& attributes, uint8_t* pages);

  // Program side.
  void* reserve(uint64_t size, uint64_t flags);
  void submit(void* sample, uint64_t flags, bool discard);
  long output(const void* data, uint64_t size, uint64_t flags);
  uint64_t query(uint64_t flags) const;

  // The reader's side (what user space does through mmap).
  uint64_t consumer_position() const;
  uint64_t producer_position() const;
  void set_consumer_position(uint64_t position);
  const uint8_t* data() const { return pages_ + 3 * kRingbufPageSize; }
  // The ring a reserved record belongs to.
  static RingbufMap* of_sample(const void* sample);
  // Reader wakeups so far (Linux's irq_work on the ring's wait queue); the trace server may
  // also be told at once, to signal the reader's notification.
  uint64_t wakeups() const { return wakeups_; }
  using WakeupFunction = void (*)(void* cookie);
  void set_wakeup(WakeupFunction function, void* cookie) {
    wakeup_ = function;
    wakeup_cookie_ = cookie;
  }

  // Keyed operations do not exist for ring buffers.
  void* lookup(const void*) override { return nullptr; }
  long update(const void*, const void*, uint64_t) override;
  long remove(const void*) override;
  [[nodiscard]] rt::Result<void> syscall_lookup(const void*, void*, uint64_t) override;
  [[nodiscard]] rt::Result<void> syscall_update(const void*, const void*, uint64_t) override;
  [[nodiscard]] rt::Result<void> get_next_key(const void*, void*) override;
  size_t memory_usage() const override;
  uint8_t* mapped_memory(uint64_t* bytes) override {
    *bytes = pages_bytes(attributes()) - kRingbufPageSize;  // page 0 is the map's own
    return pages_ + kRingbufPageSize;
  }

  uint8_t* pages() const { return pages_; }
  static uint64_t pages_bytes(const MapAttributes& attributes) {
    return 3ull * kRingbufPageSize + 2ull * attributes.max_entries;
  }

 private:
  uint64_t* consumer() const { return reinterpret_cast<uint64_t*>(pages_ + kRingbufPageSize); }
  uint64_t* producer() const { return reinterpret_cast<uint64_t*>(pages_ + 2 * kRingbufPageSize); }
  uint8_t* data_mut() const { return pages_ + 3 * kRingbufPageSize; }

  uint8_t* pages_;
  uint64_t mask_;
  uint64_t wakeups_ = 0;
  WakeupFunction wakeup_ = nullptr;
  void* wakeup_cookie_ = nullptr;
};

}  // namespace ebpf
