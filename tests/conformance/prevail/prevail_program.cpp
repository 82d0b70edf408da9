// SPDX-License-Identifier: MIT
// PREVAIL test programs in Sonde's terms: the text assembly (PREVAIL's asm_parse syntax,
// written here from its documented forms) and the `pre` constraints.
#include "prevail_program.hpp"

#include <cstdint>
#include <regex>
#include <sstream>

namespace prevail_runner {
namespace {

using namespace ebpf;

#define NUM "([-+]?(?:0x[0-9a-fA-F]+|[0-9]+))"
#define REG "([rw])([0-9]+)"
#define CMP "(&?[=!]=|s?[<>]=?)"
#define MEMREF "\\*\\(\\s*([us])([0-9]+)\\s*\\*\\)\\s*\\(\\s*r([0-9]+)\\s*([+-])\\s*([0-9]+)\\s*\\)"

const std::regex kExit("exit");
const std::regex kCallHelper("call\\s+" NUM);
const std::regex kCallLocal("call\\s+<(\\w+)>");
const std::regex kCallx("callx\\s+r([0-9]+)");
const std::regex kUnary(REG
                        "\\s*=\\s*(-|be16|be32|be64|le16|le32|le64|swap16|swap32|swap64)\\s*" REG);
const std::regex kBinReg(REG "\\s*(\\S*)=\\s*" REG);
const std::regex kMapFd(REG "\\s*=\\s*map_fd\\s+([0-9]+)");
const std::regex kMapVal(REG "\\s*=\\s*map_val\\(([0-9]+)\\)\\s*\\+\\s*([0-9]+)");
const std::regex kMapByIdx(REG "\\s*=\\s*map_by_idx\\(([0-9]+)\\)");
const std::regex kMapValByIdx(REG "\\s*=\\s*mva\\(map_by_idx\\(([0-9]+)\\)\\)\\s*\\+\\s*([0-9]+)");
const std::regex kBinImm(REG "\\s*(\\S*)=\\s*" NUM "\\s*(ll)?");
const std::regex kLoad("r([0-9]+)\\s*=\\s*" MEMREF);
const std::regex kStore(MEMREF "\\s*=\\s*(r[0-9]+|" NUM ")");
const std::regex kAtomic("lock\\s+" MEMREF "\\s*(\\+|\\||&|\\^|x|cx)=\\s*r([0-9]+)(\\s+fetch)?");
const std::regex kPacket(
    "r0\\s*=\\s*\\*\\(\\s*u([0-9]+)\\s*\\*\\)\\s*skb\\[\\s*(r[0-9]+|[0-9]+)\\s*\\]");
const std::regex kAssume("assume\\s+" REG "\\s*" CMP "\\s*(r[0-9]+|" NUM ")");
const std::regex kJump("(?:if\\s+" REG "\\s*" CMP "\\s*(r[0-9]+|" NUM ")\\s+)?goto\\s+<(\\w+)>");

Insn make(uint8_t opcode, int dst = 0, int src = 0, int16_t offset = 0, int32_t imm = 0) {
  Insn insn{};
  insn.opcode = opcode;
  insn.dst = static_cast<uint8_t>(dst);
  insn.src = static_cast<uint8_t>(src);
  insn.offset = offset;
  insn.imm = imm;
  return insn;
}

// PREVAIL reads a plain immediate as a 32-bit value (sign-extended); with `ll` as 64 bits.
uint64_t parse_immediate(const std::string& text, bool wide) {
  bool negative = !text.empty() && text[0] == '-';
  int base = text.find("0x") != std::string::npos ? 16 : 10;
  if (wide)
    return negative ? static_cast<uint64_t>(std::stoll(text, nullptr, base))
                    : std::stoull(text, nullptr, base);
  if (negative)
    return static_cast<uint64_t>(
        static_cast<int64_t>(static_cast<int32_t>(std::stoll(text, nullptr, base))));
  return static_cast<uint64_t>(static_cast<int64_t>(
      static_cast<int32_t>(static_cast<uint32_t>(std::stoull(text, nullptr, base)))));
}

uint8_t size_code(int bits) {
  switch (bits) {
    case 8: return kSizeB;
    case 16: return kSizeH;
    case 32: return kSizeW;
    default: return kSizeDw;
  }
}

struct Comparison {
  uint8_t op;
  bool negated_set;  // PREVAIL's "&!=" (no BPF opcode: "not JSET")
};

bool comparison(const std::string& text, Comparison& out) {
  static const std::map<std::string, uint8_t> ops = {
      {"==", kJmpJeq},  {"!=", kJmpJne},   {"&==", kJmpJset}, {"&!=", kJmpJset},
      {"<", kJmpJlt},   {"<=", kJmpJle},   {">", kJmpJgt},    {">=", kJmpJge},
      {"s<", kJmpJslt}, {"s<=", kJmpJsle}, {"s>", kJmpJsgt},  {"s>=", kJmpJsge},
  };
  auto it = ops.find(text);
  if (it == ops.end()) return false;
  out = {it->second, text == "&!="};
  return true;
}

bool alu_op(const std::string& text, uint8_t& op, int16_t& offset) {
  static const std::map<std::string, std::pair<uint8_t, int16_t>> ops = {
      {"", {kAluMov, 0}},     {"+", {kAluAdd, 0}},  {"-", {kAluSub, 0}},    {"*", {kAluMul, 0}},
      {"/", {kAluDiv, 0}},    {"%", {kAluMod, 0}},  {"|", {kAluOr, 0}},     {"&", {kAluAnd, 0}},
      {"<<", {kAluLsh, 0}},   {">>", {kAluRsh, 0}}, {"s>>", {kAluArsh, 0}}, {"^", {kAluXor, 0}},
      {"s/", {kAluDiv, 1}},   {"s%", {kAluMod, 1}}, {"s8", {kAluMov, 8}},   {"s16", {kAluMov, 16}},
      {"s32", {kAluMov, 32}},
  };
  auto it = ops.find(text);
  if (it == ops.end()) return false;
  op = it->second.first;
  offset = it->second.second;
  return true;
}

class Assembler {
 public:
  explicit Assembler(TranslatedProgram& out) : out_(out) {}

