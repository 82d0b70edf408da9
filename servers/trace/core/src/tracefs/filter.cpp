// SPDX-License-Identifier: MIT
// Event filters: a parser with Linux's grammar, errors and positions, and a tree evaluator.
#include "trace/filter.hpp"

#include "number.hpp"
#include "rt/errno.hpp"
#include "rt/new.hpp"
#include "trace/trace_buffer.hpp"
#include "trace/vector.hpp"

namespace trace {
namespace {

constexpr size_t kMaxStringValue = 256;  // MAX_FILTER_STR_VAL
constexpr size_t kMaxNumberText = 24;
constexpr uint32_t kMaxNesting = 32;  // GAP: Linux nests "(" as deep as a page allows
constexpr size_t kMaxFilterLength = 4096;

enum class Op : uint8_t { kGlob, kNe, kEq, kLe, kLt, kGe, kGt, kBand };
// Linux's operator order: a longer operator before its prefix.
constexpr struct {
  const char* text;
  Op op;
} kOps[] = {{"~", Op::kGlob}, {"!=", Op::kNe}, {"==", Op::kEq}, {"<=", Op::kLe},
            {"<", Op::kLt},   {">=", Op::kGe}, {">", Op::kGt},  {"&", Op::kBand}};

enum class MatchKind : uint8_t { kFull, kFront, kMiddle, kEnd, kGlob };

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// kstrtoull with base 0 (tracefs/number.hpp).
bool parse_unsigned(const char* text, size_t length, uint64_t& value) {
  return parse_kernel_unsigned(text, length, value);
}

bool parse_signed(const char* text, size_t length, uint64_t& value) {
  bool negative = length > 0 && text[0] == '-';
  uint64_t magnitude;
  if (!parse_unsigned(text + (negative ? 1 : 0), length - (negative ? 1 : 0), magnitude))
    return false;
  if (negative) {
    if (magnitude > uint64_t{1} << 63) return false;
    value = 0 - magnitude;
  } else {
    if (magnitude > INT64_MAX) return false;
    value = magnitude;
  }
  return true;
}

}  // namespace

struct Predicate {
  EventField field;
  FieldKind kind;
  Op op;
  bool invert;  // != and a glob starting with '!'
  uint64_t value;
  MatchKind match;
  char pattern[kMaxStringValue];
  size_t pattern_length;
};

// A node is a predicate, a NOT of one node, or an AND / OR of `child_count` nodes listed at
// `first_child` in the children array.
struct FilterNode {
  enum Kind : uint8_t { kPredicate, kNot, kAnd, kOr } kind;
  uint32_t index;  // predicate index, or first child
  uint32_t count;  // children
};

class FilterProgram {
 public:
  explicit FilterProgram(rt::Allocator& allocator)
      : allocator(allocator), predicates(allocator), nodes(allocator), children(allocator) {}
  rt::Allocator& allocator;
  Vector<Predicate*> predicates;
  Vector<FilterNode> nodes;
  Vector<uint32_t> children;
  uint32_t root = 0;
  ~FilterProgram() {
    for (Predicate* predicate : predicates) allocator.deallocate(predicate, sizeof(Predicate));
  }
};

namespace {

class Parser {
 public:
  Parser(const Event& event, const char* text, size_t length, FilterProgram& program,
         FilterParseError& error)
      : event_(event), text_(text), length_(length), program_(program), error_(error) {}

  // Returns the root node, or false with error_ set (or errno_ for a bare failure).
  bool parse(uint32_t& root) {
    if (!check_balance()) return false;
    if (!parse_or(root, 0)) return false;
    skip_spaces();
    if (at_ < length_) return fail(FilterError::kTooManyPreds, at_);
    return true;
  }
  int errno_value = rt::kEINVAL;

 private:
  bool fail(FilterError error, size_t position) {
    error_.error = error;
    error_.position = static_cast<uint32_t>(position);
    return false;
  }
  // Linux gives up without naming an error ("Error: (0)"): EINVAL for a text without a
  // predicate, EPERM (its parser's bare -1) for a predicate without a field name.
  bool fail_bare(int errno_value_to_return) {
    error_.error = FilterError::kNone;
    errno_value = errno_value_to_return;
    return false;
  }
  bool out_of_memory() {
    errno_value = rt::kENOMEM;
    error_.error = FilterError::kNone;
    return false;
  }
  void skip_spaces() {
    while (at_ < length_ && is_space(text_[at_])) ++at_;
  }
  char peek(size_t offset = 0) const { return at_ + offset < length_ ? text_[at_ + offset] : 0; }

