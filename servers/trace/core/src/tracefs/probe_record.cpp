// SPDX-License-Identifier: MIT
// build_probe_record: fetch arguments (registers, $argN, $stack, dereferences, strings).
#include "trace/probe_record.hpp"

namespace trace {

namespace {

constexpr size_t kMaxString = 4096;  // a fetched string is cut here (Linux: MAX_STRING_SIZE)

uint32_t type_size(FetchType type) {
  switch (type) {
    case FetchType::kU8:
    case FetchType::kS8:
    case FetchType::kX8: return 1;
    case FetchType::kU16:
    case FetchType::kS16:
    case FetchType::kX16: return 2;
    case FetchType::kU32:
    case FetchType::kS32:
    case FetchType::kX32:
    case FetchType::kString:
    case FetchType::kUserString: return 4;
    default: return 8;
  }
}

bool is_string(FetchType type) {
  return type == FetchType::kString || type == FetchType::kUserString;
}

uint64_t register_at(const PtRegs& regs, uint32_t offset) {
  if (offset + 8 > sizeof(PtRegs) || offset % 8 != 0) return 0;
  uint64_t value;
  __builtin_memcpy(&value, reinterpret_cast<const uint8_t*>(&regs) + offset, 8);
  return value;
}

// The x86-64 C calling convention: $arg1..$arg6 in registers, the rest on the stack above the
// return address.
bool argument(const PtRegs& regs, uint64_t n, TracedMemory& memory, uint64_t& value) {
  switch (n) {
    case 1: value = regs.di; return true;
    case 2: value = regs.si; return true;
    case 3: value = regs.dx; return true;
    case 4: value = regs.cx; return true;
    case 5: value = regs.r8; return true;
    case 6: value = regs.r9; return true;
    default: return memory.read(&value, regs.sp + 8 * (n - 6), 8);
  }
}

}  // namespace

size_t build_probe_record(const ProbeDefinition& probe, uint16_t event_id, int32_t pid,
                          const PtRegs& regs, const FetchContext& hit, TracedMemory& memory,
                          uint8_t* out, size_t capacity) {
  size_t fixed = kCommonFieldsSize + (probe.is_return ? 16 : 8);
  for (const FetchArg& arg : probe.args) fixed = arg.field_offset + type_size(arg.type);
  if (capacity < fixed) return 0;
  for (size_t i = 0; i < fixed; ++i) out[i] = 0;
  __builtin_memcpy(out, &event_id, 2);
  __builtin_memcpy(out + 4, &pid, 4);
  if (probe.is_return) {
    __builtin_memcpy(out + kCommonFieldsSize, &hit.probe_ip, 8);
    __builtin_memcpy(out + kCommonFieldsSize + 8, &hit.return_ip, 8);
  } else {
    __builtin_memcpy(out + kCommonFieldsSize, &hit.probe_ip, 8);
  }
  size_t end = fixed;
  for (const FetchArg& arg : probe.args) {
    uint64_t value = 0;
    bool ok = true;
    const char* direct_string = nullptr;  // $comm and \"..."
    switch (arg.base) {
      case FetchBase::kRegister: value = register_at(regs, arg.register_offset); break;
      case FetchBase::kArgument: ok = argument(regs, arg.number, memory, value); break;
      case FetchBase::kReturnValue: value = regs.ax; break;
      case FetchBase::kStackPointer: value = regs.sp; break;
      case FetchBase::kStackEntry: ok = memory.read(&value, regs.sp + 8 * arg.number, 8); break;
      case FetchBase::kComm: direct_string = hit.comm != nullptr ? hit.comm : ""; break;
      case FetchBase::kAddress:
      case FetchBase::kFileOffset:
      case FetchBase::kImmediate: value = arg.number; break;
      case FetchBase::kImmediateString: direct_string = arg.symbol; break;
    }
    // @ADDR reads memory at the address, like a dereference at offset 0.
    uint32_t steps = arg.dereference_count;
    bool address_base = arg.base == FetchBase::kAddress || arg.base == FetchBase::kFileOffset;
    int64_t offsets[kMaxDereferences + 1];
    uint32_t count = 0;
    for (uint32_t i = 0; i < steps && count <= kMaxDereferences; ++i) {
      offsets[count++] = arg.dereferences[i];
    }
    if (address_base && count <= kMaxDereferences) {
      // The address itself is read first (innermost).
      for (uint32_t i = count; i > 0; --i) offsets[i] = offsets[i - 1];
      offsets[0] = 0;
      ++count;
    }
    bool string = is_string(arg.type);
    for (uint32_t i = 0; ok && direct_string == nullptr && i < count; ++i) {
      uint64_t address = value + static_cast<uint64_t>(offsets[i]);
      bool last = i + 1 == count;
      if (last && string) {
        value = address;  // the string starts here
      } else {
        uint32_t size = last ? type_size(arg.type) : 8;
        value = 0;
        ok = memory.read(&value, address, size);
      }
    }
    uint8_t* field = out + arg.field_offset;
    if (!string) {
      if (!ok) value = 0;
      __builtin_memcpy(field, &value, type_size(arg.type));
      continue;
    }
    // __data_loc: the string's offset in the record and its length (with the NUL) << 16.
    size_t length = 0;
    char* text = reinterpret_cast<char*>(out + end);
    size_t room = capacity - end;
    if (room > kMaxString) room = kMaxString;
    if (direct_string != nullptr) {
      while (length + 1 < room && direct_string[length] != 0) {
        text[length] = direct_string[length];
        ++length;
      }
    } else if (ok) {
      while (length + 1 < room) {
        char c;
        if (!memory.read(&c, value + length, 1)) {
          ok = false;
          break;
        }
        if (c == 0) break;
        text[length++] = c;
      }
    }
    if (!ok && direct_string == nullptr) {
      const char fault[] = "(fault)";
      length = 0;
      while (length + 1 < room && fault[length] != 0) {
        text[length] = fault[length];
        ++length;
      }
    }
    if (room == 0) return 0;
    text[length++] = 0;
    uint32_t location = static_cast<uint32_t>(end) | static_cast<uint32_t>((length & 0xffff) << 16);
    __builtin_memcpy(field, &location, 4);
    end += length;
  }
  return end;
}

}  // namespace trace
