// format_bpf_message: checks the whole format first (as Linux does), then prints.
#include "helpers/printk_format.hpp"

#include "rt/errno.hpp"
#include "rt/format.hpp"

namespace ebpf {
namespace {

constexpr uint32_t kMaxStringArgument = 64;

struct Out {
  char* buffer;
  size_t size;
  size_t length = 0;
  void put(char c) {
    if (length + 1 < size) buffer[length] = c;
    ++length;
  }
  void put(const char* s) {
    while (*s) put(*s++);
  }
};

// One conversion: flags, width, length modifier and the conversion character.
struct Spec {
  char flags[6] = {};
  int width = 0;
  int longs = 0;
  char conversion = 0;
};

// Parses the conversion at `format[i]` (just after '%'); returns the index after it or -1.
long parse_spec(const char* format, uint32_t end, uint32_t i, Spec& spec) {
  int nflags = 0;
  while (i < end && (format[i] == '-' || format[i] == '+' || format[i] == ' ' || format[i] == '#' || format[i] == '0')) {
    if (nflags < 5) spec.flags[nflags++] = format[i];
    ++i;
  }
  while (i < end && format[i] >= '0' && format[i] <= '9') {
    spec.width = spec.width * 10 + (format[i] - '0');
    if (spec.width > 1000) return -1;
    ++i;
  }
  while (i < end && format[i] == 'l') {
    ++spec.longs;
    ++i;
  }
  if (i >= end || spec.longs > 2) return -1;
  spec.conversion = format[i];
  switch (spec.conversion) {
    case 'd': case 'i': case 'u': case 'x': case 'X': case 'c': case 's': case 'p':
      return i + 1;
    default:
      return -1;
  }
}


void print_number(Out& out, const Spec& spec, uint64_t value) {
  // Narrow to the argument's C type first: %d of 0xffffffff is -1, %u of it 4294967295.
  bool is_signed = spec.conversion == 'd' || spec.conversion == 'i';
  if (spec.longs == 0) value = is_signed ? static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(value)))
                                         : static_cast<uint32_t>(value);
  char format[24];
  int n = 0;
  format[n++] = '%';
  for (int f = 0; spec.flags[f] != 0 && n < 8; ++f) {
    if (spec.flags[f] == '0') format[n++] = '0';  // the freestanding formatter knows '0' only
  }
  char width[8];
  rt::format_to(width, sizeof(width), "%d", spec.width);
  if (spec.width > 0) {
    for (int k = 0; width[k] != 0; ++k) format[n++] = width[k];
  }
  format[n++] = 'l';
  format[n++] = spec.conversion == 'i' ? 'd' : spec.conversion;
  format[n] = 0;
  char text[96];
  rt::format_to(text, sizeof(text), format, value);
  // '-' (left-justify) is applied here since the freestanding formatter pads on the left.
  bool left = false;
  for (int f = 0; spec.flags[f] != 0; ++f) left = left || spec.flags[f] == '-';
  if (left) {
    const char* digits = text;
    while (*digits == ' ') ++digits;
    int length = 0;
    out.put(digits);
    for (const char* d = digits; *d; ++d) ++length;
    for (int pad = length; pad < spec.width; ++pad) out.put(' ');
  } else {
    out.put(text);
  }
}

}  // namespace

long format_bpf_message(Environment& env, char* out_buffer, size_t out_size, const char* format,
                        uint32_t format_size, const uint64_t* args, uint32_t arg_count, size_t* needed_length) {
  if (format == nullptr || format_size == 0) return -rt::kEINVAL;
  uint32_t end = 0;
  while (end < format_size && format[end] != 0) ++end;
  if (end == format_size) return -rt::kEINVAL;  // not NUL-terminated

  // Pass 1: validate every conversion and count the arguments it needs.
  uint32_t needed = 0;
  for (uint32_t i = 0; i < end; ++i) {
    if (format[i] != '%') continue;
    if (i + 1 < end && format[i + 1] == '%') {
      ++i;
      continue;
    }
    Spec spec;
    long next = parse_spec(format, end, i + 1, spec);
    if (next < 0) return -rt::kEINVAL;
    ++needed;
    i = static_cast<uint32_t>(next - 1);
  }
  if (needed > arg_count) return -rt::kEINVAL;

  // Pass 2: print.
  Out out{out_buffer, out_size};
  uint32_t arg = 0;
  for (uint32_t i = 0; i < end; ++i) {
    if (format[i] != '%') {
      out.put(format[i]);
      continue;
    }
    if (format[i + 1] == '%') {
      out.put('%');
      ++i;
      continue;
    }
    Spec spec;
    long next = parse_spec(format, end, i + 1, spec);
    i = static_cast<uint32_t>(next - 1);
    uint64_t value = args[arg++];
    switch (spec.conversion) {
      case 'c':
        out.put(static_cast<char>(value));
        break;
      case 's': {
        char text[kMaxStringArgument];
        uint32_t length = 0;
        bool fault = false;
        while (length + 1 < kMaxStringArgument) {
          char c;
          if (env.read_kernel(&c, value + length, 1) != 0) {
            fault = true;
            break;
          }
          if (c == 0) break;
          text[length++] = c;
        }
        text[length] = 0;
        out.put(fault && length == 0 ? "(fault)" : text);
        break;
      }
      case 'p': {
        char text[24];
        rt::format_to(text, sizeof(text), "0x%lx", value);
        out.put(text);
        break;
      }
      default:
        print_number(out, spec, value);
        break;
    }
  }
  if (out_size > 0) out_buffer[out.length < out_size ? out.length : out_size - 1] = 0;
  if (needed_length != nullptr) *needed_length = out.length;
  return static_cast<long>(out.length < out_size ? out.length : out_size - 1);
}

}  // namespace ebpf
