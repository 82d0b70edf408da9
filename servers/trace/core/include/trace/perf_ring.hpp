// SPDX-License-Identifier: MIT
// PerfEventRing: one perf event's mmap buffer, Linux's perf_event_mmap_page and record rules.
#pragma once

#include <stdint.h>

#include "rt/allocator.hpp"
#include "rt/result.hpp"

namespace trace {

inline constexpr uint32_t kPerfRingPageSize = 4096;
inline constexpr uint32_t kPerfDataHeadOffset = 1024;  // perf_event_mmap_page.data_head
inline constexpr uint32_t kPerfDataTailOffset = 1032;
inline constexpr uint32_t kPerfDataOffsetOffset = 1040;
inline constexpr uint32_t kPerfDataSizeOffset = 1048;

// What a record carries besides its body, from the event's sample_type (perf_prepare_sample's
// order) and what the sample_id trailer of other records holds when sample_id_all is set.
struct PerfSampleFields {
  uint64_t sample_type = 0;
  bool sample_id_all = false;
  uint64_t event_id = 0;  // PERF_SAMPLE_ID, PERF_SAMPLE_IDENTIFIER, STREAM_ID, the LOST record
  uint64_t period = 1;
  uint32_t pid = 0, tid = 0;
  uint64_t time = 0;
  uint64_t ip = 0;    // PERF_SAMPLE_IP: the interrupted instruction
  uint64_t addr = 0;  // PERF_SAMPLE_ADDR: a page fault's address (0 for other samples)
  uint32_t cpu = 0;
  uint16_t misc = 0;  // the sample's header misc (PERF_RECORD_MISC_KERNEL or _USER)
  // PERF_SAMPLE_CALLCHAIN: the ips with their context markers (PERF_CONTEXT_KERNEL, _USER);
  // none: an empty chain.
  const uint64_t* callchain = nullptr;
  uint32_t callchain_length = 0;
};

// What a PERF_RECORD_MMAP2 says of a mapping (pgoff in bytes, as Linux's).
struct PerfMapping {
  uint64_t address = 0, length = 0, pgoff = 0;
  uint32_t major = 0, minor = 0;
  uint64_t inode = 0;
  uint32_t prot = 0, flags = 0;
  const char* path = "";
};

// The header page (perf_event_mmap_page: version, size, capabilities, data_head at 1024,
// data_tail, data_offset, data_size) and 2^n data pages, from the allocator, page-aligned and
// zeroed; the server binary grants these frames to the reader's mmap. Records are written at
// data_head as Linux's perf_output_begin/end do: a record goes in whole or not at all (no
// overwrite mode); a full ring counts the record lost, and the next record that fits is preceded
// by one PERF_RECORD_LOST with the count (both reserved together, as Linux). Wakeups follow
// wakeup_events (every Nth sample) or, with `watermark`, wakeup_watermark bytes (default half the
// data area): `wakeups()` counts them and the wakeup function, if set, is called for each.
class PerfEventRing {
 public:
  // data_pages: 0 or a power of two (perf_mmap's rule; the caller checks it).
  [[nodiscard]] static rt::Result<PerfEventRing*> create(rt::Allocator& allocator,
                                                         uint32_t data_pages, bool watermark,
                                                         uint32_t wakeup_events_or_watermark);
  void destroy(rt::Allocator& allocator);

  // A PERF_RECORD_SAMPLE with PERF_SAMPLE_RAW `data` (size padded as Linux: the u32 size and
  // the bytes end on 8), plus the other supported sample_type fields. 0, or -ENOSPC when it did
  // not fit (or there are no data pages), -E2BIG when the record exceeds 64 KiB.
  long output_sample(const PerfSampleFields& fields, const void* data, uint32_t size);
  // A PERF_RECORD_COMM (pid and tid from `fields`, the name, PERF_RECORD_MISC_COMM_EXEC when an
  // exec named the task), with the sample_id trailer when sample_id_all is set. 0 or -ENOSPC.
  long output_comm(const PerfSampleFields& fields, const char* comm, bool exec);
  // perf_event_mmap_output: a PERF_RECORD_MMAP2 (`mmap2`) or PERF_RECORD_MMAP of an executable
  // user mapping (misc USER), the path NUL-terminated and padded to 8 (cut at 255 bytes).
  long output_mmap(const PerfSampleFields& fields, const PerfMapping& mapping, bool mmap2);
  // perf_event_task_output: PERF_RECORD_FORK (`fork`) or EXIT of `task` (pid and tid) with its
  // parent's (ppid, ptid) and fields.time; the sample_id is `fields`' (the current task's).
  struct TaskIds {
    uint32_t pid, ppid, tid, ptid;
  };
  long output_task(const PerfSampleFields& fields, const TaskIds& task, bool fork);

  uint8_t* memory() const { return memory_; }
  uint64_t memory_size() const { return uint64_t{data_pages_ + 1} * kPerfRingPageSize; }
  uint32_t data_pages() const { return data_pages_; }
  uint64_t data_size() const { return uint64_t{data_pages_} * kPerfRingPageSize; }
  uint64_t head() const;
  uint64_t tail() const;
  uint64_t lost_pending() const { return lost_; }  // not yet reported in a LOST record
  uint64_t lost_total() const { return lost_total_; }
  uint64_t wakeups() const { return wakeups_; }
  // perf_poll's rb->poll: EPOLLIN once a wakeup was due, cleared by the reading.
  uint32_t take_poll_events() {
    uint32_t events = poll_events_;
    poll_events_ = 0;
    return events;
  }
  uint64_t watermark() const { return watermark_; }
  // PERF_EVENT_IOC_PAUSE_OUTPUT: a paused ring counts every record lost.
  void set_paused(bool paused) { paused_ = paused; }
  bool paused() const { return paused_; }
  using WakeupFunction = void (*)(void* cookie);
  void set_wakeup(WakeupFunction function, void* cookie) {
    wakeup_function_ = function;
    wakeup_cookie_ = cookie;
  }

 private:
  PerfEventRing() = default;
  void copy_in(uint64_t position, const void* bytes, uint64_t size);
  // perf_output_begin/end for a record of `record_size` bytes that `write(position)` copies in:
  // the pending LOST record first, the room check, the wakeup accounting (`sample`: it counts
  // toward wakeup_events), data_head.
  template <typename Write>
  long write_record(const PerfSampleFields& fields, uint64_t record_size, bool sample, Write write);

  uint8_t* memory_ = nullptr;
  uint32_t data_pages_ = 0;
  bool watermark_mode_ = false;
  bool paused_ = false;
  uint32_t wakeup_events_ = 0;
  uint64_t watermark_ = 0;
  uint64_t wakeup_ = 0;  // Linux's rb->wakeup: moved on each due wakeup
  uint64_t events_ = 0;  // samples since the last wakeup_events wakeup
  uint64_t lost_ = 0;
  uint64_t lost_total_ = 0;
  uint64_t wakeups_ = 0;
  uint32_t poll_events_ = 0;
  WakeupFunction wakeup_function_ = nullptr;
  void* wakeup_cookie_ = nullptr;
};

}  // namespace trace
