// SPDX-License-Identifier: MIT
// Host disassembler: bpftool-style listings, and programs written back in the assembler's syntax.
#include <cstdio>
#include <cstring>

#include "ebpf/assembler.hpp"
#include "ebpf/insn_format.hpp"

namespace ebpf {

std::string disassemble_one(const Insn& insn, const Insn* next) {
  char buffer[160];
  format_insn(buffer, sizeof(buffer), insn, next);
  return buffer;
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

// The assembler's own syntax (as in the conformance data), with numeric jump offsets, so
// that assemble(to_assembly(x)) == x for every encoding the assembler can produce.
namespace ebpf {
namespace {

std::string reg(int n) { return "%r" + std::to_string(n); }
std::string signed_offset(int64_t v) { return (v < 0 ? "" : "+") + std::to_string(v); }
std::string memory(int base, int16_t offset) {
  return "[" + reg(base) + signed_offset(offset) + "]";
}

const char* alu_name(uint8_t op, int16_t offset) {
  switch (op) {
    case kAluAdd: return "add";
    case kAluSub: return "sub";
    case kAluMul: return "mul";
    case kAluDiv: return offset == 1 ? "sdiv" : offset == 0 ? "div" : nullptr;
    case kAluOr: return "or";
    case kAluAnd: return "and";
    case kAluLsh: return "lsh";
    case kAluRsh: return "rsh";
    case kAluMod: return offset == 1 ? "smod" : offset == 0 ? "mod" : nullptr;
    case kAluXor: return "xor";
    case kAluMov: return "mov";
    case kAluArsh: return "arsh";
  }
  return nullptr;
}

const char* jump_name(uint8_t op) {
  switch (op) {
    case kJmpJeq: return "jeq";
    case kJmpJgt: return "jgt";
    case kJmpJge: return "jge";
    case kJmpJset: return "jset";
    case kJmpJne: return "jne";
    case kJmpJsgt: return "jsgt";
    case kJmpJsge: return "jsge";
    case kJmpJlt: return "jlt";
    case kJmpJle: return "jle";
    case kJmpJslt: return "jslt";
    case kJmpJsle: return "jsle";
  }
  return nullptr;
}

const char* size_suffix(uint8_t size) {
  return size == kSizeB ? "b" : size == kSizeH ? "h" : size == kSizeW ? "w" : "dw";
}

// One instruction; empty when the assembler has no spelling for it.
std::string assembly_line(const Insn& insn, const Insn* next) {
  uint8_t cls = insn_class(insn.opcode);
  uint8_t op = op_code(insn.opcode);
  bool x = op_source(insn.opcode) == kSrcX;
  std::string imm = std::to_string(insn.imm);
  switch (cls) {
    case kClassAlu:
    case kClassAlu64: {
      const char* width = cls == kClassAlu ? "32" : "";
      if (op == kAluNeg) return std::string("neg") + width + " " + reg(insn.dst);
      if (op == kAluEnd) {
        const char* kind = cls == kClassAlu64 ? "bswap" : x ? "be" : "le";
        return kind + std::to_string(insn.imm) + " " + reg(insn.dst);
      }
      if (op == kAluMov && x && insn.offset != 0) {
        return "movsx" + std::to_string(insn.offset) + (cls == kClassAlu ? "32" : "64") + " " +
               reg(insn.dst) + ", " + reg(insn.src);
      }
      const char* name = alu_name(op, insn.offset);
      if (name == nullptr) return "";
      return std::string(name) + width + " " + reg(insn.dst) + ", " + (x ? reg(insn.src) : imm);
    }
    case kClassJmp:
    case kClassJmp32: {
      const char* width = cls == kClassJmp32 ? "32" : "";
      if (op == kJmpJa)
        return cls == kClassJmp ? "ja " + signed_offset(insn.offset)
                                : "ja32 " + signed_offset(insn.imm);
      if (op == kJmpExit) return "exit";
      if (op == kJmpCall) {
        if (x) return "call " + reg(insn.dst);
        if (insn.src == kPseudoCall) return "call local " + signed_offset(insn.imm);
        return "call " + imm;
      }
      const char* name = jump_name(op);
      if (name == nullptr) return "";
      return std::string(name) + width + " " + reg(insn.dst) + ", " + (x ? reg(insn.src) : imm) +
             ", " + signed_offset(insn.offset);
    }
    case kClassLd: {
      if (insn.opcode != kOpLdImm64 || next == nullptr) return "";
      uint64_t value = static_cast<uint32_t>(insn.imm) |
                       (static_cast<uint64_t>(static_cast<uint32_t>(next->imm)) << 32);
      char hex[32];
      std::snprintf(hex, sizeof(hex), "0x%llx", static_cast<unsigned long long>(value));
      std::string head = "lddw " + reg(insn.dst) + ", ";
      switch (insn.src) {
        case kPseudoImm64: return head + hex;
        case kPseudoMapFd: return head + "map:" + imm;
        case kPseudoMapValue: return head + "map_value:" + imm + "+" + std::to_string(next->imm);
        case kPseudoFunc: return head + "func:" + signed_offset(insn.imm);
      }
      return "";
    }
    case kClassLdx:
      return std::string("ldx") + (op_mode(insn.opcode) == kModeMemsx ? "s" : "") +
             size_suffix(op_size(insn.opcode)) + " " + reg(insn.dst) + ", " +
             memory(insn.src, insn.offset);
    case kClassSt:
      return std::string("st") + size_suffix(op_size(insn.opcode)) + " " +
             memory(insn.dst, insn.offset) + ", " + imm;
    case kClassStx: {
      if (op_mode(insn.opcode) == kModeMem) {
        return std::string("stx") + size_suffix(op_size(insn.opcode)) + " " +
               memory(insn.dst, insn.offset) + ", " + reg(insn.src);
      }
      const char* width = op_size(insn.opcode) == kSizeW ? "32" : "";
      std::string name;
      switch (insn.imm) {
        case kAtomicXchg: name = "xchg"; break;
        case kAtomicCmpxchg: name = "cmpxchg"; break;
        default: {
          int32_t base = insn.imm & ~kAtomicFetch;
          name = base == kAtomicAdd   ? "add"
                 : base == kAtomicOr  ? "or"
                 : base == kAtomicAnd ? "and"
                 : base == kAtomicXor ? "xor"
                                      : "";
          if (name.empty()) return "";
          if (insn.imm & kAtomicFetch) name = "fetch " + name;
        }
      }
      return "lock " + name + width + " " + memory(insn.dst, insn.offset) + ", " + reg(insn.src);
    }
  }
  return "";
}

}  // namespace

std::string to_assembly(const std::vector<Insn>& insns, std::string* error) {
  std::string out;
  for (size_t i = 0; i < insns.size(); ++i) {
    bool pair = insns[i].opcode == kOpLdImm64;
    std::string line =
        assembly_line(insns[i], pair && i + 1 < insns.size() ? &insns[i + 1] : nullptr);
    // Fields the text cannot carry (a register in an immediate form, stray offsets...) would
    // be lost: check by assembling the line back.
    if (!line.empty()) {
      AssemblyResult back = assemble(line);
      size_t slots = pair ? 2 : 1;
      if (!back.ok() || back.insns.size() != slots ||
          std::memcmp(back.insns.data(), &insns[i], slots * sizeof(Insn)) != 0) {
        line.clear();
      }
    }
    if (line.empty()) {
      if (error != nullptr)
        *error = "instruction " + std::to_string(i) + " has no assembly spelling";
      return "";
    }
    out += line + "\n";
    if (pair) ++i;
  }
  return out;
}

}  // namespace ebpf
