// SPDX-License-Identifier: MIT
// ProbeEvents: kprobe_events / uprobe_events commands, their errors and error_log lines.
#include "trace/probe_events.hpp"

#include "number.hpp"
#include "rt/errno.hpp"
#include "rt/new.hpp"
#include "trace/filter.hpp"

namespace trace {
namespace {

constexpr size_t kMaxWords = kMaxProbeArgs + 2;
constexpr size_t kMaxLine = 4095;          // WRITE_BUFSIZE less the NUL
constexpr uint64_t kMaxStackIndex = 2048;  // PARAM_MAX_STACK: THREAD_SIZE / sizeof(long)

// x86-64 struct pt_regs, as the register names of Linux's fetch arguments.
constexpr struct {
  const char* name;
  uint32_t offset;
} kRegisters[] = {
    {"r15", 0},     {"r14", 8},  {"r13", 16}, {"r12", 24},      {"bp", 32},  {"bx", 40},
    {"r11", 48},    {"r10", 56}, {"r9", 64},  {"r8", 72},       {"ax", 80},  {"cx", 88},
    {"dx", 96},     {"si", 104}, {"di", 112}, {"orig_ax", 120}, {"ip", 128}, {"cs", 136},
    {"flags", 144}, {"sp", 152}, {"ss", 160},
};

struct TypeInfo {
  const char* name;        // as written after ':'
  const char* field_type;  // as the format file shows it
  uint32_t size;
  bool is_signed;
  const char* print;  // its print-format conversion
};

constexpr TypeInfo kTypes[] = {
    {"u8", "u8", 1, false, "%u"},
    {"u16", "u16", 2, false, "%u"},
    {"u32", "u32", 4, false, "%u"},
    {"u64", "u64", 8, false, "%Lu"},
    {"s8", "s8", 1, true, "%d"},
    {"s16", "s16", 2, true, "%d"},
    {"s32", "s32", 4, true, "%d"},
    {"s64", "s64", 8, true, "%Ld"},
    {"x8", "u8", 1, false, "0x%x"},
    {"x16", "u16", 2, false, "0x%x"},
    {"x32", "u32", 4, false, "0x%x"},
    {"x64", "u64", 8, false, "0x%Lx"},
    {"string", "__data_loc char[]", 4, true, "\\\"%s\\\""},
    {"ustring", "__data_loc char[]", 4, true, "\\\"%s\\\""},
    {"symbol", "u64", 8, false, "%pS"},
};

const TypeInfo& type_info(FetchType type) { return kTypes[static_cast<size_t>(type)]; }
bool is_string(FetchType type) {
  return type == FetchType::kString || type == FetchType::kUserString;
}

constexpr const char* kReservedNames[] = {
    "common_type", "common_flags", "common_preempt_count", "common_pid",
    "common_tgid", "__probe_ip",   "__probe_ret_ip",       "__probe_func",
};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// C identifiers, as Linux's is_good_name.
bool is_good_name(const char* text, size_t length) {
  if (length == 0 || !(is_alpha(text[0]) || text[0] == '_')) return false;
  for (size_t i = 1; i < length; ++i) {
    if (!(is_alpha(text[i]) || is_digit(text[i]) || text[i] == '_')) return false;
  }
  return true;
}

bool equals(const char* text, size_t length, const char* literal) {
  return same_text(text, length, literal);
}

const char* find_char(const char* text, size_t length, char c) {
  for (size_t i = 0; i < length; ++i) {
    if (text[i] == c) return text + i;
  }
  return nullptr;
}

// kstrtoull with base 0 (tracefs/number.hpp).
bool parse_unsigned(const char* text, size_t length, uint64_t& value) {
  return parse_kernel_unsigned(text, length, value);
}

bool parse_signed(const char* text, size_t length, int64_t& value) {
  bool negative = length > 0 && text[0] == '-';
  uint64_t magnitude;
  if (!parse_unsigned(text + (negative ? 1 : 0), length - (negative ? 1 : 0), magnitude))
    return false;
  if (magnitude > (negative ? uint64_t{1} << 63 : uint64_t{INT64_MAX})) return false;
  value = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  return true;
}

}  // namespace

// One command line split into words, with the text Linux logs (the words joined by single
// spaces) and where each word starts in it.
struct ProbeEvents::Command {
  explicit Command(rt::Allocator& allocator) : joined(allocator) {}
  struct Word {
    const char* text;
    size_t length;
    size_t column;
  };
  TextBuffer joined;
  Word words[kMaxWords] = {};
  size_t count = 0;
  uint64_t now_ns = 0;
  bool too_many = false;
};

namespace {

// The parse of one definition; failures log to error_log with the caret at a word's column
// plus an offset into it, as Linux's trace_probe_log_err.
class DefinitionParser {
 public:
  DefinitionParser(ErrorLog& errors, const char* location, uint64_t now_ns, const char* command,
                   size_t command_length)
      : errors_(errors),
        location_(location),
        now_ns_(now_ns),
        command_(command),
        command_length_(command_length) {}

