// SPDX-License-Identifier: MIT
// EventRegistry: the trace events under tracefs events/, their ids, fields and format files.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rt/allocator.hpp"
#include "rt/result.hpp"
#include "trace/text_buffer.hpp"
#include "trace/vector.hpp"

namespace trace {

inline constexpr size_t kEventNameMax = 64;             // MAX_EVENT_NAME_LEN
inline constexpr size_t kFieldTextMax = 48;             // room for a field's type or name
inline constexpr uint32_t kFirstDynamicEventId = 1338;  // Linux 6.1's first, as recorded

// One field of an event's record, as the format file prints it.
struct EventField {
  char type[kFieldTextMax] = {};  // "const char *", "__data_loc char[]", "u64"
  char name[kFieldTextMax] = {};
  uint32_t offset = 0;
  uint32_t size = 0;
  bool is_signed = false;
};

// How a filter may compare a field (Linux's filter_assign_type and generic fields).
enum class FieldKind : uint8_t {
  kNumber,
  kDynamicString,  // __data_loc char[]: u32 at the field, offset | length << 16
  kStaticString,   // char name[N]
  kPointerString,  // char *: a pointer, to user memory for syscalls (never matches, as 6.1)
  kComm,           // the generic "comm": the task's name
  kCpu,            // the generic "cpu": the CPU the event was recorded on
};
FieldKind field_kind(const EventField& field);

// The common fields every record starts with (struct trace_entry).
inline constexpr uint32_t kCommonFieldsSize = 8;

enum class EventSource : uint8_t { kBuiltin, kSyscallEnter, kSyscallExit, kKprobe, kUprobe };

class FilterProgram;  // filter.hpp

class Event {
 public:
  Event(rt::Allocator& allocator)
      : fields(allocator), print_fmt(allocator), filter_text(allocator) {}
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  char system[kEventNameMax + 1] = {};
  char name[kEventNameMax + 1] = {};
  uint32_t id = 0;
  EventSource source = EventSource::kBuiltin;
  Vector<EventField> fields;  // the event's own, after the common ones
  TextBuffer print_fmt;       // what follows "print fmt: "
  bool enabled = false;
  // When the event was last enabled (a count over all events): the order in which Linux would
  // have registered its tracepoint probe, which is the order its lines appear in.
  uint64_t enabled_order = 0;
  uint32_t users = 0;  // perf events and BPF links attached (the event is busy while > 0)
  // The filter file: empty for "none"; after a failed write, the text with Linux's error.
  TextBuffer filter_text;
  FilterProgram* filter = nullptr;  // null: every record passes
  void* probe = nullptr;            // the probe definition of a kprobe/uprobe event
  int32_t syscall_nr = -1;          // syscalls:sys_enter_NAME / sys_exit_NAME: NAME's number

  // Every enable and disable goes through here.
  void set_enabled(bool on);
  // The field a filter names: own fields, then the common ones, then comm and cpu.
  const EventField* find_field(const char* name, size_t length) const;
  // The record size: the common fields and every own field.
  uint32_t record_size() const;
};

// Every event, in Linux's list order (available_events, set_event), with ids that stay
// stable: built-in events carry theirs, dynamic ones take the lowest free id from
// kFirstDynamicEventId on (Linux reuses the ids of removed events the same way).
class EventRegistry {
 public:
  explicit EventRegistry(rt::Allocator& allocator) : allocator_(allocator), events_(allocator) {}
  ~EventRegistry();
  EventRegistry(const EventRegistry&) = delete;
  EventRegistry& operator=(const EventRegistry&) = delete;

  // The built-in events (bpf_trace, syscalls, raw_syscalls); ENOMEM.
  [[nodiscard]] rt::Result<void> add_builtin();
  // A new event with a dynamic id, empty fields for the caller to fill; EEXIST, ENOMEM.
  [[nodiscard]] rt::Result<Event*> create(const char* system, const char* name);
  void remove(Event* event);

  Event* find(const char* system, size_t system_length, const char* name, size_t name_length) const;
  Event* find(const char* system, const char* name) const;
  bool system_exists(const char* system, size_t length) const;
  size_t size() const { return events_.size(); }
  Event& at(size_t index) { return *events_[index]; }
  const Event& at(size_t index) const { return *events_[index]; }
  rt::Allocator& allocator() { return allocator_; }

  // File texts.
  void render_available_events(TextBuffer& out) const;
  void render_set_event(TextBuffer& out) const;
  static void render_format(const Event& event, TextBuffer& out);
  // "0", "1" or "X" (some enabled) over the events of `system` (all events when null).
  char enable_state(const char* system, size_t length) const;
  void set_enabled(const char* system, size_t length, bool enabled);

  // set_event: whitespace-separated "[!][SYSTEM:]EVENT", "SYSTEM:*", "*:EVENT", "SYSTEM";
  // `truncate` (an O_TRUNC open) disables every event first. EINVAL when a token matches
  // nothing (the tokens before it stay applied).
  [[nodiscard]] rt::Result<void> write_set_event(const char* data, size_t length, bool truncate);

 private:
  [[nodiscard]] rt::Result<void> set_clear(const char* token, size_t length, bool enable);
  uint32_t free_dynamic_id() const;

  rt::Allocator& allocator_;
  Vector<Event*> events_;
};

// Copies at most `capacity - 1` bytes and a NUL; false when the text did not fit.
bool copy_text(char* destination, size_t capacity, const char* source, size_t length);

}  // namespace trace
