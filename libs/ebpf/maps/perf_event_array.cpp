// SPDX-License-Identifier: MIT
// Perf rings and the perf event array: records go in at data_head, readers advance data_tail.
#include "ebpf/perf_buffer.hpp"
#include "rt/errno.hpp"

namespace ebpf {
namespace {

void put64(uint8_t* at, uint64_t value) { __builtin_memcpy(at, &value, 8); }

}  // namespace

PerfRing::PerfRing(uint8_t* memory, uint32_t data_pages, uint32_t cpu)
    : memory_(memory), data_size_(uint64_t{data_pages} * kPerfPageSize), cpu_(cpu) {
  put64(memory_ + kPerfDataOffsetOffset, kPerfPageSize);
  put64(memory_ + kPerfDataSizeOffset, data_size_);
}

uint64_t PerfRing::head() const {
  return __atomic_load_n(reinterpret_cast<const uint64_t*>(memory_ + kPerfDataHeadOffset),
                         __ATOMIC_ACQUIRE);
}
uint64_t PerfRing::tail() const {
  return __atomic_load_n(reinterpret_cast<const uint64_t*>(memory_ + kPerfDataTailOffset),
                         __ATOMIC_ACQUIRE);
}
void PerfRing::set_tail(uint64_t tail) {
  __atomic_store_n(reinterpret_cast<uint64_t*>(memory_ + kPerfDataTailOffset), tail,
                   __ATOMIC_RELEASE);
}

bool PerfRing::write_record(const void* header, uint32_t header_size, const void* body,
                            uint32_t body_size, uint32_t padding) {
  uint64_t total = uint64_t{header_size} + body_size + padding;
  uint64_t head_pos = head();
  if (head_pos - tail() + total > data_size_) return false;
  uint8_t* data = memory_ + kPerfPageSize;
  uint64_t mask = data_size_ - 1;
  // Records may wrap around the end of the data area; readers copy them out in two parts.
  auto copy = [&](uint64_t position, const void* from, uint64_t size) {
    const auto* bytes = static_cast<const uint8_t*>(from);
    for (uint64_t i = 0; i < size; ++i) data[(position + i) & mask] = bytes ? bytes[i] : 0;
  };
  copy(head_pos, header, header_size);
  copy(head_pos + header_size, body, body_size);
  copy(head_pos + header_size + body_size, nullptr, padding);
  __atomic_store_n(reinterpret_cast<uint64_t*>(memory_ + kPerfDataHeadOffset), head_pos + total,
                   __ATOMIC_RELEASE);
  return true;
}

long PerfRing::output(const void* data, uint32_t size) {
  // Report earlier losses first, as the kernel does once there is room again.
  if (lost_ > lost_reported_) {
    struct {
      uint32_t type;
      uint16_t misc, size;
      uint64_t id, lost;
    } lost_record{kPerfRecordLost, 0, 24, 0, lost_ - lost_reported_};
    if (write_record(&lost_record, 24, nullptr, 0, 0)) lost_reported_ = lost_;
  }
  // PERF_RECORD_SAMPLE with PERF_SAMPLE_RAW: header, u32 size, the bytes, padded to 8.
  uint32_t raw = 4 + size;
  uint32_t padded = (raw + 7) & ~7u;
  struct {
    uint32_t type;
    uint16_t misc, size;
    uint32_t raw_size;
  } header{kPerfRecordSample, 0, static_cast<uint16_t>(8 + padded), padded - 4};
  if (8 + padded > 0xffff || !write_record(&header, 12, data, size, padded - raw)) {
    ++lost_;
    return -rt::kENOSPC;
  }
  ++wakeups_;
  if (wakeup_ != nullptr) wakeup_(wakeup_cookie_);
  return 0;
}

long PerfRing::output_from(uint32_t cpu, const void* data, uint64_t size) {
  if (cpu_ != cpu) return -rt::kEOPNOTSUPP;  // Linux: only the event of this CPU
  if (size > 0xffff) return -rt::kE2BIG;
  return output(data, static_cast<uint32_t>(size));
}

PerfEventArrayMap::PerfEventArrayMap(const MapAttributes& attributes, PerfEventOutput** slots)
    : Map(attributes), slots_(slots) {
  for (uint32_t i = 0; i < attributes.max_entries; ++i) slots_[i] = nullptr;
}

rt::Result<void> PerfEventArrayMap::set(uint32_t index, PerfEventOutput* event) {
  if (index >= attributes().max_entries) return rt::err(rt::kE2BIG);
  slots_[index] = event;
  return {};
}

long PerfEventArrayMap::output(uint64_t flags, uint32_t cpu, const void* data, uint64_t size) {
  if (flags & ~kBpfFIndexMask) return -rt::kEINVAL;
  uint64_t index = flags & kBpfFIndexMask;
  if (index == kBpfFCurrentCpu) index = cpu;
  if (index >= attributes().max_entries) return -rt::kE2BIG;
  PerfEventOutput* event = slots_[index];
  if (event == nullptr) return -rt::kENOENT;
  return event->output_from(cpu, data, size);
}

long PerfEventArrayMap::update(const void*, const void*, uint64_t) { return -rt::kEINVAL; }

long PerfEventArrayMap::remove(const void* key) {
  uint32_t index;
  __builtin_memcpy(&index, key, 4);
  if (index >= attributes().max_entries) return -rt::kE2BIG;
  if (slots_[index] == nullptr) return -rt::kENOENT;
  slots_[index] = nullptr;
  return 0;
}

// Values are perf event fds only the trace server can resolve; it calls set().
// Linux has no map_fd_sys_lookup_elem for perf event arrays: ENOTSUPP.
rt::Result<void> PerfEventArrayMap::syscall_lookup(const void*, void*, uint64_t) {
  return rt::err(syscall_can_read() ? rt::kENOTSUPP : rt::kEPERM);
}
rt::Result<void> PerfEventArrayMap::syscall_update(const void*, const void*, uint64_t) {
  return rt::err(syscall_can_write() ? rt::kEOPNOTSUPP : rt::kEPERM);
}

rt::Result<void> PerfEventArrayMap::get_next_key(const void* key, void* next_key) {
  if (!syscall_can_read()) return rt::err(rt::kEPERM);  // BPF_MAP_GET_NEXT_KEY reads the map
  uint32_t max = attributes().max_entries, next = 0;
  if (key != nullptr) {
    uint32_t index;
    __builtin_memcpy(&index, key, 4);
    if (index < max) {
      if (index == max - 1) return rt::err(rt::kENOENT);
      next = index + 1;
    }
  }
  __builtin_memcpy(next_key, &next, 4);
  return {};
}

size_t PerfEventArrayMap::memory_usage() const {
  return sizeof(*this) + attributes().max_entries * sizeof(void*);
}

}  // namespace ebpf