  rt::Error fail(size_t column, const char* message, int code = rt::kEINVAL) {
    errors_.add(now_ns_, location_, message, command_, command_length_, column);
    return rt::err(code);
  }

 private:
  ErrorLog& errors_;
  const char* location_;
  uint64_t now_ns_;
  const char* command_;
  size_t command_length_;
};

struct ArgContext {
  bool is_return;
  bool is_uprobe;
  bool function_entry;  // a kprobe on a function's first instruction
};

// Parses one fetch expression (without name and type) into `arg`; `column` is where it
// starts in the logged command.
rt::Result<void> parse_fetch(DefinitionParser& parser, const ArgContext& context, const char* text,
                             size_t length, size_t column, FetchArg& arg, uint32_t depth) {
  if (length == 0) return parser.fail(column, "Invalid fetch argument");
  switch (text[0]) {
    case '%': {
      for (const auto& reg : kRegisters) {
        if (equals(text + 1, length - 1, reg.name)) {
          arg.base = FetchBase::kRegister;
          arg.register_offset = reg.offset;
          return {};
        }
      }
      return parser.fail(column, "Invalid register name");
    }
    case '$': {
      const char* name = text + 1;
      size_t name_length = length - 1;
      if (equals(name, name_length, "retval")) {
        if (!context.is_return) return parser.fail(column, "$retval is not available on probe");
        arg.base = FetchBase::kReturnValue;
        return {};
      }
      if (equals(name, name_length, "comm") || equals(name, name_length, "COMM")) {
        if (depth > 0) return parser.fail(column, "$comm can not be dereferenced");
        arg.base = FetchBase::kComm;
        return {};
      }
      if (name_length >= 5 && equals(name, 5, "stack")) {
        if (name_length == 5) {
          arg.base = FetchBase::kStackPointer;
          return {};
        }
        uint64_t index;
        if (!parse_unsigned(name + 5, name_length - 5, index) || index > kMaxStackIndex)
          return parser.fail(column, "Invalid stack number");
        arg.base = FetchBase::kStackEntry;
        arg.number = index;
        return {};
      }
      if (name_length >= 3 && equals(name, 3, "arg") && !context.is_uprobe) {
        if (!context.function_entry)
          return parser.fail(column, "$arg* can be used only on function entry or exit");
        uint64_t index;
        if (!parse_unsigned(name + 3, name_length - 3, index) || index == 0 ||
            index > kMaxStackIndex)
          return parser.fail(column, "Invalid argument number");
        arg.base = FetchBase::kArgument;
        arg.number = index;
        return {};
      }
      return parser.fail(column, "Invalid $-valiable specified");
    }
    case '@': {
      if (length >= 2 && is_digit(text[1])) {
        if (!parse_unsigned(text + 1, length - 1, arg.number))
          return parser.fail(column, "Invalid memory address");
        arg.base = FetchBase::kAddress;
      } else if (length >= 2 && text[1] == '+') {
        if (!context.is_uprobe)
          return parser.fail(column, "File offset is not available with kprobe");
        int64_t offset;
        if (!parse_signed(text + 2, length - 2, offset))
          return parser.fail(column, "Invalid file offset value");
        arg.base = FetchBase::kFileOffset;
        arg.number = static_cast<uint64_t>(offset);
      } else {
        if (context.is_uprobe) return parser.fail(column, "Symbol is not available with uprobe");
        // GAP: @SYM is kept by name; the probe manager resolves it when arming.
        if (length < 2 || !copy_text(arg.symbol, sizeof(arg.symbol), text + 1, length - 1))
          return parser.fail(column, "Invalid memory address");
        arg.base = FetchBase::kAddress;
      }
      return {};
    }
    case '+':
    case '-': {
      if (depth >= kMaxDereferences) return parser.fail(column, "Dereference is too much nested");
      size_t i = 1;
      if (i < length && text[i] == 'u') ++i;  // +u: a user-space dereference
      const char* open = find_char(text, length, '(');
      if (open == nullptr) return parser.fail(column, "Dereference needs a brace");
      size_t open_at = open - text;
      int64_t offset;
      bool negative = text[0] == '-';
      uint64_t magnitude;
      if (!parse_unsigned(text + i, open_at - i, magnitude) || magnitude > INT64_MAX)
        return parser.fail(column, "Invalid dereference offset");
      offset = negative ? -static_cast<int64_t>(magnitude) : static_cast<int64_t>(magnitude);
      size_t close_at = length;
      while (close_at > open_at + 1 && text[close_at - 1] != ')') --close_at;
      if (close_at <= open_at + 1 || text[close_at - 1] != ')')
        return parser.fail(column + length, "Dereference brace is not closed");
      if (close_at != length) return parser.fail(column + close_at, "Invalid fetch argument");
      TRY(parse_fetch(parser, context, text + open_at + 1, close_at - 1 - open_at - 1,
                      column + open_at + 1, arg, depth + 1));
      if (arg.base == FetchBase::kImmediateString)
        return parser.fail(column, "$comm can not be dereferenced");
      arg.dereferences[arg.dereference_count++] = offset;
      return {};
    }
    case '\\': {
      if (length >= 2 && text[1] == '"') {
        if (length < 3 || text[length - 1] != '"')
          return parser.fail(column, "String is not closed with '\"'");
        if (depth > 0) return parser.fail(column, "$comm can not be dereferenced");
        if (!copy_text(arg.symbol, sizeof(arg.symbol), text + 2, length - 3))
          return parser.fail(column, "Invalid immediate value");
        arg.base = FetchBase::kImmediateString;
        return {};
      }
      if (!parse_unsigned(text + 1, length - 1, arg.number))
        return parser.fail(column, "Invalid immediate value");
      arg.base = FetchBase::kImmediate;
      return {};
    }
    default: return parser.fail(column, "Invalid fetch argument");
  }
}

// NAME=FETCH[:TYPE] or FETCH[:TYPE] (then named argN, N from 1).
rt::Result<void> parse_arg(DefinitionParser& parser, const ArgContext& context, const char* text,
                           size_t length, size_t column, size_t index,
                           const Vector<FetchArg>& previous, FetchArg& arg) {
  if (length > kMaxArgTextLength) return parser.fail(column, "Argument expression is too long");
  const char* body = text;
  size_t body_length = length;
  size_t body_column = column;
  const char* equal = find_char(text, length, '=');
  size_t name_length;
  if (equal != nullptr) {
    name_length = equal - text;
    if (name_length > kMaxArgNameLength) return parser.fail(column, "Argument name is too long");
    if (name_length == 0) return parser.fail(column, "Argument name is not specified");
    copy_text(arg.name, sizeof(arg.name), text, name_length);
    body = equal + 1;
    body_length = length - name_length - 1;
    body_column = column + name_length + 1;
  } else {
    char digits[24];
    size_t count = 0;
    for (uint64_t n = index + 1; n != 0; n /= 10) digits[count++] = '0' + n % 10;
    __builtin_memcpy(arg.name, "arg", 3);
    for (size_t i = 0; i < count; ++i) arg.name[3 + i] = digits[count - 1 - i];
    arg.name[3 + count] = 0;
    name_length = 3 + count;
  }
  if (!is_good_name(arg.name, name_length))
    return parser.fail(column, "Argument name must follow the same rules as C identifiers");
  bool used = false;
  for (const char* reserved : kReservedNames)
    used = used || equals(arg.name, name_length, reserved);
  for (const FetchArg& other : previous) {
    used = used || equals(arg.name, name_length, other.name);
  }
  if (used) return parser.fail(column, "This argument name is already used");
  if (body_length == 0) return parser.fail(body_column, "No argument expression");
  copy_text(arg.text, sizeof(arg.text), body, body_length);

  // The type after the first ':' of the body.
  const char* colon = find_char(body, body_length, ':');
  size_t fetch_length = colon == nullptr ? body_length : static_cast<size_t>(colon - body);
  bool typed = colon != nullptr;
  if (typed) {
    const char* type = colon + 1;
    size_t type_length = body_length - fetch_length - 1;
    bool found = false;
    for (size_t i = 0; i < sizeof(kTypes) / sizeof(kTypes[0]); ++i) {
      if (equals(type, type_length, kTypes[i].name)) {
        arg.type = static_cast<FetchType>(i);
        found = true;
      }
    }
    // GAP: bitfield (b<width>@<offset>/<size>) and array ([N]) types.
    if (!found) return parser.fail(body_column + fetch_length + 1, "Unknown type is specified");
  }
  TRY(parse_fetch(parser, context, body, fetch_length, body_column, arg, 0));
  bool from_memory = arg.dereference_count > 0 || arg.base == FetchBase::kAddress ||
                     arg.base == FetchBase::kFileOffset;
  bool string_source = arg.base == FetchBase::kComm || arg.base == FetchBase::kImmediateString;
  if (string_source) {
    if (!typed) arg.type = FetchType::kString;
    if (!is_string(arg.type))
      return parser.fail(body_column + fetch_length + 1, "Unknown type is specified");
  } else if (is_string(arg.type) && !from_memory) {
    return parser.fail(body_column + fetch_length + 1, "String accepts only memory argument");
  }
  return {};
}

size_t append_hex16(char* out, uint64_t value) {
  for (int i = 0; i < 16; ++i) out[i] = "0123456789abcdef"[(value >> (60 - 4 * i)) & 0xf];
  return 16;
}

}  // namespace

bool define_probe_fields(const ProbeDefinition& probe, Event& event) {
  auto add = [&](const char* type, const char* name, uint32_t offset, uint32_t size,
                 bool is_signed) {
    EventField field;
    copy_text(field.type, sizeof(field.type), type, string_length(type));
    copy_text(field.name, sizeof(field.name), name, string_length(name));
    field.offset = offset;
    field.size = size;
    field.is_signed = is_signed;
    return event.fields.push_back(static_cast<EventField&&>(field));
  };
  event.fields.clear();
  event.print_fmt.clear();
  uint32_t offset = kCommonFieldsSize;
  if (probe.is_return) {
    if (!add("unsigned long", "__probe_func", offset, 8, false) ||
        !add("unsigned long", "__probe_ret_ip", offset + 8, 8, false))
      return false;
    offset += 16;
    event.print_fmt.append("\"(%lx <- %lx)");
  } else {
    if (!add("unsigned long", "__probe_ip", offset, 8, false)) return false;
    offset += 8;
    event.print_fmt.append("\"(%lx)");
  }
  for (const FetchArg& arg : probe.args) {
    const TypeInfo& info = type_info(arg.type);
    if (!add(info.field_type, arg.name, offset, info.size, info.is_signed)) return false;
    offset += info.size;
    event.print_fmt.append_char(' ');
    event.print_fmt.append(arg.name);
    event.print_fmt.append_char('=');
    event.print_fmt.append(info.print);
  }
  event.print_fmt.append(probe.is_return ? "\", REC->__probe_func, REC->__probe_ret_ip"
                                         : "\", REC->__probe_ip");
  for (const FetchArg& arg : probe.args) {
    if (is_string(arg.type)) {
      event.print_fmt.append(", __get_str(");
      event.print_fmt.append(arg.name);
      event.print_fmt.append_char(')');
    } else {
      event.print_fmt.append(", REC->");
      event.print_fmt.append(arg.name);
    }
  }
  return event.print_fmt.ok();
}

ProbeEvents::~ProbeEvents() {
  while (!probes_.empty()) destroy(probes_.size() - 1);
}

void ProbeEvents::destroy(size_t index) {
  ProbeDefinition* probe = probes_[index];
  probes_.erase(index);
  if (probe->event != nullptr) registry_.remove(probe->event);
  rt::Allocator& allocator = registry_.allocator();
  probe->~ProbeDefinition();
  allocator.deallocate(probe, sizeof(ProbeDefinition));
}

rt::Result<void> ProbeEvents::for_each_command(const char* data, size_t length,
                                               CommandFunction command, void* state) {
  size_t start = 0;
  while (start < length) {
    size_t end = start;
    while (end < length && data[end] != '\n') ++end;
    size_t line_end = end;
    const char* comment = find_char(data + start, end - start, '#');
    if (comment != nullptr) line_end = comment - data;
    if (end - start > kMaxLine) return rt::err(rt::kEINVAL);
    TRY(command(state, data + start, line_end - start));
    start = end + 1;
  }
  return {};
}

rt::Result<void> ProbeEvents::write(const char* data, size_t length, bool truncate,
                                    uint64_t now_ns) {
  if (truncate) TRY(remove_all());
  struct Writer {
    ProbeEvents* probes;
    uint64_t now_ns;
  } writer{this, now_ns};
  return for_each_command(
      data, length,
      [](void* state, const char* line, size_t line_length) {
        auto& w = *static_cast<Writer*>(state);
        return w.probes->run_command(line, line_length, w.now_ns);
      },
      &writer);
}

rt::Result<void> ProbeEvents::run_command(const char* line, size_t length, uint64_t now_ns) {
  Command command(registry_.allocator());
  command.now_ns = now_ns;
  size_t i = 0;
  while (i < length) {
    while (i < length && is_space(line[i])) ++i;
    size_t start = i;
    while (i < length && !is_space(line[i])) ++i;
    if (i == start) break;
    if (command.count == kMaxWords) {
      command.too_many = true;
      break;
    }
    if (command.count > 0) command.joined.append_char(' ');
    command.words[command.count++] = {line + start, i - start, command.joined.size()};
    command.joined.append(line + start, i - start);
  }
  if (!command.joined.ok()) return rt::err(rt::kENOMEM);
  if (command.count == 0) return {};
  if (command.words[0].text[0] == '-') return remove(command);
  return create(command);
}

rt::Result<void> ProbeEvents::create(Command& command) {
  const char* location = uprobes_ ? "trace_uprobe" : "trace_kprobe";
  DefinitionParser parser(errors_, location, command.now_ns, command.joined.data(),
                          command.joined.size());
  const Command::Word& head = command.words[0];
  if (head.text[0] != 'p' && head.text[0] != 'r') return rt::err(rt::kEINVAL);
  if (command.count < 2) return rt::err(rt::kEINVAL);
  if (command.too_many) return rt::err(rt::kE2BIG);
  rt::Allocator& allocator = registry_.allocator();
  void* memory = allocator.allocate(sizeof(ProbeDefinition), alignof(ProbeDefinition));
  if (memory == nullptr) return rt::err(rt::kENOMEM);
  ProbeDefinition* probe = new (memory) ProbeDefinition(allocator);
  struct Guard {
    ProbeDefinition* probe;
    rt::Allocator& allocator;
    ~Guard() {
      if (probe != nullptr) {
        probe->~ProbeDefinition();
        allocator.deallocate(probe, sizeof(ProbeDefinition));
      }
    }
  } guard{probe, allocator};
  probe->is_return = head.text[0] == 'r';
  probe->is_uprobe = uprobes_;

  // p|r[MAXACTIVE][:[GRP/]EVENT]
  const char* event_text = find_char(head.text + 1, head.length - 1, ':');
  if (!uprobes_ && head.length > 1 && is_digit(head.text[1])) {
    if (!probe->is_return)
      return parser.fail(head.column + 1, "Maxactive is only for function exit");
    size_t digits_end = event_text != nullptr ? event_text - head.text : head.length;
    uint64_t max_active;
    if (!parse_unsigned(head.text + 1, digits_end - 1, max_active) || max_active == 0)
      return parser.fail(head.column + 1, "Invalid maxactive number");
    if (max_active > kMaxActiveLimit) return parser.fail(head.column + 1, "Maxactive is too big");
    probe->max_active = static_cast<uint32_t>(max_active);
  }

  // The probed place.
  const Command::Word& target = command.words[1];
  bool function_entry = false;
  if (uprobes_) {
    // PATH:OFFSET[(REF_CTR_OFFSET)]
    const char* colon = nullptr;
    for (size_t i = target.length; i-- > 0;) {
      if (target.text[i] == ':') {
        colon = target.text + i;
        break;
      }
    }
    if (colon == nullptr || colon + 1 >= target.text + target.length || !is_digit(colon[1])) {
      (void)parser.fail(target.column, "Invalid uprobe offset");
      return rt::err(rt::kEINVAL);
    }
    size_t path_length = colon - target.text;
    int status = targets_.user_file_status(target.text, path_length);
    if (status == rt::kENOENT)
      return parser.fail(target.column, "Failed to find the given file", status);
    if (status != 0) return parser.fail(target.column, "Not a regular file", status);
    const char* offset_text = colon + 1;
    size_t offset_length = target.text + target.length - offset_text;
    const char* brace = find_char(offset_text, offset_length, '(');
    if (brace != nullptr) {
      size_t ref_at = brace - target.text;
      if (target.text[target.length - 1] != ')')
        return parser.fail(target.column + ref_at, "Reference counter brace is not closed");
      if (!parse_unsigned(brace + 1, target.text + target.length - 1 - brace - 1,
                          probe->ref_ctr_offset))
        return parser.fail(target.column + ref_at + 1, "Invalid reference counter offset");
      offset_length = brace - offset_text;
    }
    if (!parse_unsigned(offset_text, offset_length, probe->offset))
      return parser.fail(target.column + (offset_text - target.text), "Invalid uprobe offset");
    probe->target.append(target.text, path_length);
  } else {
    uint64_t address;
    if (parse_unsigned(target.text, target.length, address)) {
      probe->address = address;
    } else {
      const char* sign = nullptr;
      for (size_t i = 0; i < target.length && sign == nullptr; ++i) {
        if (target.text[i] == '+' || target.text[i] == '-') sign = target.text + i;
      }
      size_t symbol_length = sign != nullptr ? sign - target.text : target.length;
      int64_t offset = 0;
      if (sign != nullptr &&
          !parse_signed(sign + (sign[0] == '+' ? 1 : 0),
                        target.length - symbol_length - (sign[0] == '+' ? 1 : 0), offset))
        return parser.fail(target.column, "Invalid probed address or symbol");
      if (offset < 0 || offset > UINT32_MAX || symbol_length == 0)
        return parser.fail(target.column, "Invalid probed address or symbol");
      if (probe->is_return && offset != 0)
        return parser.fail(target.column, "Retprobe address must be an function entry");
      probe->offset = static_cast<uint64_t>(offset);
      probe->target.append(target.text, symbol_length);
      function_entry = offset == 0;
    }
  }

  // The event's name and group.
  char group[kEventNameMax + 1];
  char name[kEventNameMax + 1];
  const char* default_group = uprobes_ ? "uprobes" : "kprobes";
  copy_text(group, sizeof(group), default_group, string_length(default_group));
  if (event_text != nullptr) {
    size_t column = head.column + (event_text - head.text) + 1;
    const char* text = event_text + 1;
    size_t length = head.text + head.length - text;
    const char* slash = find_char(text, length, '/');
    if (slash == nullptr) slash = find_char(text, length, '.');
    if (slash != nullptr) {
      size_t group_length = slash - text;
      if (group_length == 0) return parser.fail(column, "Group name is not specified");
      if (group_length > kEventNameMax) return parser.fail(column, "Group name is too long");
      if (!is_good_name(text, group_length))
        return parser.fail(column, "Group name must follow the same rules as C identifiers");
      copy_text(group, sizeof(group), text, group_length);
      column += group_length + 1;
      length -= group_length + 1;
      text = slash + 1;
    }
    if (length == 0) return parser.fail(column, "Event name is not specified");
    if (length > kEventNameMax) return parser.fail(column, "Event name is too long");
    if (!is_good_name(text, length))
      return parser.fail(column, "Event name must follow the same rules as C identifiers");
    copy_text(name, sizeof(name), text, length);
  } else {
    // p_do_unlinkat_0, r_0xADDRESS, p_bash_0x4245c0: Linux's defaults, '.' and ':' made '_'.
    TextBuffer made(allocator);
    made.append_char(probe->is_return ? 'r' : 'p');
    made.append_char('_');
    if (uprobes_) {
      const char* path = probe->target.data();
      size_t base = probe->target.size();
      while (base > 0 && path[base - 1] != '/') --base;
      made.append(path + base, probe->target.size() - base);
      made.append("_0x");
      made.append_unsigned(probe->offset, 16);
    } else if (!probe->target.empty()) {
      made.append(probe->target.data(), probe->target.size());
      made.append_char('_');
      made.append_unsigned(probe->offset);
    } else {
      char hex[16];
      made.append("0x");
      made.append(hex, append_hex16(hex, probe->address));
    }
    if (!made.ok()) return rt::err(rt::kENOMEM);
    copy_text(name, sizeof(name), made.data(), made.size());
    for (char* c = name; *c != 0; ++c) {
      if (*c == '.' || *c == ':' || *c == '-') *c = '_';
    }
  }

  // The fetch arguments.
  ArgContext context{probe->is_return, uprobes_, function_entry};
  for (size_t i = 2; i < command.count; ++i) {
    const Command::Word& word = command.words[i];
    FetchArg arg;
    TRY(parse_arg(parser, context, word.text, word.length, word.column, i - 2, probe->args, arg));
    if (!probe->args.push_back(static_cast<FetchArg&&>(arg))) return rt::err(rt::kENOMEM);
  }
  if (!probe->target.ok()) return rt::err(rt::kENOMEM);

  // Registration: the name must be free, the kernel function must exist.
  Event* existing = registry_.find(group, name);
  if (existing != nullptr) {
    if (existing->source == (uprobes_ ? EventSource::kUprobe : EventSource::kKprobe)) {
      const ProbeDefinition* other = static_cast<const ProbeDefinition*>(existing->probe);
      if (other->is_return != probe->is_return)
        return parser.fail(0, "Probe type is different from existing probe", rt::kEEXIST);
    }
    // GAP: Linux appends a probe with the same arguments to an existing event.
    return parser.fail(0, "Given group/event name is already used by another event", rt::kEEXIST);
  }
  if (!uprobes_ && !probe->target.empty() &&
      !targets_.kernel_symbol_exists(probe->target.data(), probe->target.size()))
    return parser.fail(target.column, "Invalid probed address or symbol", rt::kENOENT);
  // Linux registers the kprobe at definition, and register_kprobe refuses blacklisted code.
  if (!uprobes_ && !probe->target.empty()) {
    int refused =
        targets_.kernel_probe_error(probe->target.data(), probe->target.size(), probe->offset);
    if (refused == rt::kEILSEQ)
      return parser.fail(target.column, "Probe point is not an instruction boundary", rt::kEILSEQ);
    if (refused != 0)
      return parser.fail(target.column, "Failed to register probe event", rt::kEINVAL);
  }
  if (probe->is_return && !uprobes_ && probe->max_active == 0)
    probe->max_active = possible_cpus_ * 2 > 10 ? possible_cpus_ * 2 : 10;

  uint32_t offset = kCommonFieldsSize + (probe->is_return ? 16 : 8);
  for (FetchArg& arg : probe->args) {
    arg.field_offset = offset;
    offset += type_info(arg.type).size;
  }
  Event* event = TRY(registry_.create(group, name));
  event->source = uprobes_ ? EventSource::kUprobe : EventSource::kKprobe;
  event->probe = probe;
  if (!define_probe_fields(*probe, *event) ||
      !probes_.push_back(static_cast<ProbeDefinition*&&>(probe))) {
    registry_.remove(event);
    return rt::err(rt::kENOMEM);
  }
  probe->event = event;
  if (created_counter_ != nullptr) probe->created = ++*created_counter_;
  guard.probe = nullptr;
  return {};
}

rt::Result<void> ProbeEvents::remove(Command& command) {
  const Command::Word& head = command.words[0];
  if (head.length < 2 || head.text[1] != ':') return rt::err(rt::kEINVAL);
  const char* text = head.text + 2;
  size_t length = head.length - 2;
  const char* group = nullptr;
  size_t group_length = 0;
  const char* slash = find_char(text, length, '/');
  if (slash != nullptr) {
    group = text;
    group_length = slash - text;
    length -= group_length + 1;
    text = slash + 1;
  }
  if (length == 0) return rt::err(rt::kEINVAL);
  for (size_t i = 0; i < probes_.size(); ++i) {
    Event* event = probes_[i]->event;
    if (!same_text(text, length, event->name)) continue;
    if (group != nullptr && !same_text(group, group_length, event->system)) continue;
    if (event->enabled || event->users > 0) return rt::err(rt::kEBUSY);
    destroy(i);
    return {};
  }
  return rt::err(rt::kENOENT);
}

rt::Result<void> ProbeEvents::remove_all() {
  if (busy()) return rt::err(rt::kEBUSY);
  while (!probes_.empty()) destroy(probes_.size() - 1);
  return {};
}

void ProbeEvents::render_profile(TextBuffer& out) const {
  constexpr size_t kNameWidth = 44, kCountWidth = 15;
  for (const ProbeDefinition* probe : probes_) {
    out.append("  ");
    if (uprobes_) {
      out.append(probe->target.data(), probe->target.size());
      out.append_char(' ');
    }
    size_t name_length = string_length(probe->event->name);
    out.append(probe->event->name, name_length);
    if (name_length < kNameWidth) out.append_repeated(' ', kNameWidth - name_length);
    out.append_char(' ');
    out.append_unsigned(probe->hits, 10, kCountWidth);
    // GAP: kprobes miss nothing Sonde counts (a return past the POSIX server's 64 pending
    // returns goes unprobed uncounted), so the misses column is 0.
    if (!uprobes_) {
      out.append_char(' ');
      out.append_unsigned(0, 10, kCountWidth);
    }
    out.append_char('\n');
  }
}

void ProbeEvents::render(TextBuffer& out) const {
  for (const ProbeDefinition* probe : probes_) {
    render_definition(*probe, out);
    out.append_char('\n');
  }
}

bool ProbeEvents::busy() const {
  for (const ProbeDefinition* probe : probes_) {
    if (probe->event->enabled || probe->event->users > 0) return true;
  }
  return false;
}

void ProbeEvents::render_definition(const ProbeDefinition& definition, TextBuffer& out) {
  const ProbeDefinition* probe = &definition;
  out.append_char(probe->is_return ? 'r' : 'p');
  if (probe->is_return && probe->max_active != 0) out.append_unsigned(probe->max_active);
  out.append_char(':');
  out.append(probe->event->system);
  out.append_char('/');
  out.append(probe->event->name);
  out.append_char(' ');
  if (probe->is_uprobe) {
    out.append(probe->target.data(), probe->target.size());
    char hex[16];
    out.append(":0x");
    out.append(hex, append_hex16(hex, probe->offset));
    if (probe->ref_ctr_offset != 0) {
      out.append("(0x");
      out.append_unsigned(probe->ref_ctr_offset, 16);
      out.append_char(')');
    }
  } else if (probe->target.empty()) {
    // GAP: Linux prints the address through %p, hashed unless no_hash_pointers.
    char hex[16];
    out.append("0x");
    out.append(hex, append_hex16(hex, probe->address));
  } else {
    out.append(probe->target.data(), probe->target.size());
    if (probe->offset != 0) {
      out.append_char('+');
      out.append_unsigned(probe->offset);
    }
  }
  for (const FetchArg& arg : probe->args) {
    out.append_char(' ');
    out.append(arg.name);
    out.append_char('=');
    out.append(arg.text);
  }
}

}  // namespace trace
