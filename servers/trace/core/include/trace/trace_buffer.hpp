// SPDX-License-Identifier: MIT
// TraceBuffer: the trace ring behind tracefs `trace` and `trace_pipe`, in Linux's line format.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rt/allocator.hpp"
#include "rt/result.hpp"
#include "trace/text_buffer.hpp"

namespace trace {

// struct trace_entry's flag bits (Linux's TRACE_FLAG_*), shown in the line's flags column.
inline constexpr uint8_t kTraceIrqsOff = 0x01;
inline constexpr uint8_t kTraceIrqsNoSupport = 0x02;
inline constexpr uint8_t kTraceNeedResched = 0x04;
inline constexpr uint8_t kTraceHardirq = 0x08;
inline constexpr uint8_t kTraceSoftirq = 0x10;
inline constexpr uint8_t kTracePreemptResched = 0x20;
inline constexpr uint8_t kTraceNmi = 0x40;
inline constexpr uint8_t kTraceBhOff = 0x80;

inline constexpr size_t kTaskCommLen = 16;  // TASK_COMM_LEN

// What Linux records with every event: when, where, who, and in which context.
struct TraceContext {
  uint64_t timestamp_ns = 0;  // the trace clock (local: ns since boot)
  uint32_t cpu = 0;
  int32_t pid = 0;
  char comm[kTaskCommLen] = {};  // empty: the line shows "<...>", as Linux for a lost comm
  uint8_t flags = 0;             // kTrace* bits
  // Linux's trace_entry.preempt_count: preemption depth in the low nibble, migrate-disable
  // depth in the high one. A bpf_trace_printk from a kprobe program shows "...21".
  uint8_t preempt_count = 0;
};

// A byte ring of buffer_size_kb KiB (one ring; each entry records its CPU). Entries are
// variable length; when one does not fit, the oldest are overwritten (Linux's overwrite
// mode). The ring memory is taken on first use, as Linux expands its buffer on first use.
class TraceBuffer {
 public:
  static constexpr uint64_t kDefaultSizeKb = 1408;  // Linux's default per-CPU size

  explicit TraceBuffer(rt::Allocator& allocator, uint32_t cpus = 1)
      : allocator_(allocator), cpus_(cpus), pending_(allocator) {}
  ~TraceBuffer();
  TraceBuffer(const TraceBuffer&) = delete;
  TraceBuffer& operator=(const TraceBuffer&) = delete;

  // Records one event: `text` is what the line shows after "TIMESTAMP: " (without the final
  // newline, which rendering adds). False when tracing is off or the entry cannot be held.
  bool record(const TraceContext& context, const char* text, size_t length);
  // bpf_trace_printk: "bpf_trace_printk: " and the message as the program wrote it (a message
  // ending in '\n' shows as a line followed by an empty one, as on Linux).
  bool record_printk(const TraceContext& context, const char* message, size_t length);
  // A trace_marker write: "tracing_mark_write: " and the text written, whose last newline is
  // the line's own (Linux adds one to a text without).
  bool record_marker(const TraceContext& context, const char* text, size_t length);

  void clear();
  // buffer_size_kb: EINVAL for 0, ENOMEM when the new ring cannot be had (the old one stays).
  // The newest entries that fit are kept.
  [[nodiscard]] rt::Result<void> set_size_kb(uint64_t size_kb);
  uint64_t size_kb() const { return size_kb_; }
  void set_tracing_on(bool on) { tracing_on_ = on; }
  bool tracing_on() const { return tracing_on_; }

  // Called for every entry recorded (a blocked trace_pipe reader's wakeup).
  using WakeupFunction = void (*)(void* cookie);
  void set_wakeup(WakeupFunction function, void* cookie) {
    wakeup_function_ = function;
    wakeup_cookie_ = cookie;
  }

  uint64_t entries() const { return count_; }
  // Linux's "entries-written": the entries held and those overwritten (entries read from
  // trace_pipe count in neither).
  uint64_t entries_written() const { return count_ + overruns_; }

  // The `trace` file: header and every entry, oldest first; nothing is consumed.
  [[nodiscard]] rt::Result<void> render_trace(TextBuffer& out) const;
  // trace_pipe: moves up to `max_bytes` of lines out of the buffer, oldest first. A line
  // longer than `max_bytes` is handed out in pieces. Returns the bytes appended.
  size_t consume_pipe(TextBuffer& out, size_t max_bytes);
  bool pipe_empty() const { return count_ == 0 && pending_.empty(); }

  // One line as trace and trace_pipe show it (exposed for tests and other renderers).
  static void render_line(TextBuffer& out, const TraceContext& context, const char* text,
                          size_t length);

 private:
  struct Record;
  bool ensure_ring();
  bool append_record(const TraceContext& context, const char* first, size_t first_length,
                     const char* second, size_t second_length);
  const Record* oldest() const;
  void drop_oldest(bool overrun);
  uint64_t next_offset(uint64_t offset) const;

  rt::Allocator& allocator_;
  uint32_t cpus_;
  uint64_t size_kb_ = kDefaultSizeKb;
  bool tracing_on_ = true;
  uint8_t* ring_ = nullptr;
  uint64_t capacity_ = 0;  // bytes of ring_, a multiple of 8
  uint64_t head_ = 0;      // offset of the oldest record
  uint64_t tail_ = 0;      // where the next record goes
  uint64_t count_ = 0;
  uint64_t overruns_ = 0;
  TextBuffer pending_;  // the rest of a trace_pipe line a short read cut
  WakeupFunction wakeup_function_ = nullptr;
  void* wakeup_cookie_ = nullptr;
};

}  // namespace trace
