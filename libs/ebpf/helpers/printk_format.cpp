// SPDX-License-Identifier: MIT
// format_bpf_message: Linux's bpf_bprintf_prepare checks, then printing as its bstr_printf.
#include "helpers/printk_format.hpp"

#include "rt/errno.hpp"

namespace ebpf {
namespace {

constexpr uint32_t kMaxArguments = 12;     // MAX_BPRINTF_VARARGS
constexpr uint32_t kStringAreaSize = 512;  // MAX_BPRINTF_BUF: strings, chars and addresses

bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
bool is_punct(char c) {
  return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
         (c >= '{' && c <= '~');
}
// The kernel's ctype table: ASCII printables, and Latin-1 from 0xa0.
bool is_print(char c) {
  auto u = static_cast<unsigned char>(c);
  return (u >= 0x20 && u < 0x7f) || u >= 0xa0;
}

enum class Kind : uint8_t {
  kSigned,
  kUnsigned,
  kHex,
  kHexUpper,
  kChar,
  kString,
  kPointer,
  kSymbol,
  kIp4,
  kIp6
};

// One conversion as written: flags, width, and what it prints.
struct Conversion {
  bool left = false, plus = false, space = false, zero = false;
  uint32_t width = 0;
  Kind kind = Kind::kSigned;
  bool ip_padded = false;    // %pi4 / %pi6: zero-padded fields, no separators for v6
  bool user_string = false;  // %pus: the string is in the traced process, not the kernel
  uint8_t size = 4;          // bytes of the integer argument: 4 (int), 8 (long, long long)
  uint32_t end = 0;          // index just past the conversion
};

// Parses the conversion after the '%' at `format[start]`, as bpf_bprintf_prepare accepts
// them; false for anything it refuses.
bool parse_conversion(const char* format, uint32_t start, Conversion& c) {
  uint32_t i = start + 1;
  for (;; ++i) {
    char f = format[i];
    if (f == '-')
      c.left = true;
    else if (f == '+')
      c.plus = true;
    else if (f == ' ')
      c.space = true;
    else if (f == '0')
      c.zero = true;
    else
      break;
  }
  if (format[i] >= '1' && format[i] <= '9') {
    while (format[i] >= '0' && format[i] <= '9') {
      if (c.width < 100000) c.width = c.width * 10 + static_cast<uint32_t>(format[i] - '0');
      ++i;
    }
  }
  char f = format[i];
  if (f == 'p') {
    c.size = 8;
    char next = format[i + 1];
    if ((next == 'k' || next == 'u') && format[i + 2] == 's') {  // %pks, %pus: strings
      c.kind = Kind::kString;
      c.user_string = next == 'u';
      i += 2;
      char after = format[i + 1];
      if (after != 0 && !is_space(after) && !is_punct(after)) return false;
      c.end = i + 1;
      return true;
    }
    if (next == 0 || is_space(next) || is_punct(next)) {
      c.kind = Kind::kPointer;
      c.end = i + 1;
      return true;
    }
    if (next == 'K' || next == 'x') {
      c.kind = Kind::kPointer;
      c.end = i + 2;
      return true;
    }
    if (next == 's' || next == 'S' || next == 'B') {
      c.kind = Kind::kSymbol;
      c.end = i + 2;
      return true;
    }
    if ((next == 'i' || next == 'I') && (format[i + 2] == '4' || format[i + 2] == '6')) {
      c.kind = format[i + 2] == '4' ? Kind::kIp4 : Kind::kIp6;
      c.ip_padded = next == 'i';
      c.end = i + 3;
      return true;
    }
    return false;
  }
  if (f == 's') {
    char after = format[i + 1];
    if (after != 0 && !is_space(after) && !is_punct(after)) return false;
    c.kind = Kind::kString;
    c.size = 8;
    c.end = i + 1;
    return true;
  }
  if (f == 'c') {
    c.kind = Kind::kChar;
    c.end = i + 1;
    return true;
  }
  if (f == 'l') {
    c.size = 8;
    ++i;
    if (format[i] == 'l') ++i;
  }
  switch (format[i]) {
    case 'd':
    case 'i': c.kind = Kind::kSigned; break;
    case 'u': c.kind = Kind::kUnsigned; break;
    case 'x': c.kind = Kind::kHex; break;
    case 'X': c.kind = Kind::kHexUpper; break;
    default: return false;
  }
  c.end = i + 1;
  return true;
}

// What bpf_bprintf_prepare copies for one argument: the value, or where its text starts in
// the string area.
struct Prepared {
  uint64_t value;
  uint32_t text;
  uint32_t text_length;
};

struct Writer {
  char* buffer;
  size_t size;
  size_t length = 0;
  void put(char c) {
    if (length + 1 < size) buffer[length] = c;
    ++length;
  }
  void repeat(char c, uint32_t count) {
    for (uint32_t i = 0; i < count; ++i) put(c);
  }
  // Text padded to the conversion's width with spaces, on the left unless '-'.
  void padded(const Conversion& c, const char* text, uint32_t length_of_text) {
    uint32_t pad = c.width > length_of_text ? c.width - length_of_text : 0;
    if (!c.left) repeat(' ', pad);
    for (uint32_t i = 0; i < length_of_text; ++i) put(text[i]);
    if (c.left) repeat(' ', pad);
  }
};

uint32_t digits_of(uint64_t value, uint32_t base, bool upper, char* out) {
  const char* alphabet = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char reversed[24];
  uint32_t n = 0;
  do {
    reversed[n++] = alphabet[value % base];
    value /= base;
  } while (value != 0);
  for (uint32_t i = 0; i < n; ++i) out[i] = reversed[n - 1 - i];
  return n;
}

void print_number(Writer& out, const Conversion& c, uint64_t raw) {
  char sign = 0;
  uint64_t magnitude = raw;
  if (c.kind == Kind::kSigned) {
    int64_t value = c.size == 4 ? static_cast<int32_t>(raw) : static_cast<int64_t>(raw);
    if (value < 0) {
      sign = '-';
      magnitude = 0 - static_cast<uint64_t>(value);
    } else {
      magnitude = static_cast<uint64_t>(value);
      sign = c.plus ? '+' : (c.space ? ' ' : 0);
    }
  } else if (c.size == 4) {
    magnitude = static_cast<uint32_t>(raw);
  }
  char digits[24];
  uint32_t base = (c.kind == Kind::kHex || c.kind == Kind::kHexUpper) ? 16 : 10;
  uint32_t count = digits_of(magnitude, base, c.kind == Kind::kHexUpper, digits);
  uint32_t used = count + (sign ? 1 : 0);
  uint32_t pad = c.width > used ? c.width - used : 0;
  bool zero_pad = c.zero && !c.left;
  if (!c.left && !zero_pad) out.repeat(' ', pad);
  if (sign) out.put(sign);
  if (zero_pad) out.repeat('0', pad);
  for (uint32_t i = 0; i < count; ++i) out.put(digits[i]);
  if (c.left) out.repeat(' ', pad);
}

// A pointer as Linux prints one it does not hash (%px): 16 lowercase hex digits.
void print_pointer(Writer& out, const Conversion& c, uint64_t value) {
  char text[16];
  for (int i = 15; i >= 0; --i, value >>= 4) text[i] = "0123456789abcdef"[value & 15];
  out.padded(c, text, 16);
}

void print_ip(Writer& out, const Conversion& c, const uint8_t* bytes) {
  char text[48];
  uint32_t n = 0;
  if (c.kind == Kind::kIp4) {
    for (int part = 0; part < 4; ++part) {
      if (part > 0) text[n++] = '.';
      char d[4];
      uint32_t count = digits_of(bytes[part], 10, false, d);
      for (uint32_t k = count; c.ip_padded && k < 3; ++k) text[n++] = '0';
      for (uint32_t k = 0; k < count; ++k) text[n++] = d[k];
    }
  } else {
    for (int part = 0; part < 16; ++part) {
      if (!c.ip_padded && part > 0 && part % 2 == 0) text[n++] = ':';
      text[n++] = "0123456789abcdef"[bytes[part] >> 4];
      text[n++] = "0123456789abcdef"[bytes[part] & 15];
    }
  }
  out.padded(c, text, n);
}

// Copies a NUL-terminated string of at most `room` bytes (with its NUL) from traced memory;
// the length without the NUL, or -EFAULT.
long copy_string(Environment& env, bool user, uint64_t source, char* out, uint32_t room) {
  long copied = env.read_string(user, out, source, room);
  return copied < 0 ? copied : copied - 1;
}

}  // namespace

long format_bpf_message(Environment& env, char* out_buffer, size_t out_size, const char* format,
                        uint32_t format_size, const uint64_t* args, uint32_t arg_count,
                        size_t* needed_length) {
  if (format == nullptr || format_size == 0 || arg_count > kMaxArguments) return -rt::kEINVAL;
  uint32_t end = 0;
  while (end < format_size && format[end] != 0) ++end;
  if (end == format_size) return -rt::kEINVAL;  // not NUL-terminated within its size

  // Pass 1 (bpf_bprintf_prepare): check every character and conversion, count arguments,
  // and copy what the arguments point to into one 512-byte area.
  Prepared prepared[kMaxArguments];
  char area[kStringAreaSize];
  uint32_t area_used = 0;
  uint32_t count = 0;
  for (uint32_t i = 0; i < end; ++i) {
    if (!is_print(format[i]) && !is_space(format[i])) return -rt::kEINVAL;
    if (format[i] != '%') continue;
    if (format[i + 1] == '%') {
      ++i;
      continue;
    }
    if (count >= arg_count) return -rt::kEINVAL;
    Conversion c;
    if (!parse_conversion(format, i, c)) return -rt::kEINVAL;
    Prepared& p = prepared[count];
    p = Prepared{args[count], area_used, 0};
    if (c.kind == Kind::kString || c.kind == Kind::kChar || c.kind == Kind::kIp4 ||
        c.kind == Kind::kIp6) {
      if (area_used == kStringAreaSize) return -rt::kENOSPC;
    }
    if (c.kind == Kind::kString) {
      long length = copy_string(env, c.user_string, args[count], area + area_used,
                                kStringAreaSize - area_used);
      if (length < 0) {  // Linux prints an empty string for an unreadable one
        area[area_used] = 0;
        length = 0;
      }
      p.text_length = static_cast<uint32_t>(length);
      area_used += p.text_length + 1;
    } else if (c.kind == Kind::kChar) {
      area[area_used] = static_cast<char>(args[count]);
      p.text_length = 1;
      area_used += 1;
    } else if (c.kind == Kind::kIp4 || c.kind == Kind::kIp6) {
      uint32_t bytes = c.kind == Kind::kIp4 ? 4 : 16;
      if (kStringAreaSize - area_used < bytes) return -rt::kENOSPC;
      if (env.read_kernel(area + area_used, args[count], bytes) < 0)
        __builtin_memset(area + area_used, 0, bytes);
      p.text_length = bytes;
      area_used += bytes;
    }
    ++count;
    i = c.end - 1;
  }

  // Pass 2 (bstr_printf): print, counting the whole length even where it does not fit.
  Writer out{out_buffer, out_size};
  uint32_t argument = 0;
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
    Conversion c;
    parse_conversion(format, i, c);
    const Prepared& p = prepared[argument++];
    switch (c.kind) {
      case Kind::kString:
      case Kind::kChar: out.padded(c, area + p.text, p.text_length); break;
      case Kind::kIp4:
      case Kind::kIp6: print_ip(out, c, reinterpret_cast<const uint8_t*>(area + p.text)); break;
      case Kind::kPointer: print_pointer(out, c, p.value); break;
      case Kind::kSymbol: {
        // Sonde has no symbol table here: the address, as Linux prints one without kallsyms.
        Conversion hex = c;
        hex.kind = Kind::kHex;
        hex.size = 8;
        hex.width = 0;
        out.put('0');
        out.put('x');
        print_number(out, hex, p.value);
        break;
      }
      default: print_number(out, c, p.value); break;
    }
    i = c.end - 1;
  }
  if (out_size > 0) out_buffer[out.length < out_size ? out.length : out_size - 1] = 0;
  if (needed_length != nullptr) *needed_length = out.length;
  return static_cast<long>(out.length < out_size ? out.length : (out_size > 0 ? out_size - 1 : 0));
}

}  // namespace ebpf
