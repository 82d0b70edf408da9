// SPDX-License-Identifier: MIT
// EventRegistry: built-in events, dynamic ids, format files, enable and set_event.
#include "trace/events.hpp"

#include "rt/errno.hpp"
#include "rt/new.hpp"
#include "syscall_events.hpp"
#include "trace/filter.hpp"

namespace trace {
namespace {

// The common fields, as every format file starts (struct trace_entry).
constexpr EventField kCommonFields[] = {
    {"unsigned short", "common_type", 0, 2, false},
    {"unsigned char", "common_flags", 2, 1, false},
    {"unsigned char", "common_preempt_count", 3, 1, false},
    {"int", "common_pid", 4, 4, true},
};

// Generic fields a filter may name though no format file lists them.
constexpr EventField kGenericFields[] = {
    {"char[16]", "comm", 0, 16, false},
    {"char[16]", "COMM", 0, 16, false},
    {"int", "cpu", 0, 4, true},
    {"int", "CPU", 0, 4, true},
};

struct BuiltinField {
  const char* type;
  const char* name;
  uint32_t offset;
  uint32_t size;
  bool is_signed;
};

// Events with their own layout and print format.
struct BuiltinEvent {
  const char* system;
  const char* name;
  uint32_t id;
  BuiltinField fields[7];
  size_t field_count;
  const char* print_fmt;
};

// Ids are those of Debian's Linux 6.1 (linux-image-6.1.0-*-amd64; Linux numbers events at boot,
// per configuration, so another build may differ).
// Linux 6.1's SONDE_TASK_REPORT_MAX as sched_switch's print fmt spells it out.
#define SONDE_TASK_REPORT_MAX                                                         \
  "(((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | " \
  "0x00000020 | 0x00000040) + 1) << 1)"

// sched_waking, sched_wakeup and sched_wakeup_new: Linux's sched_wakeup_template.
#define SONDE_WAKEUP_EVENT(name, id)                                                   \
  {                                                                                    \
    "sched", name, id,                                                                 \
        {{"char[16]", "comm", 8, 16, true},                                            \
         {"pid_t", "pid", 24, 4, true},                                                \
         {"int", "prio", 28, 4, true},                                                 \
         {"int", "target_cpu", 32, 4, true}},                                          \
        4,                                                                             \
        "\"comm=%s pid=%d prio=%d target_cpu=%03d\", REC->comm, REC->pid, REC->prio, " \
        "REC->target_cpu"                                                              \
  }

constexpr BuiltinEvent kBuiltinEvents[] = {
    {"bpf_trace",
     "bpf_trace_printk",
     1337,
     {{"__data_loc char[]", "bpf_string", 8, 4, true}},
     1,
     "\"%s\", __get_str(bpf_string)"},
    {"raw_syscalls",
     "sys_exit",
     21,
     {{"long", "id", 8, 8, true}, {"long", "ret", 16, 8, true}},
     2,
     "\"NR %ld = %ld\", REC->id, REC->ret"},
    {"raw_syscalls",
     "sys_enter",
     20,
     {{"long", "id", 8, 8, true}, {"unsigned long", "args[6]", 16, 48, false}},
     2,
     "\"NR %ld (%lx, %lx, %lx, %lx, %lx, %lx)\", REC->id, REC->args[0], REC->args[1], "
     "REC->args[2], REC->args[3], REC->args[4], REC->args[5]"},
    // The sched and signal tracepoints (sched_events.cpp builds their records): fields and
    // print formats of Linux 6.1, whose char is signed on x86-64 (signed:1 for strings).
    {"signal",
     "signal_generate",
     188,
     {{"int", "sig", 8, 4, true},
      {"int", "errno", 12, 4, true},
      {"int", "code", 16, 4, true},
      {"char[16]", "comm", 20, 16, true},
      {"pid_t", "pid", 36, 4, true},
      {"int", "group", 40, 4, true},
      {"int", "result", 44, 4, true}},
     7,
     "\"sig=%d errno=%d code=%d comm=%s pid=%d grp=%d res=%d\", REC->sig, REC->errno, REC->code, "
     "REC->comm, REC->pid, REC->group, REC->result"},
    {"sched",
     "sched_process_exec",
     312,
     {{"__data_loc char[]", "filename", 8, 4, true},
      {"pid_t", "pid", 12, 4, true},
      {"pid_t", "old_pid", 16, 4, true}},
     3,
     "\"filename=%s pid=%d old_pid=%d\", __get_str(filename), REC->pid, REC->old_pid"},
    {"sched",
     "sched_process_fork",
     313,
     {{"char[16]", "parent_comm", 8, 16, true},
      {"pid_t", "parent_pid", 24, 4, true},
      {"char[16]", "child_comm", 28, 16, true},
      {"pid_t", "child_pid", 44, 4, true}},
     4,
     "\"comm=%s pid=%d child_comm=%s child_pid=%d\", REC->parent_comm, REC->parent_pid, "
     "REC->child_comm, REC->child_pid"},
    {"sched",
     "sched_process_wait",
     314,
     {{"char[16]", "comm", 8, 16, true},
      {"pid_t", "pid", 24, 4, true},
      {"int", "prio", 28, 4, true}},
     3,
     "\"comm=%s pid=%d prio=%d\", REC->comm, REC->pid, REC->prio"},
    {"sched",
     "sched_process_exit",
     316,
     {{"char[16]", "comm", 8, 16, true},
      {"pid_t", "pid", 24, 4, true},
      {"int", "prio", 28, 4, true}},
     3,
     "\"comm=%s pid=%d prio=%d\", REC->comm, REC->pid, REC->prio"},
    {"sched",
     "sched_process_free",
     317,
     {{"char[16]", "comm", 8, 16, true},
      {"pid_t", "pid", 24, 4, true},
      {"int", "prio", 28, 4, true}},
     3,
     "\"comm=%s pid=%d prio=%d\", REC->comm, REC->pid, REC->prio"},
    // Fired by the microkernel (sched_trace.hpp there), seen through kernel samples.
    {"sched",
     "sched_switch",
     319,
     {{"char[16]", "prev_comm", 8, 16, true},
      {"pid_t", "prev_pid", 24, 4, true},
      {"int", "prev_prio", 28, 4, true},
      {"long", "prev_state", 32, 8, true},
      {"char[16]", "next_comm", 40, 16, true},
      {"pid_t", "next_pid", 56, 4, true},
      {"int", "next_prio", 60, 4, true}},
     7,
     "\"prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d "
     "next_prio=%d\", REC->prev_comm, REC->prev_pid, REC->prev_prio, (REC->prev_state & "
     "(" SONDE_TASK_REPORT_MAX " - 1)) ? __print_flags(REC->prev_state & (" SONDE_TASK_REPORT_MAX
     " - 1), \"|\", { 0x00000001, \"S\" "
     "}, { 0x00000002, \"D\" }, { 0x00000004, \"T\" }, { 0x00000008, \"t\" }, { 0x00000010, "
     "\"X\" }, { 0x00000020, \"Z\" }, { 0x00000040, \"P\" }, { 0x00000080, \"I\" }) : "
     "\"R\", REC->prev_state & " SONDE_TASK_REPORT_MAX
     " ? \"+\" : \"\", REC->next_comm, REC->next_pid, "
     "REC->next_prio"},
    SONDE_WAKEUP_EVENT("sched_wakeup_new", 320),
    SONDE_WAKEUP_EVENT("sched_wakeup", 321),
    SONDE_WAKEUP_EVENT("sched_waking", 322),
    {"sched",
     "sched_stat_runtime",
     307,
     {{"char[16]", "comm", 8, 16, true},
      {"pid_t", "pid", 24, 4, true},
      {"u64", "runtime", 32, 8, false},
      {"u64", "vruntime", 40, 8, false}},
     4,
     "\"comm=%s pid=%d runtime=%Lu [ns] vruntime=%Lu [ns]\", REC->comm, REC->pid, (unsigned "
     "long long)REC->runtime, (unsigned long long)REC->vruntime"},
    {"sched",
     "sched_migrate_task",
     318,
     {{"char[16]", "comm", 8, 16, true},
      {"pid_t", "pid", 24, 4, true},
      {"int", "prio", 28, 4, true},
      {"int", "orig_cpu", 32, 4, true},
      {"int", "dest_cpu", 36, 4, true}},
     5,
     "\"comm=%s pid=%d prio=%d orig_cpu=%d dest_cpu=%d\", REC->comm, REC->pid, REC->prio, "
     "REC->orig_cpu, REC->dest_cpu"},
    // Fired by the POSIX server where Linux's __set_task_comm (exec, prctl PR_SET_NAME) and
    // handle_page_fault (each page fault of a Linux task it takes) fire them.
    {"task",
     "task_rename",
     131,
     {{"pid_t", "pid", 8, 4, true},
      {"char[16]", "oldcomm", 12, 16, true},
      {"char[16]", "newcomm", 28, 16, true},
      {"short", "oom_score_adj", 44, 2, true}},
     4,
     "\"pid=%d oldcomm=%s newcomm=%s oom_score_adj=%hd\", REC->pid, REC->oldcomm, REC->newcomm, "
     "REC->oom_score_adj"},
    {"exceptions",
     "page_fault_user",
     118,
     {{"unsigned long", "address", 8, 8, false},
      {"unsigned long", "ip", 16, 8, false},
      {"unsigned long", "error_code", 24, 8, false}},
     3,
     "\"address=%ps ip=%ps error_code=0x%lx\", (void *)REC->address, (void *)REC->ip, "
     "REC->error_code"},
};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool text_equals(const char* a, size_t a_length, const char* b) {
  return same_text(a, a_length, b);
}

bool add_field(Event& event, const char* type, const char* name, uint32_t offset, uint32_t size,
               bool is_signed) {
  EventField field;
  copy_text(field.type, sizeof(field.type), type, string_length(type));
  copy_text(field.name, sizeof(field.name), name, string_length(name));
  field.offset = offset;
  field.size = size;
  field.is_signed = is_signed;
  return event.fields.push_back(static_cast<EventField&&>(field));
}

void render_field(TextBuffer& out, const EventField& field) {
  // An array type ("char[16]") prints its dimension after the name, as C declares it.
  const char* dimension = nullptr;
  bool data_loc = same_text(field.type, string_length(field.type) < 10 ? 0 : 10, "__data_loc");
  for (const char* c = field.type; *c != 0 && !data_loc; ++c) {
    if (*c == '[') {
      dimension = c;
      break;
    }
  }
  out.append("\tfield:");
  if (dimension == nullptr) {
    out.append(field.type);
  } else {
    out.append(field.type, static_cast<size_t>(dimension - field.type));
  }
  out.append_char(' ');
  out.append(field.name);
  if (dimension != nullptr) out.append(dimension);
  out.append(";\toffset:");
  out.append_unsigned(field.offset);
  out.append(";\tsize:");
  out.append_unsigned(field.size);
  out.append(";\tsigned:");
  out.append_char(field.is_signed ? '1' : '0');
  out.append(";\n");
}

}  // namespace

bool copy_text(char* destination, size_t capacity, const char* source, size_t length) {
  bool fits = length < capacity;
  size_t count = fits ? length : capacity - 1;
  for (size_t i = 0; i < count; ++i) destination[i] = source[i];
  destination[count] = 0;
  return fits;
}

FieldKind field_kind(const EventField& field) {
  // The generic comm (offset 0); a record's own comm field (signal_generate's) is a string.
  if (field.offset == 0 && (same_text(field.name, string_length(field.name), "comm") ||
                            same_text(field.name, string_length(field.name), "COMM")))
    return FieldKind::kComm;
  if (same_text(field.name, string_length(field.name), "cpu") ||
      same_text(field.name, string_length(field.name), "CPU"))
    return FieldKind::kCpu;
  bool has_char = false, has_star = false, has_bracket = false, data_loc = false;
  const char* type = field.type;
  for (size_t i = 0; type[i] != 0; ++i) {
    if (type[i] == '*') has_star = true;
    if (type[i] == '[') has_bracket = true;
    if (type[i] == 'c' && type[i + 1] == 'h' && type[i + 2] == 'a' && type[i + 3] == 'r')
      has_char = true;
    if (type[i] == '_' && type[i + 1] == '_' && type[i + 2] == 'd' && type[i + 3] == 'a' &&
        type[i + 4] == 't' && type[i + 5] == 'a' && type[i + 6] == '_')
      data_loc = true;
  }
  if (data_loc && has_char) return FieldKind::kDynamicString;
  if (has_bracket && has_char) return FieldKind::kStaticString;
  if (has_star && has_char) return FieldKind::kPointerString;
  return FieldKind::kNumber;
}

Event::~Event() { destroy_filter_program(filter); }

const EventField* Event::find_field(const char* field_name, size_t length) const {
  for (const EventField& field : fields) {
    if (same_text(field_name, length, field.name)) return &field;
  }
  for (const EventField& field : kCommonFields) {
    if (same_text(field_name, length, field.name)) return &field;
  }
  for (const EventField& field : kGenericFields) {
    if (same_text(field_name, length, field.name)) return &field;
  }
  return nullptr;
}

uint32_t Event::record_size() const {
  uint32_t size = kCommonFieldsSize;
  for (const EventField& field : fields) {
    if (field.offset + field.size > size) size = field.offset + field.size;
  }
  // Linux's struct syscall_trace_enter pads __syscall_nr to its args[], so an enter record of a
  // call without arguments is 16 bytes, not 12.
  if (source == EventSource::kSyscallEnter && size < 16) size = 16;
  return size;
}

EventRegistry::~EventRegistry() {
  for (Event* event : events_) {
    event->~Event();
    allocator_.deallocate(event, sizeof(Event));
  }
}

uint32_t EventRegistry::free_dynamic_id() const {
  for (uint32_t id = kFirstDynamicEventId;; ++id) {
    bool used = false;
    for (const Event* event : events_) used = used || event->id == id;
    if (!used) return id;
  }
}

rt::Result<Event*> EventRegistry::create(const char* system, const char* name) {
  size_t system_length = string_length(system);
  size_t name_length = string_length(name);
  if (system_length > kEventNameMax || name_length > kEventNameMax) return rt::err(rt::kEINVAL);
  if (find(system, system_length, name, name_length) != nullptr) return rt::err(rt::kEEXIST);
  void* memory = allocator_.allocate(sizeof(Event), alignof(Event));
  if (memory == nullptr) return rt::err(rt::kENOMEM);
  Event* event = new (memory) Event(allocator_);
  copy_text(event->system, sizeof(event->system), system, system_length);
  copy_text(event->name, sizeof(event->name), name, name_length);
  event->id = free_dynamic_id();
  if (!events_.push_back(static_cast<Event*&&>(event))) {
    event->~Event();
    allocator_.deallocate(memory, sizeof(Event));
    return rt::err(rt::kENOMEM);
  }
  return event;
}

void EventRegistry::remove(Event* event) {
  for (size_t i = 0; i < events_.size(); ++i) {
    if (events_[i] == event) {
      events_.erase(i);
      event->~Event();
      allocator_.deallocate(event, sizeof(Event));
      return;
    }
  }
}

rt::Result<void> EventRegistry::add_builtin() {
  for (const BuiltinEvent& builtin : kBuiltinEvents) {
    Event* event = TRY(create(builtin.system, builtin.name));
    event->id = builtin.id;
    for (size_t i = 0; i < builtin.field_count; ++i) {
      const BuiltinField& field = builtin.fields[i];
      if (!add_field(*event, field.type, field.name, field.offset, field.size, field.is_signed))
        return rt::err(rt::kENOMEM);
    }
    event->print_fmt.append(builtin.print_fmt);
    if (!event->print_fmt.ok()) return rt::err(rt::kENOMEM);
  }
  // Each system call (syscall_events.cpp) lists its exit event before its enter event, as
  // Linux's available_events does.
  for (size_t row = 0; row < kSyscallCount; ++row) {
    const SyscallEvents& syscall = kSyscalls[row];
    char name[kEventNameMax];
    size_t length = string_length(syscall.name);
    __builtin_memcpy(name, "sys_exit_", 9);
    copy_text(name + 9, sizeof(name) - 9, syscall.name, length);
    Event* exit = TRY(create("syscalls", name));
    exit->id = syscall.enter_id + 1;
    exit->syscall_nr = syscall.nr;
    exit->source = EventSource::kSyscallExit;
    if (!add_field(*exit, "int", "__syscall_nr", 8, 4, true) ||
        !add_field(*exit, "long", "ret", 16, 8, true))
      return rt::err(rt::kENOMEM);
    exit->print_fmt.append("\"0x%lx\", REC->ret");

    __builtin_memcpy(name, "sys_enter_", 10);
    copy_text(name + 10, sizeof(name) - 10, syscall.name, length);
    Event* enter = TRY(create("syscalls", name));
    enter->id = syscall.enter_id;
    enter->syscall_nr = syscall.nr;
    enter->source = EventSource::kSyscallEnter;
    if (!add_field(*enter, "int", "__syscall_nr", 8, 4, true)) return rt::err(rt::kENOMEM);
    TextBuffer& format = enter->print_fmt;
    format.append_char('"');
    for (size_t i = 0; i < syscall.argument_count; ++i) {
      const SyscallEvents::Argument& argument = syscall.arguments[i];
      if (!add_field(*enter, argument.type, argument.name, 16 + 8 * i, 8, false))
        return rt::err(rt::kENOMEM);
      if (i > 0) format.append(", ");
      format.append(argument.name);
      format.append(": 0x%08lx");
    }
    format.append_char('"');
    for (size_t i = 0; i < syscall.argument_count; ++i) {
      format.append(", ((unsigned long)(REC->");
      format.append(syscall.arguments[i].name);
      format.append("))");
    }
    if (!exit->print_fmt.ok() || !format.ok()) return rt::err(rt::kENOMEM);
  }
  return {};
}

Event* EventRegistry::find(const char* system, size_t system_length, const char* name,
                           size_t name_length) const {
  for (Event* event : events_) {
    if (text_equals(system, system_length, event->system) &&
        text_equals(name, name_length, event->name))
      return event;
  }
  return nullptr;
}

Event* EventRegistry::find(const char* system, const char* name) const {
  return find(system, string_length(system), name, string_length(name));
}

bool EventRegistry::system_exists(const char* system, size_t length) const {
  for (const Event* event : events_) {
    if (text_equals(system, length, event->system)) return true;
  }
  return false;
}

void EventRegistry::render_available_events(TextBuffer& out) const {
  for (const Event* event : events_) {
    out.append(event->system);
    out.append_char(':');
    out.append(event->name);
    out.append_char('\n');
  }
}

void EventRegistry::render_set_event(TextBuffer& out) const {
  for (const Event* event : events_) {
    if (!event->enabled) continue;
    out.append(event->system);
    out.append_char(':');
    out.append(event->name);
    out.append_char('\n');
  }
}

void EventRegistry::render_format(const Event& event, TextBuffer& out) {
  out.append("name: ");
  out.append(event.name);
  out.append("\nID: ");
  out.append_unsigned(event.id);
  out.append("\nformat:\n");
  for (const EventField& field : kCommonFields) render_field(out, field);
  out.append_char('\n');
  for (const EventField& field : event.fields) render_field(out, field);
  out.append("\nprint fmt: ");
  out.append(event.print_fmt.data(), event.print_fmt.size());
  out.append_char('\n');
}

char EventRegistry::enable_state(const char* system, size_t length) const {
  bool some_on = false, some_off = false;
  for (const Event* event : events_) {
    if (system != nullptr && !text_equals(system, length, event->system)) continue;
    (event->enabled ? some_on : some_off) = true;
  }
  if (some_on && some_off) return 'X';
  return some_on ? '1' : '0';
}

void Event::set_enabled(bool on) {
  static uint64_t enables = 0;
  if (on && !enabled) enabled_order = ++enables;
  enabled = on;
}

void EventRegistry::set_enabled(const char* system, size_t length, bool enabled) {
  for (Event* event : events_) {
    if (system != nullptr && !text_equals(system, length, event->system)) continue;
    event->set_enabled(enabled);
  }
}

rt::Result<void> EventRegistry::set_clear(const char* token, size_t length, bool enable) {
  // "SUB:EVENT" (either part empty or "*" for any), or one word naming an event or a system.
  const char* match = token;
  size_t match_length = length;
  const char* sub = nullptr;
  size_t sub_length = 0;
  const char* name = nullptr;
  size_t name_length = 0;
  for (size_t i = 0; i < length; ++i) {
    if (token[i] != ':') continue;
    sub = token;
    sub_length = i;
    name = token + i + 1;
    name_length = length - i - 1;
    match = nullptr;
    if (sub_length == 0 || text_equals(sub, sub_length, "*")) sub = nullptr;
    if (name_length == 0 || text_equals(name, name_length, "*")) name = nullptr;
    break;
  }
  bool matched = false;
  for (Event* event : events_) {
    if (match != nullptr && !text_equals(match, match_length, event->name) &&
        !text_equals(match, match_length, event->system))
      continue;
    if (sub != nullptr && !text_equals(sub, sub_length, event->system)) continue;
    if (name != nullptr && !text_equals(name, name_length, event->name)) continue;
    event->set_enabled(enable);
    matched = true;
  }
  if (!matched) return rt::err(rt::kEINVAL);
  return {};
}

rt::Result<void> EventRegistry::write_set_event(const char* data, size_t length, bool truncate) {
  if (truncate) set_enabled(nullptr, 0, false);
  size_t i = 0;
  while (i < length) {
    while (i < length && is_space(data[i])) ++i;
    size_t start = i;
    while (i < length && !is_space(data[i])) ++i;
    if (i == start) break;
    bool enable = data[start] != '!';
    if (!enable) ++start;
    TRY(set_clear(data + start, i - start, enable));
  }
  return {};
}

}  // namespace trace
