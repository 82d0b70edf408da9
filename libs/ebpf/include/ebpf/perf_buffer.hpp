// SPDX-License-Identifier: MIT
// Perf event rings and BPF_MAP_TYPE_PERF_EVENT_ARRAY: Linux's perf_event_mmap_page layout
// and PERF_RECORD_SAMPLE / PERF_RECORD_LOST records, as libbpf's perf_buffer reads them.
#pragma once

#include <stdint.h>

#include "ebpf/environment.hpp"
#include "ebpf/map.hpp"

namespace ebpf {

inline constexpr uint32_t kPerfPageSize = 4096;
inline constexpr uint32_t kPerfRecordLost = 2;         // PERF_RECORD_LOST
inline constexpr uint32_t kPerfRecordSample = 9;       // PERF_RECORD_SAMPLE
inline constexpr uint64_t kPerfDataHeadOffset = 1024;  // offsetof(perf_event_mmap_page, data_head)
inline constexpr uint64_t kPerfDataTailOffset = 1032;
inline constexpr uint64_t kPerfDataOffsetOffset = 1040;
inline constexpr uint64_t kPerfDataSizeOffset = 1048;
inline constexpr uint64_t kBpfFIndexMask = 0xffffffffull;    // BPF_F_INDEX_MASK
inline constexpr uint64_t kBpfFCurrentCpu = kBpfFIndexMask;  // BPF_F_CURRENT_CPU

// What a perf event array slot holds: the perf event bpf_perf_event_output writes to. The
// trace core's perf events implement it with Linux's event checks and ring accounting.
class PerfEventOutput {
 public:
  // The event's checks for a program running on `cpu`, then a PERF_RECORD_SAMPLE with
  // PERF_SAMPLE_RAW `data`: 0 or -errno.
  virtual long output_from(uint32_t cpu, const void* data, uint64_t size) = 0;

 protected:
  ~PerfEventOutput() = default;
};

// One perf event's ring (what perf_event_open + mmap give a reader): a metadata page, then
// a power-of-two number of data pages. `memory` must be page-aligned and zeroed.
class PerfRing : public PerfEventOutput {
 public:
  PerfRing(uint8_t* memory, uint32_t data_pages, uint32_t cpu);
  virtual ~PerfRing() = default;
  // Only the event of `cpu` takes records (EOPNOTSUPP), at most 64 KiB (E2BIG).
  long output_from(uint32_t cpu, const void* data, uint64_t size) override;

  // Appends a PERF_RECORD_SAMPLE with PERF_SAMPLE_RAW `data`; when there is no room the
  // sample is counted as lost and a PERF_RECORD_LOST is written once space returns.
  long output(const void* data, uint32_t size);
  uint32_t cpu() const { return cpu_; }
  uint64_t lost() const { return lost_; }
  uint64_t head() const;
  uint64_t tail() const;
  void set_tail(uint64_t tail);  // the reader's side
  // Wakeups of the reader: one per record written, as for an event opened with
  // wakeup_events = 1 (what libbpf's perf_buffer asks for). The trace server may be told
  // at once, to signal the reader's notification.
  uint64_t wakeups() const { return wakeups_; }
  using WakeupFunction = void (*)(void* cookie);
  void set_wakeup(WakeupFunction function, void* cookie) {
    wakeup_ = function;
    wakeup_cookie_ = cookie;
  }
  const uint8_t* data() const { return memory_ + kPerfPageSize; }
  uint64_t data_size() const { return data_size_; }

 private:
  bool write_record(const void* header, uint32_t header_size, const void* body, uint32_t body_size,
                    uint32_t padding);
  uint8_t* memory_;
  uint64_t data_size_;
  uint32_t cpu_;
  uint64_t lost_ = 0;
  uint64_t lost_reported_ = 0;
  uint64_t wakeups_ = 0;
  WakeupFunction wakeup_ = nullptr;
  void* wakeup_cookie_ = nullptr;
};

// Perf event fds by CPU index; the trace server resolves fds and calls set().
class PerfEventArrayMap final : public Map {
 public:
  PerfEventArrayMap(const MapAttributes& attributes, PerfEventOutput** slots);

  [[nodiscard]] rt::Result<void> set(uint32_t index, PerfEventOutput* event);
  // bpf_perf_event_output's flags and index rules; `cpu` is the current CPU.
  long output(uint64_t flags, uint32_t cpu, const void* data, uint64_t size);

  void* lookup(const void*) override { return nullptr; }
  long update(const void*, const void*, uint64_t) override;
  long remove(const void* key) override;
  [[nodiscard]] rt::Result<void> syscall_lookup(const void*, void*, uint64_t) override;
  [[nodiscard]] rt::Result<void> syscall_update(const void*, const void*, uint64_t) override;
  [[nodiscard]] rt::Result<void> get_next_key(const void* key, void* next_key) override;
  size_t memory_usage() const override;
  PerfEventOutput** slots() const { return slots_; }

 private:
  PerfEventOutput** slots_;
};

}  // namespace ebpf