  // Quotes and parentheses first, over the whole text, as Linux does before parsing.
  bool check_balance() {
    int open = 0;
    char quote = 0;
    size_t last_quote = 0;
    for (size_t i = 0; i < length_; ++i) {
      char c = text_[i];
      if (quote != 0) {
        if (c == quote) quote = 0;
        continue;
      }
      if (c == '\'' || c == '"') {
        quote = c;
        last_quote = i;
      } else if (c == '(') {
        ++open;
      } else if (c == ')') {
        if (open == 0) return fail(FilterError::kTooManyClose, i);
        --open;
      }
    }
    if (quote != 0) return fail(FilterError::kMissingQuote, last_quote);
    if (open > 0) {
      // The unmatched '(': scanning back, the one that takes the level to zero.
      int level = open;
      quote = 0;
      for (size_t i = length_; i-- > 1;) {
        char c = text_[i];
        if (quote != 0) {
          if (c == quote) quote = 0;
          continue;
        }
        if (c == '(') {
          if (level == open) return fail(FilterError::kTooManyOpen, i);
          --level;
        } else if (c == ')') {
          ++level;
        } else if (c == '\'' || c == '"') {
          quote = c;
        }
      }
      return fail(FilterError::kTooManyOpen, 0);
    }
    bool any = false;
    for (size_t i = 0; i < length_; ++i) {
      char c = text_[i];
      if (!is_space(c) && c != '(' && c != ')' && c != '&' && c != '|') any = true;
    }
    if (!any) return fail_bare(rt::kEINVAL);
    return true;
  }

  bool add_node(FilterNode node, uint32_t& index) {
    index = static_cast<uint32_t>(program_.nodes.size());
    if (!program_.nodes.push_back(static_cast<FilterNode&&>(node))) return out_of_memory();
    return true;
  }

  // A chain of `op` ("&&" or "||") over operands parsed by `operand`.
  template <typename Operand>
  bool parse_chain(uint32_t& node, char op, FilterNode::Kind kind, Operand operand) {
    uint32_t first;
    if (!operand(first)) return false;
    skip_spaces();
    if (!(peek() == op && peek(1) == op)) {
      node = first;
      return true;
    }
    Vector<uint32_t> operands(program_.allocator);
    if (!operands.push_back(static_cast<uint32_t&&>(first))) return out_of_memory();
    while (peek() == op && peek(1) == op) {
      at_ += 2;
      uint32_t next;
      if (!operand(next)) return false;
      if (!operands.push_back(static_cast<uint32_t&&>(next))) return out_of_memory();
      skip_spaces();
    }
    uint32_t start = static_cast<uint32_t>(program_.children.size());
    for (uint32_t child : operands) {
      if (!program_.children.push_back(static_cast<uint32_t&&>(child))) return out_of_memory();
    }
    return add_node({kind, start, static_cast<uint32_t>(operands.size())}, node);
  }

  bool parse_or(uint32_t& node, uint32_t depth) {
    return parse_chain(node, '|', FilterNode::kOr, [&](uint32_t& operand) {
      return parse_chain(operand, '&', FilterNode::kAnd,
                         [&](uint32_t& term) { return parse_term(term, depth); });
    });
  }

  // [!]... ( expression ) or a predicate.
  bool parse_term(uint32_t& node, uint32_t depth) {
    bool invert = false;
    for (;;) {
      skip_spaces();
      if (peek() == '!' && peek(1) != '=' && peek(1) != '~') {
        invert = !invert;
        ++at_;
        continue;
      }
      break;
    }
    if (at_ >= length_) return fail(FilterError::kInvalidFilter, length_);
    uint32_t inner;
    if (peek() == '(') {
      if (depth >= kMaxNesting) return fail(FilterError::kTooManyOpen, at_);
      ++at_;
      if (!parse_or(inner, depth + 1)) return false;
      skip_spaces();
      if (peek() != ')') return fail(FilterError::kTooManyPreds, at_);
      ++at_;
    } else {
      if (!parse_predicate(inner)) return false;
    }
    if (!invert) {
      node = inner;
      return true;
    }
    return add_node({FilterNode::kNot, inner, 0}, node);
  }

