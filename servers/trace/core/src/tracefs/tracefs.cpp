// SPDX-License-Identifier: MIT
// Tracefs: path dispatch for tracefsRead / tracefsWrite, and event lines into the trace buffer.
#include "trace/tracefs.hpp"

#include "rt/errno.hpp"
#include "trace/sched_events.hpp"

namespace trace {
namespace {

// A path split into at most four components ("events/syscalls/sys_enter_openat/format").
struct Path {
  const char* part[4];
  size_t length[4];
  size_t count = 0;
  bool too_deep = false;
  bool is(size_t index, const char* text) const {
    return index < count && same_text(part[index], length[index], text);
  }
};

Path split(const char* path, size_t length) {
  Path result;
  size_t i = 0;
  while (i < length) {
    while (i < length && path[i] == '/') ++i;
    size_t start = i;
    while (i < length && path[i] != '/') ++i;
    if (i == start) break;
    if (result.count == 4) {
      result.too_deep = true;
      break;
    }
    result.part[result.count] = path + start;
    result.length[result.count] = i - start;
    ++result.count;
  }
  return result;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// kstrtoul_from_user(..., 10, ...): decimal digits and at most one trailing newline.
bool parse_decimal(const char* data, size_t length, uint64_t& value) {
  if (length > 0 && data[length - 1] == '\n') --length;
  if (length == 0) return false;
  size_t i = data[0] == '+' ? 1 : 0;
  if (i == length) return false;
  uint64_t result = 0;
  for (; i < length; ++i) {
    if (data[i] < '0' || data[i] > '9') return false;
    uint64_t digit = data[i] - '0';
    if (result > (UINT64_MAX - digit) / 10) return false;
    result = result * 10 + digit;
  }
  value = result;
  return true;
}

// GAP: per_cpu/, snapshot, trace_marker_raw, options/, and the events' hist and trigger files.
constexpr const char* kRootFiles[] = {
    "available_events",
    "available_filter_functions",
    "available_tracers",
    "buffer_size_kb",
    "buffer_total_size_kb",
    "current_tracer",
    "dynamic_events",
    "error_log",
    "kprobe_events",
    "kprobe_profile",
    "set_event",
    "set_event_pid",
    "trace",
    "trace_clock",
    "trace_marker",
    "trace_pipe",
    "tracing_on",
    "uprobe_events",
    "uprobe_profile",
};
// trace_clock's names, as Linux 6.1 lists them. Sonde's trace times are nanoseconds since boot
// from the kernel's clock page, which is what the local, global, perf, mono, mono_raw and boot
// clocks are on a machine that never suspends; counter, uptime, tai and x86-tsc count other
// things and are refused (EINVAL, GAP). Debian's 6.1 starts with global.
constexpr const char* kTraceClocks[] = {"local", "global",   "counter", "uptime", "perf",
                                        "mono",  "mono_raw", "boot",    "tai",    "x86-tsc"};
constexpr bool kTraceClockKept[] = {true, true, false, false, true, true, true, true, false, false};

// Linux's TRACE_BUF_SIZE: what one trace_marker write takes at most (the writer writes the rest
// again).
constexpr size_t kMarkerMax = 1024;
constexpr const char* kEventFiles[] = {"enable", "filter", "format", "id"};
// events/header_page and events/header_event: the layout of Linux 6.1's ring-buffer pages and
// event headers on x86-64, which perf record copies into perf.data's tracing data for perf
// script's parser (Sonde's trace buffer is not read in pages, so nothing else depends on them).
constexpr const char kHeaderPage[] =
    "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n"
    "\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n"
    "\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n"
    "\tfield: char data;\toffset:16;\tsize:4080;\tsigned:1;\n";
constexpr const char kHeaderEvent[] =
    "# compressed entry header\n"
    "\ttype_len    :    5 bits\n"
    "\ttime_delta  :   27 bits\n"
    "\tarray       :   32 bits\n"
    "\n"
    "\tpadding     : type == 29\n"
    "\ttime_extend : type == 30\n"
    "\ttime_stamp : type == 31\n"
    "\tdata max type_len  == 28\n";
// events/ftrace: Linux lists there the format-only events of its function and latency tracers
// (function, print, kernel_stack, ...). Sonde has none of those tracers (GAP), so the system
// is there and empty: perf record looks for it.

// The "### global filter ###" text a system's filter file shows by default.
constexpr const char kSystemFilterMessage[] =
    "### global filter ###\n"
    "# Use this to set filters for multiple events.\n"
    "# Only events with the given fields will be affected.\n"
    "# If no events are modified, an error message will be displayed here\n";

uint64_t read_unsigned(const uint8_t* record, size_t size, const EventField& field) {
  if (field.offset + field.size > size) return 0;
  uint64_t value = 0;
  switch (field.size) {
    case 1: value = record[field.offset]; break;
    case 2: {
      uint16_t v;
      __builtin_memcpy(&v, record + field.offset, 2);
      value = v;
      break;
    }
    case 4: {
      uint32_t v;
      __builtin_memcpy(&v, record + field.offset, 4);
      value = v;
      break;
    }
    case 8: __builtin_memcpy(&value, record + field.offset, 8); break;
  }
  if (field.is_signed && field.size < 8) {
    unsigned shift = 64 - field.size * 8;
    value = static_cast<uint64_t>(static_cast<int64_t>(value << shift) >> shift);
  }
  return value;
}

// A __data_loc string of the record (without its NUL).
void append_data_loc(TextBuffer& out, const uint8_t* record, size_t size, const EventField& field) {
  if (field.offset + 4 > size) return;
  uint32_t location;
  __builtin_memcpy(&location, record + field.offset, 4);
  uint32_t offset = location & 0xffff, length = location >> 16;
  if (offset + length > size) return;
  const char* text = reinterpret_cast<const char*>(record + offset);
  while (length > 0 && text[length - 1] == 0) --length;
  out.append(text, length);
}

}  // namespace

Tracefs::Tracefs(rt::Allocator& allocator, ProbeTargets& targets, uint32_t cpus)
    : allocator_(allocator),
      targets_(targets),
      cpus_(cpus),
      events_(allocator),
      errors_(allocator),
      buffer_(allocator, cpus),
      kprobes_(events_, targets, errors_, false, cpus),
      uprobes_(events_, targets, errors_, true, cpus),
      trace_snapshot_(allocator),
      event_pids_(allocator) {
  kprobes_.set_creation_counter(&probes_created_);
  uprobes_.set_creation_counter(&probes_created_);
}

rt::Result<void> Tracefs::init() { return events_.add_builtin(); }

void Tracefs::enable_printk_event() {
  Event* event = events_.find("bpf_trace", "bpf_trace_printk");
  if (event != nullptr) event->set_enabled(true);
}

bool Tracefs::record_printk(const TraceContext& context, const char* message, size_t length) {
  Event* event = events_.find("bpf_trace", "bpf_trace_printk");
  if (event == nullptr || !event->enabled) return false;
  if (!event_pids_.empty() && !event_pids_.contains(context.pid)) return false;
  if (event->filter != nullptr) {
    // The filter sees the record the event would have: the message as bpf_string.
    uint8_t record[12 + 512];
    size_t kept = length < 511 ? length : 511;
    __builtin_memset(record, 0, 12);
    uint32_t location = 12 | static_cast<uint32_t>(kept + 1) << 16;
    __builtin_memcpy(record + 8, &location, 4);
    __builtin_memcpy(record + 12, message, kept);
    record[12 + kept] = 0;
    FilterRecord view{record, 12 + kept + 1, context.comm, context.cpu};
    if (!filter_matches(*event->filter, view)) return false;
  }
  return buffer_.record_printk(context, message, length);
}

void Tracefs::render_event_text(const Event& event, const uint8_t* record, size_t size,
                                TextBuffer& out) {
  const Vector<EventField>& fields = event.fields;
  switch (event.source) {
    case EventSource::kSyscallEnter:
      // sys_mkdirat(dfd: ffffff9c, pathname: 7fffca5e0f79, mode: 1ed)
      out.append("sys_");
      out.append(event.name + 10);
      out.append_char('(');
      for (size_t i = 1; i < fields.size(); ++i) {
        if (i > 1) out.append(", ");
        out.append(fields[i].name);
        out.append(": ");
        out.append_unsigned(read_unsigned(record, size, fields[i]), 16);
      }
      out.append_char(')');
      return;
    case EventSource::kSyscallExit:
      out.append("sys_");
      out.append(event.name + 9);
      out.append(" -> 0x");
      out.append_unsigned(fields.size() > 1 ? read_unsigned(record, size, fields[1]) : 0, 16);
      return;
    case EventSource::kKprobe:
    case EventSource::kUprobe: {
      const ProbeDefinition* probe = static_cast<const ProbeDefinition*>(event.probe);
      out.append(event.name);
      out.append(": (");
      // Uprobes show user addresses in hex (print_uprobe_event), kprobes symbolized (%pS).
      bool user = event.source == EventSource::kUprobe;
      auto symbol = [&](const EventField& field, bool with_offset) {
        uint64_t address = read_unsigned(record, size, field);
        if (user || !targets_.symbolize(address, with_offset, out)) {
          out.append("0x");
          out.append_unsigned(address, 16);
        }
      };
      size_t first_arg = 1;
      if (probe != nullptr && probe->is_return && fields.size() >= 2) {
        symbol(fields[1], true);
        out.append(" <- ");
        symbol(fields[0], false);
        first_arg = 2;
      } else if (!fields.empty()) {
        symbol(fields[0], true);
      }
      out.append_char(')');
      for (size_t i = first_arg; i < fields.size(); ++i) {
        const EventField& field = fields[i];
        out.append_char(' ');
        out.append(field.name);
        out.append_char('=');
        FetchType type = probe != nullptr && i - first_arg < probe->args.size()
                             ? probe->args[i - first_arg].type
                             : FetchType::kX64;
        uint64_t value = read_unsigned(record, size, field);
        switch (type) {
          case FetchType::kString:
          case FetchType::kUserString:
            out.append_char('"');
            append_data_loc(out, record, size, field);
            out.append_char('"');
            break;
          case FetchType::kS8:
          case FetchType::kS16:
          case FetchType::kS32:
          case FetchType::kS64: out.append_signed(static_cast<int64_t>(value)); break;
          case FetchType::kX8:
          case FetchType::kX16:
          case FetchType::kX32:
          case FetchType::kX64:
            out.append("0x");
            out.append_unsigned(value, 16);
            break;
          case FetchType::kSymbol:
            if (!targets_.symbolize(value, true, out)) {
              out.append("0x");
              out.append_unsigned(value, 16);
            }
            break;
          default: out.append_unsigned(value); break;
        }
      }
      return;
    }
    case EventSource::kBuiltin: break;
  }
  if (SchedEvent which; sched_event_of(event, which)) {
    out.append(event.name);
    out.append(": ");
    render_sched_text(which, record, size, out);
    return;
  }
  if (same_text("bpf_trace_printk", 16, event.name) && !fields.empty()) {
    out.append("bpf_trace_printk: ");
    append_data_loc(out, record, size, fields[0]);
    return;
  }
  if (same_text("raw_syscalls", 12, event.system) && fields.size() == 2) {
    // An ordinary TRACE_EVENT: Linux puts the event's name before its print fmt.
    out.append(event.name);
    out.append(": NR ");
    out.append_signed(static_cast<int64_t>(read_unsigned(record, size, fields[0])));
    if (same_text("sys_exit", 8, event.name)) {
      out.append(" = ");
      out.append_signed(static_cast<int64_t>(read_unsigned(record, size, fields[1])));
      return;
    }
    out.append(" (");
    for (uint32_t i = 0; i < 6; ++i) {
      EventField argument = fields[1];
      argument.offset += 8 * i;
      argument.size = 8;
      if (i > 0) out.append(", ");
      out.append_unsigned(read_unsigned(record, size, argument), 16);
    }
    out.append_char(')');
    return;
  }
  out.append(event.name);
  out.append_char(':');
}

void Tracefs::render_dynamic_events(TextBuffer& out) const {
  size_t k = 0, u = 0;
  while (k < kprobes_.size() || u < uprobes_.size()) {
    bool kprobe_next = u == uprobes_.size() ||
                       (k < kprobes_.size() && kprobes_.at(k).created < uprobes_.at(u).created);
    ProbeEvents::render_definition(kprobe_next ? kprobes_.at(k++) : uprobes_.at(u++), out);
    out.append_char('\n');
  }
}

rt::Result<void> Tracefs::write_dynamic_events(const char* data, size_t length, bool truncate) {
  if (truncate) {
    if (kprobes_.busy() || uprobes_.busy()) return rt::err(rt::kEBUSY);
    TRY(kprobes_.clear());
    TRY(uprobes_.clear());
  }
  return ProbeEvents::for_each_command(
      data, length,
      [](void* state, const char* line, size_t line_length) {
        return static_cast<Tracefs*>(state)->run_dynamic_command(line, line_length);
      },
      this);
}

// A removal ("-:[GRP/]EVENT") goes to whichever file has the event; a definition whose target
// (its second word) has a '/' and a ':' is a uprobe's ("PATH:OFFSET"), any other a kprobe's.
rt::Result<void> Tracefs::run_dynamic_command(const char* line, size_t length) {
  size_t i = 0;
  while (i < length && is_space(line[i])) ++i;
  bool removal = i < length && line[i] == '-';
  while (i < length && !is_space(line[i])) ++i;
  while (i < length && is_space(line[i])) ++i;
  bool slash = false, colon = false;
  for (; i < length && !is_space(line[i]); ++i) {
    slash = slash || line[i] == '/';
    colon = colon || line[i] == ':';
  }
  if (!removal) return (slash && colon ? uprobes_ : kprobes_).run_command(line, length, now_ns_);
  rt::Result<void> removed = kprobes_.run_command(line, length, now_ns_);
  if (!removed.ok() && removed.error().code == rt::kENOENT) {
    removed = uprobes_.run_command(line, length, now_ns_);
  }
  return removed;
}

bool Tracefs::pid_traced(const Event& event, const TraceContext& context, const uint8_t* record,
                         size_t size) const {
  if (event_pids_.empty()) return true;
  // Linux's set_event_pid: a switch is kept when its prev or next task is listed, a wakeup when
  // its task is (the woken one); any other event when the task it happens in is.
  SchedEvent which;
  if (!sched_event_of(event, which) ||
      (which != SchedEvent::kSwitch && which != SchedEvent::kWakeup &&
       which != SchedEvent::kWakeupNew && which != SchedEvent::kWaking)) {
    return event_pids_.contains(context.pid);
  }
  for (size_t i = 0; i < event.fields.size(); ++i) {
    const EventField& field = event.fields[i];
    bool names_task = which == SchedEvent::kSwitch ? same_text("prev_pid", 8, field.name) ||
                                                         same_text("next_pid", 8, field.name)
                                                   : same_text("pid", 3, field.name);
    if (names_task &&
        event_pids_.contains(static_cast<int64_t>(read_unsigned(record, size, field)))) {
      return true;
    }
  }
  return false;
}

bool Tracefs::record_event(Event& event, const TraceContext& context, const uint8_t* record,
                           size_t size) {
  if (!event.enabled || !buffer_.tracing_on()) return false;
  if (!pid_traced(event, context, record, size)) return false;
  FilterRecord view{record, size, context.comm, context.cpu};
  if (!event_filter_passes(event, view)) return false;
  TextBuffer text(allocator_);
  render_event_text(event, record, size, text);
  if (!text.ok()) return false;
  return buffer_.record(context, text.data(), text.size());
}

rt::Result<void> Tracefs::render(const char* path_text, size_t path_length, TextBuffer& out) {
  Path path = split(path_text, path_length);
  if (path.too_deep) return rt::err(rt::kENOENT);
  if (path.count == 1) {
    if (path.is(0, "trace")) return buffer_.render_trace(out);
    if (path.is(0, "tracing_on")) {
      out.append(buffer_.tracing_on() ? "1\n" : "0\n");
    } else if (path.is(0, "buffer_size_kb")) {
      out.append_unsigned(buffer_.size_kb());
      out.append_char('\n');
    } else if (path.is(0, "buffer_total_size_kb")) {
      out.append_unsigned(buffer_.size_kb() * cpus_);
      out.append_char('\n');
    } else if (path.is(0, "current_tracer") || path.is(0, "available_tracers")) {
      out.append("nop\n");  // GAP: no function or latency tracers
    } else if (path.is(0, "available_events")) {
      events_.render_available_events(out);
    } else if (path.is(0, "available_filter_functions")) {
      targets_.list_traceable_functions(out);
    } else if (path.is(0, "set_event")) {
      events_.render_set_event(out);
    } else if (path.is(0, "error_log")) {
      errors_.render(out);
    } else if (path.is(0, "kprobe_events")) {
      kprobes_.render(out);
    } else if (path.is(0, "uprobe_events")) {
      uprobes_.render(out);
    } else if (path.is(0, "set_event_pid")) {
      event_pids_.render(out);
    } else if (path.is(0, "trace_clock")) {
      for (size_t i = 0; i < sizeof kTraceClocks / sizeof kTraceClocks[0]; ++i) {
        if (i > 0) out.append_char(' ');
        if (i == trace_clock_) out.append_char('[');
        out.append(kTraceClocks[i]);
        if (i == trace_clock_) out.append_char(']');
      }
      out.append_char('\n');
    } else if (path.is(0, "dynamic_events")) {
      render_dynamic_events(out);
    } else if (path.is(0, "kprobe_profile")) {
      kprobes_.render_profile(out);
    } else if (path.is(0, "uprobe_profile")) {
      uprobes_.render_profile(out);
    } else if (path.is(0, "trace_marker")) {
      return rt::err(rt::kEINVAL);  // write-only: no read (Linux's read error)
    } else if (path.is(0, "events")) {
      return rt::err(rt::kEISDIR);
    } else {
      return rt::err(rt::kENOENT);
    }
  } else if (path.count >= 2 && path.is(0, "events")) {
    if (path.count == 2) {
      if (path.is(1, "enable")) {
        out.append_char(events_.enable_state(nullptr, 0));
        out.append_char('\n');
        return {};
      }
      if (path.is(1, "header_page")) {
        out.append(kHeaderPage);
        return {};
      }
      if (path.is(1, "header_event")) {
        out.append(kHeaderEvent);
        return {};
      }
      if (path.is(1, "ftrace")) return rt::err(rt::kEISDIR);
      if (!events_.system_exists(path.part[1], path.length[1])) return rt::err(rt::kENOENT);
      return rt::err(rt::kEISDIR);
    }
    if (!events_.system_exists(path.part[1], path.length[1])) return rt::err(rt::kENOENT);
    if (path.count == 3) {
      if (path.is(2, "enable")) {
        out.append_char(events_.enable_state(path.part[1], path.length[1]));
        out.append_char('\n');
        return {};
      }
      if (path.is(2, "filter")) {
        out.append(kSystemFilterMessage);
        return {};
      }
      if (events_.find(path.part[1], path.length[1], path.part[2], path.length[2]) != nullptr)
        return rt::err(rt::kEISDIR);
      return rt::err(rt::kENOENT);
    }
    Event* event = events_.find(path.part[1], path.length[1], path.part[2], path.length[2]);
    if (event == nullptr) return rt::err(rt::kENOENT);
    if (path.is(3, "enable")) {
      out.append(event->enabled ? "1\n" : "0\n");
    } else if (path.is(3, "id")) {
      out.append_unsigned(event->id);
      out.append_char('\n');
    } else if (path.is(3, "format")) {
      EventRegistry::render_format(*event, out);
    } else if (path.is(3, "filter")) {
      render_event_filter(*event, out);
    } else {
      return rt::err(rt::kENOENT);
    }
  } else if (path.count == 0) {
    return rt::err(rt::kEISDIR);
  } else {
    return rt::err(rt::kENOENT);
  }
  if (!out.ok()) return rt::err(rt::kENOMEM);
  return {};
}

rt::Result<TracefsRead> Tracefs::read(const char* path_text, size_t path_length, uint64_t offset,
                                      uint32_t max_bytes, bool blocking, TextBuffer& out) {
  Path path = split(path_text, path_length);
  TracefsRead result;
  if (path.count == 1 && path.is(0, "trace_pipe")) {
    if (buffer_.pipe_empty()) {
      if (!blocking) return rt::err(rt::kEAGAIN);
      result.would_block = true;
      return result;
    }
    buffer_.consume_pipe(out, max_bytes);
    if (!out.ok()) return rt::err(rt::kENOMEM);
    return result;
  }
  TextBuffer rendered(allocator_);
  const TextBuffer* text = &rendered;
  if (path.count == 1 && path.is(0, "trace")) {
    // Later reads of one open file continue the text the first read rendered.
    if (offset == 0 || trace_snapshot_.empty()) {
      trace_snapshot_.clear();
      TRY(buffer_.render_trace(trace_snapshot_));
    }
    text = &trace_snapshot_;
  } else {
    TRY(render(path_text, path_length, rendered));
  }
  if (offset >= text->size()) {
    result.end_of_file = true;
    return result;
  }
  size_t available = text->size() - offset;
  out.append(text->data() + offset, available < max_bytes ? available : max_bytes);
  if (!out.ok()) return rt::err(rt::kENOMEM);
  return result;
}

rt::Result<void> Tracefs::set_enable(Event* event, const char* system, size_t system_length,
                                     const char* data, size_t length) {
  uint64_t value;
  if (!parse_decimal(data, length, value) || value > 1) return rt::err(rt::kEINVAL);
  bool on = value == 1;
  for (size_t i = 0; i < events_.size(); ++i) {
    Event& candidate = events_.at(i);
    if (event != nullptr && &candidate != event) continue;
    if (event == nullptr && system != nullptr &&
        !same_text(system, system_length, candidate.system))
      continue;
    if (candidate.enabled == on) continue;
    if (switch_ != nullptr) TRY(switch_->event_enabled(candidate, on));
    candidate.set_enabled(on);
  }
  return {};
}

rt::Result<uint32_t> Tracefs::write(const char* path_text, size_t path_length, uint64_t offset,
                                    const char* data, size_t length, bool append) {
  if (length > UINT32_MAX) return rt::err(rt::kEINVAL);
  uint32_t written = static_cast<uint32_t>(length);
  bool truncate = !append && offset == 0;
  Path path = split(path_text, path_length);
  if (path.too_deep) return rt::err(rt::kENOENT);
  if (path.count == 1) {
    if (path.is(0, "trace")) {
      if (truncate) buffer_.clear();
      trace_snapshot_.clear();
      return written;
    }
    if (path.is(0, "tracing_on")) {
      uint64_t value;
      if (!parse_decimal(data, length, value)) return rt::err(rt::kEINVAL);
      buffer_.set_tracing_on(value != 0);
      return written;
    }
    if (path.is(0, "buffer_size_kb")) {
      uint64_t value;
      if (!parse_decimal(data, length, value)) return rt::err(rt::kEINVAL);
      TRY(buffer_.set_size_kb(value));
      return written;
    }
    if (path.is(0, "current_tracer")) {
      size_t end = length;
      while (end > 0 && is_space(data[end - 1])) --end;
      if (!same_text(data, end, "nop")) return rt::err(rt::kEINVAL);
      return written;
    }
    if (path.is(0, "set_event")) {
      TRY(events_.write_set_event(data, length, truncate));
      return written;
    }
    if (path.is(0, "error_log")) {
      if (truncate) errors_.clear();
      return written;
    }
    if (path.is(0, "set_event_pid")) {
      TRY(event_pids_.write(data, length, truncate));
      return written;
    }
    if (path.is(0, "trace_clock")) {
      // Linux's tracing_set_clock: the name with white space around it; any choice, the same
      // one too, empties the buffer (its times would not compare).
      size_t begin = 0, end = length;
      while (begin < end && is_space(data[begin])) ++begin;
      while (end > begin && is_space(data[end - 1])) --end;
      for (size_t i = 0; i < sizeof kTraceClocks / sizeof kTraceClocks[0]; ++i) {
        if (!same_text(data + begin, end - begin, kTraceClocks[i])) continue;
        if (!kTraceClockKept[i]) return rt::err(rt::kEINVAL);
        trace_clock_ = i;
        buffer_.clear();
        trace_snapshot_.clear();
        return written;
      }
      return rt::err(rt::kEINVAL);
    }
    if (path.is(0, "dynamic_events")) {
      TRY(write_dynamic_events(data, length, truncate));
      return written;
    }
    if (path.is(0, "trace_marker")) {
      // Linux's tracing_mark_write: a line per write of at most kMarkerMax bytes (the writer
      // writes the rest again); EBADF while tracing is off (the ring takes nothing).
      uint32_t taken = static_cast<uint32_t>(length < kMarkerMax ? length : kMarkerMax);
      if (taken == 0) return taken;
      if (!buffer_.record_marker(writer_, data, taken)) return rt::err(rt::kEBADF);
      return taken;
    }
    if (path.is(0, "kprobe_events") || path.is(0, "uprobe_events")) {
      ProbeEvents& probes = path.is(0, "kprobe_events") ? kprobes_ : uprobes_;
      TRY(probes.write(data, length, truncate, now_ns_));
      return written;
    }
    for (const char* file : kRootFiles) {
      if (path.is(0, file)) return rt::err(rt::kEINVAL);
    }
    if (path.is(0, "events")) return rt::err(rt::kEISDIR);
    return rt::err(rt::kENOENT);
  }
  if (path.count >= 2 && path.is(0, "events")) {
    if (path.count == 2 && path.is(1, "enable")) {
      TRY(set_enable(nullptr, nullptr, 0, data, length));
      return written;
    }
    // The header files have no write method (EINVAL, as Linux's vfs_write); ftrace is a
    // directory.
    if (path.count == 2 && (path.is(1, "header_page") || path.is(1, "header_event")))
      return rt::err(rt::kEINVAL);
    if (path.count == 2 && path.is(1, "ftrace")) return rt::err(rt::kEISDIR);
    if (!events_.system_exists(path.part[1], path.length[1])) return rt::err(rt::kENOENT);
    if (path.count == 2) return rt::err(rt::kEISDIR);
    if (path.count == 3 && path.is(2, "enable")) {
      TRY(set_enable(nullptr, path.part[1], path.length[1], data, length));
      return written;
    }
    if (path.count == 3 && path.is(2, "filter")) {
      // A system filter sets the filter of each event of the system that has the fields.
      bool applied = false;
      for (size_t i = 0; i < events_.size(); ++i) {
        Event& event = events_.at(i);
        if (!same_text(path.part[1], path.length[1], event.system)) continue;
        rt::Result<void> result = write_event_filter(event, data, length, allocator_);
        if (result.ok()) applied = true;
        if (!result.ok() && result.error().code == rt::kENOMEM) return result.error();
      }
      // GAP: Linux keeps the system filter's own text and error for its filter file.
      if (!applied) return rt::err(rt::kEINVAL);
      return written;
    }
    Event* event = events_.find(path.part[1], path.length[1], path.part[2], path.length[2]);
    if (event == nullptr || path.count == 3) {
      return rt::err(event == nullptr ? rt::kENOENT : rt::kEISDIR);
    }
    if (path.is(3, "enable")) {
      TRY(set_enable(event, nullptr, 0, data, length));
      return written;
    }
    if (path.is(3, "filter")) {
      TRY(write_event_filter(*event, data, length, allocator_));
      return written;
    }
    if (path.is(3, "id") || path.is(3, "format")) return rt::err(rt::kEINVAL);
    return rt::err(rt::kENOENT);
  }
  if (path.count == 0) return rt::err(rt::kEISDIR);
  return rt::err(rt::kENOENT);
}

rt::Result<void> Tracefs::list(const char* path_text, size_t path_length, TextBuffer& out) {
  // Files first: events/enable and a system's enable and filter sit beside directories.
  if (!TRY(is_directory(path_text, path_length))) return rt::err(rt::kENOTDIR);
  Path path = split(path_text, path_length);
  if (path.count == 0) {
    for (const char* file : kRootFiles) {
      out.append(file);
      out.append_char('\n');
    }
    out.append("events\n");
  } else if (path.is(0, "events") && path.count == 1) {
    out.append("enable\nheader_event\nheader_page\nftrace\n");
    for (size_t i = 0; i < events_.size(); ++i) {
      const char* system = events_.at(i).system;
      bool seen = false;
      for (size_t j = 0; j < i && !seen; ++j) {
        seen = same_text(system, string_length(system), events_.at(j).system);
      }
      if (seen) continue;
      out.append(system);
      out.append_char('\n');
    }
  } else if (path.is(0, "events") && path.count == 2) {
    if (path.is(1, "ftrace")) return {};  // no event of Linux's tracers
    if (!events_.system_exists(path.part[1], path.length[1])) return rt::err(rt::kENOENT);
    out.append("enable\nfilter\n");
    for (size_t i = 0; i < events_.size(); ++i) {
      const Event& event = events_.at(i);
      if (!same_text(path.part[1], path.length[1], event.system)) continue;
      out.append(event.name);
      out.append_char('\n');
    }
  } else if (path.is(0, "events") && path.count == 3) {
    if (events_.find(path.part[1], path.length[1], path.part[2], path.length[2]) == nullptr)
      return rt::err(rt::kENOENT);
    for (const char* file : kEventFiles) {
      out.append(file);
      out.append_char('\n');
    }
  }
  if (!out.ok()) return rt::err(rt::kENOMEM);
  return {};
}

rt::Result<bool> Tracefs::is_directory(const char* path_text, size_t path_length) {
  Path path = split(path_text, path_length);
  auto one_of = [&](size_t index, const auto& names) {
    for (const char* name : names) {
      if (path.is(index, name)) return true;
    }
    return false;
  };
  if (path.too_deep) return rt::err(rt::kENOENT);
  if (path.count == 0) return true;
  if (path.count == 1) {
    if (path.is(0, "events")) return true;
    if (one_of(0, kRootFiles)) return false;
    return rt::err(rt::kENOENT);
  }
  if (!path.is(0, "events")) return rt::err(rt::kENOENT);
  if (path.count == 2 &&
      (path.is(1, "enable") || path.is(1, "header_page") || path.is(1, "header_event"))) {
    return false;
  }
  if (path.count == 2 && path.is(1, "ftrace")) return true;
  if (!events_.system_exists(path.part[1], path.length[1])) return rt::err(rt::kENOENT);
  if (path.count == 2) return true;
  if (path.count == 3 && (path.is(2, "enable") || path.is(2, "filter"))) return false;
  if (events_.find(path.part[1], path.length[1], path.part[2], path.length[2]) == nullptr)
    return rt::err(rt::kENOENT);
  if (path.count == 3) return true;
  if (one_of(3, kEventFiles)) return false;
  return rt::err(rt::kENOENT);
}

}  // namespace trace
