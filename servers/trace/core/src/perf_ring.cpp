// SPDX-License-Identifier: MIT
// PerfEventRing: the header page, records at data_head, lost records and wakeup accounting.
#include "trace/perf_ring.hpp"

#include "rt/errno.hpp"
#include "rt/new.hpp"
#include "trace/perf_event_uapi.hpp"

namespace trace {
namespace {

void put(uint8_t* memory, uint32_t offset, uint64_t value) {
  __builtin_memcpy(memory + offset, &value, sizeof(value));
}

constexpr uint32_t kEpollIn = 1;

class RecordBuilder {
 public:
  void u64(uint64_t value) { append(&value, 8); }
  void u32_pair(uint32_t first, uint32_t second) {
    append(&first, 4);
    append(&second, 4);
  }
  void append(const void* bytes, uint32_t size) {
    if (length_ + size <= sizeof(bytes_)) __builtin_memcpy(bytes_ + length_, bytes, size);
    length_ += size;
  }
  // perf_event__output_id_sample's trailer: TID, TIME, ID, STREAM_ID, CPU, IDENTIFIER.
  void id_sample(const PerfSampleFields& fields) {
    uint64_t type = fields.sample_type;
    if (type & kPerfSampleTid) u32_pair(fields.pid, fields.tid);
    if (type & kPerfSampleTime) u64(fields.time);
    if (type & kPerfSampleId) u64(fields.event_id);
    if (type & kPerfSampleStreamId) u64(fields.event_id);
    if (type & kPerfSampleCpu) u32_pair(fields.cpu, 0);
    if (type & kPerfSampleIdentifier) u64(fields.event_id);
  }
  void patch_size() {  // a perf_event_header's size, once the record is complete
    uint16_t size = static_cast<uint16_t>(length_);
    __builtin_memcpy(bytes_ + 6, &size, sizeof(size));
  }
  const uint8_t* bytes() const { return bytes_; }
  uint32_t length() const { return length_; }