  // FIELD OP VALUE. Positions are reported one past the character, as Linux does.
  bool parse_predicate(uint32_t& node) {
    size_t base = at_ + 1;  // Linux's `pos`: errors are at pos + (offset from here)
    size_t start = at_;
    size_t i = at_;
    while (i < length_ && (is_alnum(text_[i]) || text_[i] == '_')) ++i;
    if (i == start) return fail_bare(rt::kEPERM);
    const EventField* field = event_.find_field(text_ + start, i - start);
    if (field == nullptr) return fail(FilterError::kFieldNotFound, base + (i - at_));
    while (i < length_ && is_space(text_[i])) ++i;
    Op op = Op::kEq;
    bool found = false;
    for (const auto& candidate : kOps) {
      size_t op_length = string_length(candidate.text);
      if (i + op_length <= length_ && same_prefix(text_ + i, candidate.text, op_length)) {
        op = candidate.op;
        i += op_length;
        found = true;
        break;
      }
    }
    if (!found) return fail(FilterError::kInvalidOp, base + (i - at_));
    while (i < length_ && is_space(text_[i])) ++i;
    size_t value_start = i;

    void* memory = program_.allocator.allocate(sizeof(Predicate), alignof(Predicate));
    if (memory == nullptr) return out_of_memory();
    Predicate* predicate = new (memory) Predicate{};
    if (!program_.predicates.push_back(static_cast<Predicate*&&>(predicate))) {
      program_.allocator.deallocate(memory, sizeof(Predicate));
      return out_of_memory();
    }
    predicate->field = *field;
    predicate->kind = field_kind(*field);
    predicate->op = op;
    bool string_field = predicate->kind != FieldKind::kNumber && predicate->kind != FieldKind::kCpu;
    char c = i < length_ ? text_[i] : 0;
    if (c == '\'' || c == '"') {
      if (op != Op::kNe && op != Op::kGlob && op != Op::kEq)
        return fail(FilterError::kIllegalFieldOp, base + (i - at_));
      if (!string_field) return fail(FilterError::kExpectDigit, base + (i - at_));
      ++i;
      while (i < length_ && text_[i] != c) ++i;
      if (i >= length_) return fail(FilterError::kMissingQuote, base + (i - at_));
      size_t value_length = i - value_start - 1;
      if (value_length >= kMaxStringValue)
        return fail(FilterError::kOperandTooLong, base + (i - at_));
      set_pattern(*predicate, text_ + value_start + 1, value_length);
      ++i;
    } else if (is_digit(c) || c == '-') {
      if (string_field) return fail(FilterError::kExpectString, base + (i - at_));
      if (op == Op::kGlob) return fail(FilterError::kIllegalFieldOp, base + (i - at_));
      if (c == '-') ++i;
      while (i < length_ && is_alnum(text_[i])) ++i;
      size_t value_length = i - value_start;
      if (value_length >= kMaxNumberText)
        return fail(FilterError::kOperandTooLong, base + (i - at_));
      bool parsed = field->is_signed
                        ? parse_signed(text_ + value_start, value_length, predicate->value)
                        : parse_unsigned(text_ + value_start, value_length, predicate->value);
      if (!parsed) return fail(FilterError::kIllegalIntval, base + (value_start - at_));
      uint32_t size = field->size;
      if (predicate->kind == FieldKind::kNumber && size != 1 && size != 2 && size != 4 && size != 8)
        return fail(FilterError::kIllegalFieldOp, base + (value_start - at_));
      predicate->invert = op == Op::kNe;
    } else {
      return fail(FilterError::kInvalidValue, base + (i - at_));
    }
    at_ = i;
    return add_node(
        {FilterNode::kPredicate, static_cast<uint32_t>(program_.predicates.size() - 1), 0}, node);
  }

  static bool same_prefix(const char* a, const char* b, size_t length) {
    for (size_t i = 0; i < length; ++i) {
      if (a[i] != b[i]) return false;
    }
    return true;
  }

