// SPDX-License-Identifier: MIT
// Instruction text in the style of `bpftool prog dump xlated`, freestanding.
#include "ebpf/insn_format.hpp"

#include <stdarg.h>
#include <stdint.h>

#include "rt/format.hpp"

namespace ebpf {
namespace {

// Appends to a caller's buffer, counting what did not fit.
struct Text {
  char* buffer;
  size_t size;
  size_t length = 0;

  void add(const char* format, ...) __attribute__((format(printf, 2, 3))) {
    va_list arguments;
    va_start(arguments, format);
    rt::vformat(sink, this, format, arguments);
    va_end(arguments);
  }
  static void sink(void* state, char c) {
    auto* t = static_cast<Text*>(state);
    if (t->length + 1 < t->size) t->buffer[t->length] = c;
    ++t->length;
  }
  void reg(bool wide, int n) { add("%c%d", wide ? 'r' : 'w', n); }
  void pc_offset(int64_t offset) { add("pc%s%ld", offset < 0 ? "" : "+", offset); }
  void memory(uint8_t size, int base, int16_t off, bool sign) {
    const char* name = size == kSizeB ? "8" : size == kSizeH ? "16" : size == kSizeW ? "32" : "64";
    add("*(%c%s *)(r%d %s%d)", sign ? 's' : 'u', name, base, off < 0 ? "" : "+", off);
  }
};

void alu(Text& t, const Insn& insn) {
  bool wide = insn_class(insn.opcode) == kClassAlu64;
  bool x = op_source(insn.opcode) == kSrcX;
  uint8_t op = op_code(insn.opcode);
  auto source = [&] { x ? t.reg(wide, insn.src) : t.add("%d", insn.imm); };
  if (op == kAluNeg) {
    t.reg(wide, insn.dst);
    t.add(" = -");
    t.reg(wide, insn.dst);
    return;
  }
  if (op == kAluEnd) {
    if (wide)
      t.add("r%d = bswap%d r%d", insn.dst, insn.imm, insn.dst);
    else
      t.add("r%d = %s%d r%d", insn.dst, x ? "be" : "le", insn.imm, insn.dst);
    return;
  }
  t.reg(wide, insn.dst);
  if (op == kAluMov) {
    t.add(" = ");
    if (x && insn.offset != 0) t.add("(s%d)", insn.offset);
    source();
    return;
  }
  const char* symbol = nullptr;
  switch (op) {
    case kAluAdd: symbol = "+="; break;
    case kAluSub: symbol = "-="; break;
    case kAluMul: symbol = "*="; break;
    case kAluDiv: symbol = insn.offset == 1 ? "s/=" : "/="; break;
    case kAluOr: symbol = "|="; break;
    case kAluAnd: symbol = "&="; break;
    case kAluLsh: symbol = "<<="; break;
    case kAluRsh: symbol = ">>="; break;
    case kAluMod: symbol = insn.offset == 1 ? "s%=" : "%="; break;
    case kAluXor: symbol = "^="; break;
    case kAluArsh: symbol = "s>>="; break;
    default: t.add(" (invalid alu opcode)"); return;
  }
  t.add(" %s ", symbol);
  source();
}

void jump(Text& t, const Insn& insn) {
  bool wide = insn_class(insn.opcode) == kClassJmp;
  uint8_t op = op_code(insn.opcode);
  if (op == kJmpJa) {
    t.add(wide ? "goto " : "gotol ");
    t.pc_offset(wide ? insn.offset : insn.imm);
    return;
  }
  if (op == kJmpExit) {
    t.add("exit");
    return;
  }
  if (op == kJmpCall) {
    if (op_source(insn.opcode) == kSrcX)
      t.add("callx r%d", insn.dst);
    else if (insn.src == kPseudoCall) {
      t.add("call ");
      t.pc_offset(insn.imm);
    } else {
      const char* name = insn.src == kCallHelper ? helper_name(insn.imm) : nullptr;
      t.add("call %s#%d", name ? name : "unknown", insn.imm);
    }
    return;
  }
  const char* symbol = nullptr;
  switch (op) {
    case kJmpJeq: symbol = "=="; break;
    case kJmpJgt: symbol = ">"; break;
    case kJmpJge: symbol = ">="; break;
    case kJmpJset: symbol = "&"; break;
    case kJmpJne: symbol = "!="; break;
    case kJmpJsgt: symbol = "s>"; break;
    case kJmpJsge: symbol = "s>="; break;
    case kJmpJlt: symbol = "<"; break;
    case kJmpJle: symbol = "<="; break;
    case kJmpJslt: symbol = "s<"; break;
    case kJmpJsle: symbol = "s<="; break;
    default: t.add("(invalid jump opcode)"); return;
  }
  t.add("if ");
  t.reg(wide, insn.dst);
  t.add(" %s ", symbol);
  if (op_source(insn.opcode) == kSrcX)
    t.reg(wide, insn.src);
  else
    t.add("0x%x", static_cast<uint32_t>(insn.imm));
  t.add(" goto ");
  t.pc_offset(insn.offset);
}

void atomic(Text& t, const Insn& insn) {
  bool wide = op_size(insn.opcode) == kSizeDw;
  const char* bits = wide ? "64" : "";
  const char* type = wide ? "u64" : "u32";
  const char r = 'r';  // Linux prints rN for 32-bit atomics too
  int32_t op = insn.imm & ~kAtomicFetch;
  const char* name = op == kAtomicAdd   ? "add"
                     : op == kAtomicOr  ? "or"
                     : op == kAtomicAnd ? "and"
                     : op == kAtomicXor ? "xor"
                                        : nullptr;
  const char* sign = insn.offset < 0 ? "" : "+";
  if (insn.imm == kAtomicXchg) {
    t.add("%c%d = atomic%s_xchg((%s *)(r%d %s%d), %c%d)", r, insn.src, bits, type, insn.dst, sign,
          insn.offset, r, insn.src);
  } else if (insn.imm == kAtomicCmpxchg) {
    t.add("%c0 = atomic%s_cmpxchg((%s *)(r%d %s%d), %c0, %c%d)", r, bits, type, insn.dst, sign,
          insn.offset, r, r, insn.src);
  } else if (name == nullptr) {
    t.add("(invalid atomic operation)");
  } else if (insn.imm & kAtomicFetch) {
    t.add("%c%d = atomic%s_fetch_%s((%s *)(r%d %s%d), %c%d)", r, insn.src, bits, name, type,
          insn.dst, sign, insn.offset, r, insn.src);
  } else {
    const char* symbol = op == kAtomicAdd   ? "+="
                         : op == kAtomicOr  ? "|="
                         : op == kAtomicAnd ? "&="
                                            : "^=";
    t.add("lock *(%s *)(r%d %s%d) %s %c%d", type, insn.dst, sign, insn.offset, symbol, r, insn.src);
  }
}

void load_immediate(Text& t, const Insn& insn, const Insn* next) {
  int32_t high = next ? next->imm : 0;
  t.add("r%d = ", insn.dst);
  switch (insn.src) {
    case kPseudoMapFd: t.add("map[fd:%d]", insn.imm); break;
    case kPseudoMapValue: t.add("map[fd:%d][0]+%d", insn.imm, high); break;
    case kPseudoMapIdx: t.add("map[idx:%d]", insn.imm); break;
    case kPseudoMapIdxValue: t.add("map[idx:%d][0]+%d", insn.imm, high); break;
    case kPseudoBtfId: t.add("btf_id:%d", insn.imm); break;
    case kPseudoFunc:
      t.add("func ");
      t.pc_offset(insn.imm);
      break;
    default:
      t.add("0x%lx", static_cast<uint64_t>(static_cast<uint32_t>(insn.imm)) |
                         (static_cast<uint64_t>(static_cast<uint32_t>(high)) << 32));
  }
}

}  // namespace

size_t format_insn(char* buffer, size_t size, const Insn& insn, const Insn* next) {
  Text t{buffer, size};
  switch (insn_class(insn.opcode)) {
    case kClassAlu:
    case kClassAlu64: alu(t, insn); break;
    case kClassJmp:
    case kClassJmp32: jump(t, insn); break;
    case kClassLd:
      if (insn.opcode == kOpLdImm64)
        load_immediate(t, insn, next);
      else
        t.add("(invalid ld opcode)");
      break;
    case kClassLdx:
      t.add("r%d = ", insn.dst);
      t.memory(op_size(insn.opcode), insn.src, insn.offset, op_mode(insn.opcode) == kModeMemsx);
      break;
    case kClassSt:
      t.memory(op_size(insn.opcode), insn.dst, insn.offset, false);
      t.add(" = %d", insn.imm);
      break;
    case kClassStx:
      if (op_mode(insn.opcode) == kModeAtomic) {
        atomic(t, insn);
      } else {
        t.memory(op_size(insn.opcode), insn.dst, insn.offset, false);
        t.add(" = r%d", insn.src);
      }
      break;
  }
  if (size > 0) buffer[t.length < size ? t.length : size - 1] = 0;
  return t.length;
}

}  // namespace ebpf