  void emit(const Insn& insn, const std::string& source) {
    out_.insns.push_back(insn);
    out_.source.push_back(source);
  }
  void emit_to_label(const Insn& insn, const std::string& label, const std::string& source) {
    fixups_.push_back({out_.insns.size(), label});
    emit(insn, source);
  }
  void define(const std::string& label) { labels_[label] = out_.insns.size(); }
  std::string fresh_label() { return "#" + std::to_string(fresh_++); }

  // A conditional jump to `label` (two instructions for "not JSET").
  bool conditional_jump(const std::smatch& m, int first, const std::string& label,
                        const std::string& source, std::string& error) {
    Comparison c;
    if (!comparison(m[first + 2], c)) return error = "unknown comparison in: " + source, false;
    bool is32 = m[first] == "w";
    int dst = std::stoi(m[first + 1]);
    std::string right = m[first + 3];
    uint8_t cls = is32 ? kClassJmp32 : kClassJmp;
    Insn jump;
    if (right[0] == 'r' || right[0] == 'w') {
      jump = make(cls | c.op | kSrcX, dst, std::stoi(right.substr(1)));
    } else {
      jump =
          make(cls | c.op | kSrcK, dst, 0, 0, static_cast<int32_t>(parse_immediate(right, false)));
    }
    if (!c.negated_set) {
      emit_to_label(jump, label, source);
      return true;
    }
    jump.offset = 1;  // bits set: skip the jump to `label`
    emit(jump, source);
    emit_to_label(make(kClassJmp | kJmpJa), label, source);
    return true;
  }

  bool resolve(std::string& error) {
    for (const auto& [index, label] : fixups_) {
      auto it = labels_.find(label);
      if (it == labels_.end()) return error = "unknown label <" + label + ">", false;
      int64_t delta = static_cast<int64_t>(it->second) - static_cast<int64_t>(index) - 1;
      Insn& insn = out_.insns[index];
      if (insn.opcode == (kClassJmp | kJmpCall))
        insn.imm = static_cast<int32_t>(delta);
      else
        insn.offset = static_cast<int16_t>(delta);
    }
    return true;
  }