  // "==" and "!=" compare whole strings; "~" takes a glob, simple forms matched directly.
  static void set_pattern(Predicate& predicate, const char* value, size_t length) {
    predicate.invert = predicate.op == Op::kNe;
    predicate.match = MatchKind::kFull;
    if (predicate.op == Op::kGlob) {
      if (length > 0 && value[0] == '!') {
        predicate.invert = true;
        ++value;
        --length;
      }
      MatchKind kind = MatchKind::kFull;
      bool glob = false;
      for (size_t i = 0; i < length && !glob; ++i) {
        char c = value[i];
        if (c == '*') {
          if (i == 0) {
            kind = MatchKind::kEnd;
          } else if (i == length - 1) {
            kind = kind == MatchKind::kEnd ? MatchKind::kMiddle : MatchKind::kFront;
            length = i;  // the trailing '*' is not part of the text to find
          } else {
            glob = true;
          }
        } else if (c == '[' || c == '?' || c == '\\') {
          glob = true;
        }
      }
      if (glob) {
        kind = MatchKind::kGlob;
      } else if (kind == MatchKind::kEnd || kind == MatchKind::kMiddle) {
        ++value;
        --length;
      }
      predicate.match = kind;
    }
    __builtin_memcpy(predicate.pattern, value, length);
    predicate.pattern[length] = 0;
    predicate.pattern_length = length;
  }

