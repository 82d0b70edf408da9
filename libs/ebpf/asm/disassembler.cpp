// Instructions to text in the style of `bpftool prog dump xlated`.
#include <cstdio>

#include "ebpf/assembler.hpp"

namespace ebpf {
namespace {

std::string reg(bool wide, int n) { return (wide ? "r" : "w") + std::to_string(n); }

std::string hex(int64_t v) {
  char buffer[32];
  if (v < 0) std::snprintf(buffer, sizeof(buffer), "-0x%llx", static_cast<unsigned long long>(0 - static_cast<uint64_t>(v)));
  else std::snprintf(buffer, sizeof(buffer), "0x%llx", static_cast<unsigned long long>(v));
  return buffer;
}

std::string offset_text(int16_t off) { return off < 0 ? " " + std::to_string(off) : " +" + std::to_string(off); }

const char* size_name(uint8_t size, bool sign = false) {
  switch (size) {
    case kSizeB: return sign ? "s8" : "u8";
    case kSizeH: return sign ? "s16" : "u16";
    case kSizeW: return sign ? "s32" : "u32";
    default: return "u64";
  }
}

std::string memory(uint8_t size, int base, int16_t off, bool sign = false) {
  return std::string("*(") + size_name(size, sign) + " *)(r" + std::to_string(base) + offset_text(off) + ")";
}

std::string alu(const Insn& insn) {
  bool wide = insn_class(insn.opcode) == kClassAlu64;
  std::string d = reg(wide, insn.dst);
  std::string s = op_source(insn.opcode) == kSrcX ? reg(wide, insn.src) : hex(insn.imm);
  uint8_t op = op_code(insn.opcode);
  switch (op) {
    case kAluNeg: return d + " = -" + d;
    case kAluEnd:
      if (wide) return d + " = bswap" + std::to_string(insn.imm) + " " + d;
      return "r" + std::to_string(insn.dst) + " = " + (op_source(insn.opcode) == kEndToBe ? "be" : "le") +
             std::to_string(insn.imm) + " r" + std::to_string(insn.dst);
    case kAluMov:
      if (op_source(insn.opcode) == kSrcX && insn.offset != 0) {
        return d + " = (s" + std::to_string(insn.offset) + ")" + reg(wide, insn.src);
      }
      return d + " = " + s;
    default: break;
  }
  const char* symbol = "?";
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
    default: return "invalid alu opcode";
  }
  return d + " " + symbol + " " + s;
}

std::string jump(const Insn& insn) {
  bool wide = insn_class(insn.opcode) == kClassJmp;
  uint8_t op = op_code(insn.opcode);
  if (op == kJmpJa) {
    int64_t target = wide ? insn.offset : insn.imm;
    return std::string(wide ? "goto" : "gotol") + " pc" + (target < 0 ? "" : "+") + std::to_string(target);
  }
  if (op == kJmpExit) return "exit";
  if (op == kJmpCall) {
    if (op_source(insn.opcode) == kSrcX) return "callx r" + std::to_string(insn.dst);
    if (insn.src == kPseudoCall) return std::string("call pc") + (insn.imm < 0 ? "" : "+") + std::to_string(insn.imm);
    return "call #" + std::to_string(insn.imm);
  }
  const char* symbol = "?";
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
    default: return "invalid jump opcode";
  }
  std::string s = op_source(insn.opcode) == kSrcX ? reg(wide, insn.src) : hex(insn.imm);
  return "if " + reg(wide, insn.dst) + " " + symbol + " " + s + " goto pc" + (insn.offset < 0 ? "" : "+") +
         std::to_string(insn.offset);
}

std::string atomic(const Insn& insn) {
  bool wide = op_size(insn.opcode) == kSizeDw;
  std::string target = std::string("(") + (wide ? "u64" : "u32") + " *)(r" + std::to_string(insn.dst) +
                       offset_text(insn.offset) + ")";
  std::string s = reg(wide, insn.src);
  std::string bits = wide ? "64" : "";
  int32_t op = insn.imm & ~kAtomicFetch;
  const char* name = op == kAtomicAdd ? "add" : op == kAtomicOr ? "or" : op == kAtomicAnd ? "and" : op == kAtomicXor ? "xor" : nullptr;
  if (insn.imm == kAtomicXchg) return s + " = atomic" + bits + "_xchg(" + target + ", " + s + ")";
  if (insn.imm == kAtomicCmpxchg) {
    return reg(wide, 0) + " = atomic" + bits + "_cmpxchg(" + target + ", " + reg(wide, 0) + ", " + s + ")";
  }
  if (name == nullptr) return "invalid atomic operation";
  if (insn.imm & kAtomicFetch) return s + " = atomic" + bits + "_fetch_" + name + "(" + target + ", " + s + ")";
  const char* symbol = op == kAtomicAdd ? "+=" : op == kAtomicOr ? "|=" : op == kAtomicAnd ? "&=" : "^=";
  return "lock *" + target + " " + symbol + " " + s;
}

}  // namespace

std::string disassemble_one(const Insn& insn, const Insn* next) {
  switch (insn_class(insn.opcode)) {
    case kClassAlu:
    case kClassAlu64:
      return alu(insn);
    case kClassJmp:
    case kClassJmp32:
      return jump(insn);
    case kClassLd:
      if (insn.opcode == kOpLdImm64) {
        uint64_t value = static_cast<uint32_t>(insn.imm) |
                         (next ? static_cast<uint64_t>(static_cast<uint32_t>(next->imm)) << 32 : 0);
        std::string d = "r" + std::to_string(insn.dst);
        switch (insn.src) {
          case kPseudoMapFd: return d + " = map[fd:" + std::to_string(insn.imm) + "]";
          case kPseudoMapValue: return d + " = map[fd:" + std::to_string(insn.imm) + "][0]+" + std::to_string(next ? next->imm : 0);
          case kPseudoMapIdx: return d + " = map[idx:" + std::to_string(insn.imm) + "]";
          case kPseudoMapIdxValue: return d + " = map[idx:" + std::to_string(insn.imm) + "][0]+" + std::to_string(next ? next->imm : 0);
          case kPseudoBtfId: return d + " = btf_id:" + std::to_string(insn.imm);
          case kPseudoFunc: return d + " = func pc" + (insn.imm < 0 ? "" : "+") + std::to_string(insn.imm);
          default: return d + " = " + hex(static_cast<int64_t>(value));
        }
      }
      return "invalid ld opcode";
    case kClassLdx:
      return "r" + std::to_string(insn.dst) + " = " +
             memory(op_size(insn.opcode), insn.src, insn.offset, op_mode(insn.opcode) == kModeMemsx);
    case kClassSt:
      return memory(op_size(insn.opcode), insn.dst, insn.offset) + " = " + std::to_string(insn.imm);
    case kClassStx:
      if (op_mode(insn.opcode) == kModeAtomic) return atomic(insn);
      return memory(op_size(insn.opcode), insn.dst, insn.offset) + " = r" + std::to_string(insn.src);
  }
  return "invalid";
}

std::string disassemble(const std::vector<Insn>& insns) {
  std::string out;
  for (size_t i = 0; i < insns.size(); ++i) {
    char prefix[32];
    std::snprintf(prefix, sizeof(prefix), "%zu: (%02x) ", i, insns[i].opcode);
    bool pair = insns[i].opcode == kOpLdImm64 && i + 1 < insns.size();
    out += prefix + disassemble_one(insns[i], pair ? &insns[i + 1] : nullptr) + "\n";
    if (pair) ++i;
  }
  return out;
}

}  // namespace ebpf