 private:
  uint8_t bytes_[384];  // an MMAP2 with a 256-byte path and the sample_id
  uint32_t length_ = 0;
};

}  // namespace

rt::Result<PerfEventRing*> PerfEventRing::create(rt::Allocator& allocator, uint32_t data_pages,
                                                 bool watermark,
                                                 uint32_t wakeup_events_or_watermark) {
  uint64_t bytes = uint64_t{data_pages + 1} * kPerfRingPageSize;
  void* place = allocator.allocate(sizeof(PerfEventRing), alignof(PerfEventRing));
  if (place == nullptr) return rt::err(rt::kENOMEM);
  auto* memory = static_cast<uint8_t*>(allocator.allocate(bytes, kPerfRingPageSize));
  if (memory == nullptr) {
    allocator.deallocate(place, sizeof(PerfEventRing));
    return rt::err(rt::kENOMEM);
  }
  for (uint64_t i = 0; i < bytes; ++i) memory[i] = 0;
  auto* ring = new (place) PerfEventRing();
  ring->memory_ = memory;
  ring->data_pages_ = data_pages;
  ring->watermark_mode_ = watermark;
  ring->wakeup_events_ = watermark ? 0 : wakeup_events_or_watermark;
  // ring_buffer_init: the asked watermark capped at the data size, else half of it.
  uint64_t size = ring->data_size();
  if (watermark && wakeup_events_or_watermark != 0)
    ring->watermark_ = wakeup_events_or_watermark < size ? wakeup_events_or_watermark : size;
  if (ring->watermark_ == 0) ring->watermark_ = size / 2;
  // perf_event_init_userpage. GAP: the time fields (time_enabled, time_running, time_mult,
  // ...) of the header page stay 0.
  put(memory, 0, kPerfMmapPageVersion);
  put(memory, kPerfMmapPageCapabilities, kPerfCapBit0IsDeprecated);
  uint32_t header_size = kPerfMmapPageSizeValue;
  __builtin_memcpy(memory + kPerfMmapPageSize, &header_size, sizeof(header_size));
  put(memory, kPerfDataOffsetOffset, kPerfRingPageSize);
  put(memory, kPerfDataSizeOffset, size);
  return ring;
}

void PerfEventRing::destroy(rt::Allocator& allocator) {
  allocator.deallocate(memory_, memory_size());
  this->~PerfEventRing();
  allocator.deallocate(this, sizeof(PerfEventRing));
}

uint64_t PerfEventRing::head() const {
  return __atomic_load_n(reinterpret_cast<const uint64_t*>(memory_ + kPerfDataHeadOffset),
                         __ATOMIC_ACQUIRE);
}

uint64_t PerfEventRing::tail() const {
  return __atomic_load_n(reinterpret_cast<const uint64_t*>(memory_ + kPerfDataTailOffset),
                         __ATOMIC_ACQUIRE);
}

void PerfEventRing::copy_in(uint64_t position, const void* bytes, uint64_t size) {
  uint8_t* data = memory_ + kPerfRingPageSize;
  uint64_t ring = data_size();
  const auto* from = static_cast<const uint8_t*>(bytes);
  // At most two pieces: up to the data area's end, then from its start.
  while (size > 0) {
    uint64_t at = position & (ring - 1);
    uint64_t piece = ring - at < size ? ring - at : size;
    if (from != nullptr) {
      __builtin_memcpy(data + at, from, piece);
      from += piece;
    } else {
      __builtin_memset(data + at, 0, piece);
    }
    position += piece;
    size -= piece;
  }
}

long PerfEventRing::output_sample(const PerfSampleFields& fields, const void* data, uint32_t size) {
  // perf_prepare_sample: the fields before RAW, then the raw size and bytes padded to 8.
  RecordBuilder before;
  uint64_t type = fields.sample_type;
  // GAP: READ, BRANCH_STACK, the register and stack dumps, WEIGHT_STRUCT, TRANSACTION,
  // PHYS_ADDR, AUX, CGROUP and the page sizes are not written.
  if (type & kPerfSampleIdentifier) before.u64(fields.event_id);
  if (type & kPerfSampleIp) before.u64(fields.ip);
  if (type & kPerfSampleTid) before.u32_pair(fields.pid, fields.tid);
  if (type & kPerfSampleTime) before.u64(fields.time);
  if (type & kPerfSampleAddr) before.u64(fields.addr);
  if (type & kPerfSampleId) before.u64(fields.event_id);
  if (type & kPerfSampleStreamId) before.u64(fields.event_id);
  if (type & kPerfSampleCpu) before.u32_pair(fields.cpu, 0);
  if (type & kPerfSamplePeriod) before.u64(fields.period);
  // CALLCHAIN after PERIOD (and READ): its length, then the chain.
  uint64_t chain = (type & kPerfSampleCallchain) ? 8 + uint64_t{fields.callchain_length} * 8 : 0;
  uint64_t raw = 0, padding = 0;
  if (type & kPerfSampleRaw) {
    raw = (uint64_t{size} + 4 + 7) & ~uint64_t{7};
    padding = raw - 4 - size;
  }
  // After RAW: WEIGHT (0: no cost measured) and DATA_SRC (PERF_MEM_NA, as Linux's
  // perf_sample_data_init leaves it for events that measure none), which perf record -d and
  // --weight ask of every event.
  RecordBuilder after;
  if (type & kPerfSampleWeight) after.u64(0);
  if (type & kPerfSampleDataSrc) after.u64(kPerfMemNa);
  uint64_t record_size = sizeof(PerfEventHeader) + before.length() + chain + raw + after.length();
  if (record_size > 0xffff) return -rt::kE2BIG;
  return write_record(fields, record_size, true, [&](uint64_t at) {
    PerfEventHeader header{kPerfRecordSample, fields.misc, static_cast<uint16_t>(record_size)};
    copy_in(at, &header, sizeof(header));
    at += sizeof(header);
    copy_in(at, before.bytes(), before.length());
    at += before.length();
    if (type & kPerfSampleCallchain) {
      uint64_t length = fields.callchain_length;
      copy_in(at, &length, 8);
      copy_in(at + 8, fields.callchain, length * 8);
      at += chain;
    }
    if (type & kPerfSampleRaw) {
      uint32_t raw_size = static_cast<uint32_t>(raw - 4);
      copy_in(at, &raw_size, 4);
      copy_in(at + 4, data, size);
      copy_in(at + 4 + size, nullptr, padding);
      at += raw;
    }
    copy_in(at, after.bytes(), after.length());
  });
}

long PerfEventRing::output_comm(const PerfSampleFields& fields, const char* comm, bool exec) {
  // perf_event_comm_output: pid, tid, the name NUL-terminated and padded to 8, the sample_id.
  RecordBuilder record;
  PerfEventHeader header{kPerfRecordComm, static_cast<uint16_t>(exec ? kPerfRecordMiscCommExec : 0),
                         0};
  record.append(&header, sizeof(header));
  record.u32_pair(fields.pid, fields.tid);
  char name[16] = {};
  uint32_t length = 0;
  while (length < sizeof(name) - 1 && comm[length] != 0) {
    name[length] = comm[length];
    ++length;
  }
  record.append(name, (length + 1 + 7) & ~7u);
  if (fields.sample_id_all) record.id_sample(fields);
  record.patch_size();
  return write_record(fields, record.length(), false,
                      [&](uint64_t at) { copy_in(at, record.bytes(), record.length()); });
}

long PerfEventRing::output_mmap(const PerfSampleFields& fields, const PerfMapping& mapping,
                                bool mmap2) {
  RecordBuilder record;
  PerfEventHeader header{mmap2 ? kPerfRecordMmap2 : kPerfRecordMmap, kPerfRecordMiscUser, 0};
  record.append(&header, sizeof(header));
  record.u32_pair(fields.pid, fields.tid);
  record.u64(mapping.address);
  record.u64(mapping.length);
  record.u64(mapping.pgoff);
  if (mmap2) {
    record.u32_pair(mapping.major, mapping.minor);
    record.u64(mapping.inode);
    record.u64(0);  // ino_generation
    record.u32_pair(mapping.prot, mapping.flags);
  }
  char path[256] = {};
  uint32_t length = 0;
  while (length < sizeof(path) - 1 && mapping.path[length] != 0) {
    path[length] = mapping.path[length];
    ++length;
  }
  record.append(path, (length + 1 + 7) & ~7u);
  if (fields.sample_id_all) record.id_sample(fields);
  record.patch_size();
  return write_record(fields, record.length(), false,
                      [&](uint64_t at) { copy_in(at, record.bytes(), record.length()); });
}

long PerfEventRing::output_task(const PerfSampleFields& fields, const TaskIds& task, bool fork) {
  RecordBuilder record;
  PerfEventHeader header{fork ? kPerfRecordFork : kPerfRecordExit, 0, 0};
  record.append(&header, sizeof(header));
  record.u32_pair(task.pid, task.ppid);
  record.u32_pair(task.tid, task.ptid);
  record.u64(fields.time);
  if (fields.sample_id_all) record.id_sample(fields);
  record.patch_size();
  return write_record(fields, record.length(), false,
                      [&](uint64_t at) { copy_in(at, record.bytes(), record.length()); });
}

template <typename Write>
long PerfEventRing::write_record(const PerfSampleFields& fields, uint64_t record_size, bool sample,
                                 Write write) {
  if (data_pages_ == 0) return -rt::kENOSPC;  // perf_output_begin finds no data pages
  if (paused_) {
    ++lost_;
    ++lost_total_;
    return -rt::kENOSPC;
  }

  // perf_output_begin: the pending LOST record is reserved with this one.
  RecordBuilder lost;
  if (lost_ != 0) {
    PerfEventHeader header{kPerfRecordLost, 0, 0};
    lost.append(&header, sizeof(header));
    lost.u64(fields.event_id);
    lost.u64(lost_);
    if (fields.sample_id_all) lost.id_sample(fields);
    lost.patch_size();
  }
  uint64_t head_position = head();
  uint64_t total = record_size + lost.length();
  if (head_position - tail() + total > data_size()) {
    ++lost_;
    ++lost_total_;
    return -rt::kENOSPC;
  }
  uint64_t wakeup_before = wakeup_;
  uint64_t end = head_position + total;
  if (end - wakeup_ > watermark_) wakeup_ += watermark_;
  uint64_t at = head_position;
  if (lost.length() != 0) {
    copy_in(at, lost.bytes(), lost.length());
    at += lost.length();
    lost_ = 0;
  }
  write(at);
  // perf_output_sample's wakeup_events count (samples only, not in watermark mode).
  if (sample && !watermark_mode_ && wakeup_events_ != 0 && ++events_ >= wakeup_events_) {
    events_ -= wakeup_events_;
    ++wakeup_;
  }
  __atomic_store_n(reinterpret_cast<uint64_t*>(memory_ + kPerfDataHeadOffset), end,
                   __ATOMIC_RELEASE);
  if (wakeup_ != wakeup_before) {
    ++wakeups_;
    poll_events_ = kEpollIn;
    if (wakeup_function_ != nullptr) wakeup_function_(wakeup_cookie_);
  }
  return 0;
}

}  // namespace trace