  const Event& event_;
  const char* text_;
  size_t length_;
  FilterProgram& program_;
  FilterParseError& error_;
  size_t at_ = 0;
};

bool contains(const char* text, size_t length, const char* pattern, size_t pattern_length) {
  if (pattern_length > length) return false;
  for (size_t i = 0; i + pattern_length <= length; ++i) {
    bool same = true;
    for (size_t j = 0; j < pattern_length && same; ++j) same = text[i + j] == pattern[j];
    if (same) return true;
  }
  return false;
}

bool string_matches(const Predicate& predicate, const char* text, size_t length) {
  size_t n = 0;  // the string ends at its NUL or its bound
  while (n < length && text[n] != 0) ++n;
  const char* pattern = predicate.pattern;
  size_t p = predicate.pattern_length;
  switch (predicate.match) {
    case MatchKind::kFull: return n == p && contains(text, n, pattern, p);
    case MatchKind::kFront: return n >= p && contains(text, p, pattern, p);
    case MatchKind::kMiddle: return contains(text, n, pattern, p);
    case MatchKind::kEnd: return n >= p && contains(text + n - p, p, pattern, p);
    case MatchKind::kGlob: return glob_match(pattern, p, text, n);
  }
  return false;
}

bool read_number(const FilterRecord& record, const EventField& field, uint64_t& value) {
  if (field.offset + field.size > record.size) return false;
  const uint8_t* at = record.data + field.offset;
  switch (field.size) {
    case 1: {
      uint8_t v = at[0];
      value = field.is_signed ? static_cast<uint64_t>(static_cast<int8_t>(v)) : v;
      return true;
    }
    case 2: {
      uint16_t v;
      __builtin_memcpy(&v, at, 2);
      value = field.is_signed ? static_cast<uint64_t>(static_cast<int16_t>(v)) : v;
      return true;
    }
    case 4: {
      uint32_t v;
      __builtin_memcpy(&v, at, 4);
      value = field.is_signed ? static_cast<uint64_t>(static_cast<int32_t>(v)) : v;
      return true;
    }
    case 8: __builtin_memcpy(&value, at, 8); return true;
  }
  return false;
}

// Compares at the field's width and signedness, as Linux casts the value to the field's type.
bool compare(Op op, uint64_t field_value, uint64_t value, uint32_t size, bool is_signed) {
  uint64_t mask = size >= 8 ? UINT64_MAX : (uint64_t{1} << (size * 8)) - 1;
  uint64_t a = field_value & mask;
  uint64_t b = value & mask;
  if (op == Op::kEq || op == Op::kNe) return a == b;  // the caller inverts for !=
  if (op == Op::kBand) return (a & b) != 0;
  bool less, equal = a == b;
  if (is_signed) {
    unsigned shift = 64 - size * 8;
    int64_t sa = static_cast<int64_t>(a << shift) >> shift;
    int64_t sb = static_cast<int64_t>(b << shift) >> shift;
    less = sa < sb;
  } else {
    less = a < b;
  }
  switch (op) {
    case Op::kLt: return less;
    case Op::kLe: return less || equal;
    case Op::kGt: return !less && !equal;
    case Op::kGe: return !less;
    default: return false;
  }
}

bool predicate_matches(const Predicate& predicate, const FilterRecord& record) {
  const EventField& field = predicate.field;
  switch (predicate.kind) {
    case FieldKind::kNumber: {
      uint64_t value;
      if (!read_number(record, field, value)) return false;
      return compare(predicate.op, value, predicate.value, field.size, field.is_signed) !=
             predicate.invert;
    }
    case FieldKind::kCpu: {
      if (predicate.op == Op::kBand) return false;
      bool result = compare(predicate.op, record.cpu, predicate.value, 4, true);
      return predicate.op == Op::kNe ? !result : result;
    }
    case FieldKind::kComm:
      return string_matches(predicate, record.comm, kTaskCommLen) != predicate.invert;
    case FieldKind::kStaticString:
      if (field.offset + field.size > record.size) return false;
      return string_matches(predicate, reinterpret_cast<const char*>(record.data) + field.offset,
                            field.size) != predicate.invert;
    case FieldKind::kDynamicString: {
      if (field.offset + 4 > record.size) return false;
      uint32_t location;
      __builtin_memcpy(&location, record.data + field.offset, 4);
      uint32_t offset = location & 0xffff, length = location >> 16;
      if (offset + length > record.size) return false;
      return string_matches(predicate, reinterpret_cast<const char*>(record.data) + offset,
                            length) != predicate.invert;
    }
    case FieldKind::kPointerString:
      // Linux 6.1 reads the string with a kernel-memory copy, which fails for the user
      // pointers of syscall arguments: the predicate never matches, not even with !=.
      return false;
  }
  return false;
}

bool node_matches(const FilterProgram& program, uint32_t index, const FilterRecord& record) {
  const FilterNode& node = program.nodes[index];
  switch (node.kind) {
    case FilterNode::kPredicate: return predicate_matches(*program.predicates[node.index], record);
    case FilterNode::kNot: return !node_matches(program, node.index, record);
    case FilterNode::kAnd:
      for (uint32_t i = 0; i < node.count; ++i) {
        if (!node_matches(program, program.children[node.index + i], record)) return false;
      }
      return true;
    case FilterNode::kOr:
      for (uint32_t i = 0; i < node.count; ++i) {
        if (node_matches(program, program.children[node.index + i], record)) return true;
      }
      return false;
  }
  return false;
}

// Matches one character class at pattern[*at] ('[' already consumed); advances *at past ']'.
bool class_matches(const char* pattern, size_t length, size_t& at, char c, bool& valid) {
  bool negate = false, matched = false;
  if (at < length && pattern[at] == '!') {
    negate = true;
    ++at;
  }
  bool first = true;
  while (at < length && (first || pattern[at] != ']')) {
    first = false;
    char low = pattern[at++];
    char high = low;
    if (at + 1 < length && pattern[at] == '-' && pattern[at + 1] != ']') {
      high = pattern[at + 1];
      at += 2;
    }
    if (low > high) {
      char t = low;
      low = high;
      high = t;
    }
    if (c >= low && c <= high) matched = true;
  }
  if (at >= length) {
    valid = false;
    return false;
  }
  ++at;  // ']'
  valid = true;
  return matched != negate;
}

}  // namespace

bool glob_match(const char* pattern, size_t pattern_length, const char* text, size_t length) {
  // Backtracking over the last '*' only: linear in practice, never recursive.
  size_t p = 0, t = 0;
  size_t star_p = SIZE_MAX, star_t = 0;
  while (t < length) {
    if (p < pattern_length) {
      char pc = pattern[p];
      if (pc == '*') {
        star_p = ++p;
        star_t = t;
        continue;
      }
      if (pc == '?') {
        ++p;
        ++t;
        continue;
      }
      if (pc == '[') {
        size_t at = p + 1;
        bool valid;
        bool matched = class_matches(pattern, pattern_length, at, text[t], valid);
        if (valid) {
          if (matched) {
            p = at;
            ++t;
            continue;
          }
        } else if (text[t] == '[') {  // an unclosed '[' matches itself
          ++p;
          ++t;
          continue;
        }
      } else {
        if (pc == '\\' && p + 1 < pattern_length) pc = pattern[++p];
        if (pc == text[t]) {
          ++p;
          ++t;
          continue;
        }
      }
    }
    if (star_p == SIZE_MAX) return false;
    p = star_p;
    t = ++star_t;
  }
  while (p < pattern_length && pattern[p] == '*') ++p;
  return p == pattern_length;
}

const char* filter_error_text(FilterError error) {
  switch (error) {
    case FilterError::kNone: return "No error";
    case FilterError::kInvalidOp: return "Invalid operator";
    case FilterError::kTooManyOpen: return "Too many '('";
    case FilterError::kTooManyClose: return "Too few '('";
    case FilterError::kMissingQuote: return "Missing matching quote";
    case FilterError::kOperandTooLong: return "Operand too long";
    case FilterError::kExpectString: return "Expecting string field";
    case FilterError::kExpectDigit: return "Expecting numeric field";
    case FilterError::kIllegalFieldOp: return "Illegal operation for field type";
    case FilterError::kFieldNotFound: return "Field not found";
    case FilterError::kIllegalIntval: return "Illegal integer value";
    case FilterError::kBadSubsysFilter:
      return "Couldn't find or set field in one of a subsystem's events";
    case FilterError::kTooManyPreds: return "Too many terms in predicate expression";
    case FilterError::kInvalidFilter: return "Meaningless filter expression";
    case FilterError::kIpFieldOnly: return "Only 'ip' field is supported for function trace";
    case FilterError::kInvalidValue: return "Invalid value (did you forget quotes)?";
  }
  return "Unknown error";
}

rt::Result<FilterProgram*> compile_filter(const Event& event, const char* text, size_t length,
                                          rt::Allocator& allocator, FilterParseError& error) {
  error = FilterParseError{};
  void* memory = allocator.allocate(sizeof(FilterProgram), alignof(FilterProgram));
  if (memory == nullptr) return rt::err(rt::kENOMEM);
  FilterProgram* program = new (memory) FilterProgram(allocator);
  Parser parser(event, text, length, *program, error);
  uint32_t root;
  if (!parser.parse(root)) {
    destroy_filter_program(program);
    return rt::err(parser.errno_value);
  }
  program->root = root;
  return program;
}

bool filter_matches(const FilterProgram& program, const FilterRecord& record) {
  return node_matches(program, program.root, record);
}

void destroy_filter_program(FilterProgram* program) {
  if (program == nullptr) return;
  rt::Allocator& allocator = program->allocator;
  program->~FilterProgram();
  allocator.deallocate(program, sizeof(FilterProgram));
}

rt::Result<void> write_event_filter(Event& event, const char* data, size_t length,
                                    rt::Allocator& allocator) {
  if (length >= kMaxFilterLength) return rt::err(rt::kEINVAL);
  // Trailing whitespace (the newline echo adds) goes; leading whitespace stays in the text.
  while (length > 0 && is_space(data[length - 1])) --length;
  size_t first = 0;
  while (first < length && is_space(data[first])) ++first;
  if (length - first == 1 && data[first] == '0') {
    destroy_filter_program(event.filter);
    event.filter = nullptr;
    event.filter_text.clear();
    return {};
  }
  FilterParseError error;
  rt::Result<FilterProgram*> program = compile_filter(event, data, length, allocator, error);
  TextBuffer text(allocator);
  text.append(data, length);
  if (program.ok()) {
    if (!text.ok()) {
      destroy_filter_program(program.value());
      return rt::err(rt::kENOMEM);
    }
    destroy_filter_program(event.filter);
    event.filter = program.value();
    event.filter_text = static_cast<TextBuffer&&>(text);
    return {};
  }
  if (program.error().code == rt::kENOMEM) return program.error();
  // The event is left unfiltered and the file shows where the text went wrong.
  destroy_filter_program(event.filter);
  event.filter = nullptr;
  if (error.error != FilterError::kNone) {
    size_t caret = error.position > length ? length : error.position;
    if (caret > 0) ++caret;  // Linux prints "%*s" with one more than the column
    text.append_char('\n');
    text.append_repeated(' ', caret > 0 ? caret - 1 : 0);
    text.append("^\nparse_error: ");
    text.append(filter_error_text(error.error));
    text.append_char('\n');
  } else {
    text.append("\nError: (0)\n");
  }
  if (!text.ok()) return rt::err(rt::kENOMEM);
  event.filter_text = static_cast<TextBuffer&&>(text);
  return program.error();
}

void render_event_filter(const Event& event, TextBuffer& out) {
  if (event.filter_text.empty()) {
    out.append("none\n");
    return;
  }
  out.append(event.filter_text.data(), event.filter_text.size());
  out.append_char('\n');
}

bool event_filter_passes(const Event& event, const FilterRecord& record) {
  return event.filter == nullptr || filter_matches(*event.filter, record);
}

}  // namespace trace
