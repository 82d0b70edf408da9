// SPDX-License-Identifier: MIT
// Tracefs: the files under /sys/kernel/tracing the trace server serves, by path.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rt/allocator.hpp"
#include "rt/result.hpp"
#include "trace/error_log.hpp"
#include "trace/event_pids.hpp"
#include "trace/events.hpp"
#include "trace/filter.hpp"
#include "trace/probe_events.hpp"
#include "trace/text_buffer.hpp"
#include "trace/trace_buffer.hpp"

namespace trace {

// What a read gave besides its bytes (proto/trace.capnp tracefsRead).
struct TracefsRead {
  bool would_block = false;  // trace_pipe, blocking, empty: the server answers when data comes
  bool end_of_file = false;  // nothing at or past `offset`
};

// Told when an event is switched on or off, so probes and tracepoints can be armed.
class EventSwitch {
 public:
  // An error refuses the change (the write fails with it).
  virtual rt::Result<void> event_enabled(Event& event, bool enabled) = 0;

 protected:
  ~EventSwitch() = default;
};

// The facade the server binary calls for tracefsRead / tracefsWrite. Paths are below the
// tracing root ("trace", "events/syscalls/sys_enter_openat/format"; a leading '/' is
// allowed). Errors are Linux's: ENOENT for no such file, EISDIR for a directory, EINVAL for a
// write to a read-only file or a bad value, EAGAIN for an empty non-blocking trace_pipe.
class Tracefs {
 public:
  Tracefs(rt::Allocator& allocator, ProbeTargets& targets, uint32_t cpus = 1);
  Tracefs(const Tracefs&) = delete;
  Tracefs& operator=(const Tracefs&) = delete;

  // The built-in events; ENOMEM.
  [[nodiscard]] rt::Result<void> init();

  // Appends at most `max_bytes` of the file from `offset` to `out`.
  [[nodiscard]] rt::Result<TracefsRead> read(const char* path, size_t path_length, uint64_t offset,
                                             uint32_t max_bytes, bool blocking, TextBuffer& out);
  // A write of `data`; `append` is an O_APPEND open. A write at offset 0 without append
  // stands for the O_TRUNC open of `echo >` (it clears trace, set_event, kprobe_events,
  // uprobe_events and error_log first). Returns the bytes taken (all of them).
  [[nodiscard]] rt::Result<uint32_t> write(const char* path, size_t path_length, uint64_t offset,
                                           const char* data, size_t length, bool append);
  // A directory's entries, one name per line (for readdir); ENOTDIR, ENOENT.
  [[nodiscard]] rt::Result<void> list(const char* path, size_t path_length, TextBuffer& out);
  // Whether a path names a directory (true) or a file (false); ENOENT. Nothing is rendered.
  [[nodiscard]] rt::Result<bool> is_directory(const char* path, size_t path_length);

  // bpf_trace_printk from a program: recorded while the bpf_trace_printk event is enabled
  // (loading a program that calls it enables it, as on Linux: enable_printk_event()).
  bool record_printk(const TraceContext& context, const char* message, size_t length);
  void enable_printk_event();
  // An event's record (common fields first): recorded when the event is enabled and its
  // filter passes, with the line text Linux prints for it.
  bool record_event(Event& event, const TraceContext& context, const uint8_t* record, size_t size);
  // The line text of a record (without the task/CPU/time prefix), as Linux prints it.
  void render_event_text(const Event& event, const uint8_t* record, size_t size, TextBuffer& out);

  void set_switch(EventSwitch* event_switch) { switch_ = event_switch; }
  void set_time(uint64_t now_ns) { now_ns_ = now_ns; }  // the clock for error_log lines
  // Who the next write comes from and when (a trace_marker line's task, CPU and time).
  void set_writer(const TraceContext& writer) { writer_ = writer; }

  EventRegistry& events() { return events_; }
  TraceBuffer& buffer() { return buffer_; }
  ProbeEvents& kprobes() { return kprobes_; }
  ProbeEvents& uprobes() { return uprobes_; }
  ErrorLog& error_log() { return errors_; }

 private:
  [[nodiscard]] rt::Result<void> render(const char* path, size_t length, TextBuffer& out);
  // dynamic_events: the kprobe and uprobe definitions in the order they were made, and writes
  // that go to either file's parser by their target.
  void render_dynamic_events(TextBuffer& out) const;
  [[nodiscard]] rt::Result<void> write_dynamic_events(const char* data, size_t length,
                                                      bool truncate);
  [[nodiscard]] rt::Result<void> run_dynamic_command(const char* line, size_t length);
  // Whether set_event_pid lets the event's record in.
  bool pid_traced(const Event& event, const TraceContext& context, const uint8_t* record,
                  size_t size) const;
  [[nodiscard]] rt::Result<void> set_enable(Event* event, const char* system, size_t system_length,
                                            const char* data, size_t length);

  rt::Allocator& allocator_;
  ProbeTargets& targets_;
  uint32_t cpus_;
  EventRegistry events_;
  ErrorLog errors_;
  TraceBuffer buffer_;
  ProbeEvents kprobes_;
  ProbeEvents uprobes_;
  TextBuffer trace_snapshot_;  // `trace` as rendered at offset 0, for the reads that follow
  EventSwitch* switch_ = nullptr;
  uint64_t now_ns_ = 0;
  TraceContext writer_;
  EventPids event_pids_;
  uint64_t probes_created_ = 0;  // numbers kprobe and uprobe definitions for dynamic_events
  size_t trace_clock_ = 1;       // trace_clock's choice: global, Debian's 6.1 default
};

}  // namespace trace