 private:
  TranslatedProgram& out_;
  std::vector<std::pair<size_t, std::string>> fixups_;
  std::map<std::string, size_t> labels_;
  int fresh_ = 0;
};

bool translate_line(Assembler& a, TranslatedProgram& out, const std::string& line, bool& ends_flow,
                    std::string& error) {
  std::smatch m;
  ends_flow = false;
  auto reg = [&](int i) { return std::stoi(m[i]); };
  if (std::regex_match(line, m, kExit)) {
    a.emit(make(kClassJmp | kJmpExit), line);
    ends_flow = true;
    return true;
  }
  if (std::regex_match(line, m, kCallHelper)) {
    a.emit(make(kClassJmp | kJmpCall, 0, 0, 0, static_cast<int32_t>(parse_immediate(m[1], false))),
           line);
    return true;
  }
  if (std::regex_match(line, m, kCallLocal)) {
    a.emit_to_label(make(kClassJmp | kJmpCall, 0, kPseudoCall), m[1], line);
    return true;
  }
  if (std::regex_match(line, m, kCallx)) {
    a.emit(make(kClassJmp | kJmpCall | kSrcX, reg(1)),
           line);  // Linux has no callx; encoded as LLVM does
    return true;
  }
  if (std::regex_match(line, m, kUnary)) {
    if (m[1] != m[4] || m[2] != m[5])
      return error = "unary operation on two registers: " + line, false;
    bool is32 = m[1] == "w";
    std::string op = m[3];
    int dst = reg(2);
    if (op == "-") {
      a.emit(make((is32 ? kClassAlu : kClassAlu64) | kAluNeg, dst), line);
    } else {
      int bits = std::stoi(op.substr(op[0] == 's' ? 4 : 2));
      uint8_t opcode = op[0] == 's' ? (kClassAlu64 | kAluEnd | kEndToLe)
                                    : (kClassAlu | kAluEnd | (op[0] == 'b' ? kEndToBe : kEndToLe));
      a.emit(make(opcode, dst, 0, 0, bits), line);
    }
    return true;
  }
  if (std::regex_match(line, m, kMapFd)) {
    a.emit(make(kOpLdImm64, reg(2), kPseudoMapFd, 0, std::stoi(m[3])), line);
    a.emit(make(0), line);
    return true;
  }
  if (std::regex_match(line, m, kMapVal)) {
    a.emit(make(kOpLdImm64, reg(2), kPseudoMapValue, 0, std::stoi(m[3])), line);
    a.emit(make(0, 0, 0, 0, std::stoi(m[4])), line);
    return true;
  }
  if (std::regex_match(line, m, kMapByIdx)) {
    a.emit(make(kOpLdImm64, reg(2), kPseudoMapIdx, 0, std::stoi(m[3])), line);
    a.emit(make(0), line);
    return true;
  }
  if (std::regex_match(line, m, kMapValByIdx)) {
    a.emit(make(kOpLdImm64, reg(2), kPseudoMapIdxValue, 0, std::stoi(m[3])), line);
    a.emit(make(0, 0, 0, 0, std::stoi(m[4])), line);
    return true;
  }
  if (std::regex_match(line, m, kBinReg)) {
    uint8_t op;
    int16_t offset;
    if (!alu_op(m[3], op, offset)) return error = "unknown operator in: " + line, false;
    bool is32 = m[1] == "w";
    a.emit(make((is32 ? kClassAlu : kClassAlu64) | op | kSrcX, reg(2), std::stoi(m[5]), offset),
           line);
    return true;
  }
  if (std::regex_match(line, m, kBinImm)) {
    uint8_t op;
    int16_t offset;
    if (!alu_op(m[3], op, offset) || (op == kAluMov && offset != 0))
      return error = "unknown operator in: " + line, false;
    bool is32 = m[1] == "w";
    bool wide = m[5].matched && m[5] == "ll";
    uint64_t value = parse_immediate(m[4], wide);
    if (wide) {
      if (op != kAluMov || is32)
        return error = "ll immediate outside a 64-bit move: " + line, false;
      a.emit(make(kOpLdImm64, reg(2), 0, 0, static_cast<int32_t>(static_cast<uint32_t>(value))),
             line);
      a.emit(make(0, 0, 0, 0, static_cast<int32_t>(static_cast<uint32_t>(value >> 32))), line);
      return true;
    }
    a.emit(make((is32 ? kClassAlu : kClassAlu64) | op | kSrcK, reg(2), 0, offset,
                static_cast<int32_t>(value)),
           line);
    return true;
  }
  if (std::regex_match(line, m, kLoad)) {
    int bits = std::stoi(m[3]);
    int16_t offset = static_cast<int16_t>(m[5] == "-" ? -std::stoi(m[6]) : std::stoi(m[6]));
    uint8_t mode = m[2] == "s" ? kModeMemsx : kModeMem;
    a.emit(make(kClassLdx | mode | size_code(bits), reg(1), reg(4), offset), line);
    return true;
  }
  if (std::regex_match(line, m, kStore)) {
    if (m[1] == "s") return error = "signed store: " + line, false;
    int bits = std::stoi(m[2]);
    int16_t offset = static_cast<int16_t>(m[4] == "-" ? -std::stoi(m[5]) : std::stoi(m[5]));
    std::string value = m[6];
    if (value[0] == 'r') {
      a.emit(
          make(kClassStx | kModeMem | size_code(bits), reg(3), std::stoi(value.substr(1)), offset),
          line);
    } else {
      a.emit(make(kClassSt | kModeMem | size_code(bits), reg(3), 0, offset,
                  static_cast<int32_t>(parse_immediate(value, false))),
             line);
    }
    return true;
  }
  if (std::regex_match(line, m, kAtomic)) {
    int bits = std::stoi(m[2]);
    int16_t offset = static_cast<int16_t>(m[4] == "-" ? -std::stoi(m[5]) : std::stoi(m[5]));
    std::string op = m[6];
    int32_t imm = op == "+"   ? kAtomicAdd
                  : op == "|" ? kAtomicOr
                  : op == "&" ? kAtomicAnd
                  : op == "^" ? kAtomicXor
                  : op == "x" ? kAtomicXchg
                              : kAtomicCmpxchg;
    if (m[8].matched) imm |= kAtomicFetch;
    a.emit(make(kClassStx | kModeAtomic | size_code(bits), reg(3), std::stoi(m[7]), offset, imm),
           line);
    return true;
  }
  if (std::regex_match(line, m, kPacket)) {
    std::string where = m[2];
    uint8_t size = size_code(std::stoi(m[1]));
    if (where[0] == 'r')
      a.emit(make(kClassLd | kModeInd | size, 0, std::stoi(where.substr(1))), line);
    else
      a.emit(make(kClassLd | kModeAbs | size, 0, 0, 0, std::stoi(where)), line);
    return true;
  }
  if (std::regex_match(line, m, kAssume)) {
    std::string continuation = a.fresh_label();
    size_t jump = out.insns.size();
    if (!a.conditional_jump(m, 1, continuation, line, error)) return false;
    a.emit(make(kClassAlu64 | kAluMov | kSrcK, 0), line + " (dead end)");
    a.emit(make(kClassJmp | kJmpExit), line + " (dead end)");
    a.define(continuation);
    out.assumes.push_back({jump, out.insns.size(), line});
    return true;
  }
  if (std::regex_match(line, m, kJump)) {
    if (!m[1].matched) {
      a.emit_to_label(make(kClassJmp | kJmpJa), m[6], line);
      ends_flow = true;
      return true;
    }
    if (m[3] != "&!=") out.branches.emplace_back(out.insns.size(), line);
    return a.conditional_jump(m, 1, m[6], line, error);
  }
  return error = "unknown instruction: " + line, false;
}

std::string strip(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

}  // namespace

bool translate_program(const TestCase& tc, TranslatedProgram& out, std::string& error) {
  Assembler a(out);
  bool falls_off = true;
  for (const auto& [label, text] : tc.blocks) {
    a.define(label);
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
      line = strip(line.substr(0, line.find(';')));
      if (line.empty()) continue;
      bool ends = false;
      if (!translate_line(a, out, line, ends, error)) return false;
      falls_off = !ends;
    }
  }
  a.define("#end");
  if (falls_off || out.insns.empty()) {
    a.emit(make(kClassAlu64 | kAluMov | kSrcK, 0), "(end of test code)");
    a.emit(make(kClassJmp | kJmpExit), "(end of test code)");
  }
  return a.resolve(error);
}

}  // namespace prevail_runner
