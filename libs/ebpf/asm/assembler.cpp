// SPDX-License-Identifier: MIT
// Text to instructions: a two-pass assembler (labels first, then encoding).
#include "ebpf/assembler.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>

namespace ebpf {
namespace {

struct Line {
  int number;
  std::string mnemonic;
  std::vector<std::string> operands;
};

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  size_t b = s.find_last_not_of(" \t\r");
  return s.substr(a, b - a + 1);
}

std::optional<int> parse_register(const std::string& text) {
  std::string t = trim(text);
  if (!t.empty() && t[0] == '%') t = t.substr(1);
  if (t.size() < 2 || t[0] != 'r') return std::nullopt;
  char* end = nullptr;
  long n = std::strtol(t.c_str() + 1, &end, 10);
  if (*end != 0 || n < 0 || n > 10) return std::nullopt;
  return static_cast<int>(n);
}

std::optional<int64_t> parse_integer(const std::string& text) {
  std::string t = trim(text);
  if (t.empty()) return std::nullopt;
  bool negative = false;
  size_t at = 0;
  if (t[0] == '-' || t[0] == '+') {
    negative = t[0] == '-';
    at = 1;
  }
  if (at >= t.size()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  uint64_t magnitude = std::strtoull(t.c_str() + at, &end, 0);
  if (*end != 0 || errno != 0) return std::nullopt;
  return negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
}

// `[%rN+off]`, `[%rN-off]` or `[%rN]`.
bool parse_memory(const std::string& text, int& reg, int16_t& offset) {
  std::string t = trim(text);
  if (t.size() < 4 || t.front() != '[' || t.back() != ']') return false;
  t = t.substr(1, t.size() - 2);
  size_t sign = t.find_first_of("+-");
  auto r = parse_register(sign == std::string::npos ? t : t.substr(0, sign));
  if (!r) return false;
  reg = *r;
  offset = 0;
  if (sign != std::string::npos) {
    auto o = parse_integer(t.substr(sign));
    if (!o || *o < INT16_MIN || *o > INT16_MAX) return false;
    offset = static_cast<int16_t>(*o);
  }
  return true;
}

Insn make(uint8_t opcode, int dst = 0, int src = 0, int16_t offset = 0, int32_t imm = 0) {
  Insn insn{};
  insn.opcode = opcode;
  insn.dst = static_cast<uint8_t>(dst);
  insn.src = static_cast<uint8_t>(src);
  insn.offset = offset;
  insn.imm = imm;
  return insn;
}

const std::map<std::string, uint8_t>& alu_ops() {
  static const std::map<std::string, uint8_t> ops = {
      {"add", kAluAdd}, {"sub", kAluSub},   {"mul", kAluMul},  {"div", kAluDiv}, {"or", kAluOr},
      {"and", kAluAnd}, {"lsh", kAluLsh},   {"rsh", kAluRsh},  {"mod", kAluMod}, {"xor", kAluXor},
      {"mov", kAluMov}, {"arsh", kAluArsh}, {"sdiv", kAluDiv}, {"smod", kAluMod}};
  return ops;
}

const std::map<std::string, uint8_t>& jump_ops() {
  static const std::map<std::string, uint8_t> ops = {
      {"jeq", kJmpJeq}, {"jgt", kJmpJgt},   {"jge", kJmpJge},   {"jset", kJmpJset},
      {"jne", kJmpJne}, {"jsgt", kJmpJsgt}, {"jsge", kJmpJsge}, {"jlt", kJmpJlt},
      {"jle", kJmpJle}, {"jslt", kJmpJslt}, {"jsle", kJmpJsle}};
  return ops;
}

int size_of_suffix(const std::string& suffix) {
  if (suffix == "b") return kSizeB;
  if (suffix == "h") return kSizeH;
  if (suffix == "w") return kSizeW;
  if (suffix == "dw") return kSizeDw;
  return -1;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

class Assembler {
 public:
  AssemblyResult run(const std::string& text) {
    if (!read_lines(text)) return result_;
    for (const Line& line : lines_) {
      if (!encode(line)) return result_;
    }
    return result_;
  }

 private:
  bool fail(int line, const std::string& message) {
    result_.error = "line " + std::to_string(line) + ": " + message;
    result_.insns.clear();
    return false;
  }

  bool read_lines(const std::string& text) {
    std::istringstream in(text);
    std::string raw;
    int number = 0;
    size_t slot = 0;
    while (std::getline(in, raw)) {
      ++number;
      size_t comment = raw.find('#');
      std::string line = trim(comment == std::string::npos ? raw : raw.substr(0, comment));
      if (line.empty()) continue;
      if (line.back() == ':') {
        std::string label = trim(line.substr(0, line.size() - 1));
        if (label.empty() || labels_.count(label))
          return fail(number, "bad or duplicate label '" + label + "'");
        labels_[label] = slot;
        continue;
      }
      Line parsed{number, "", {}};
      size_t space = line.find_first_of(" \t");
      parsed.mnemonic = line.substr(0, space);
      std::string rest = space == std::string::npos ? "" : trim(line.substr(space));
      if (parsed.mnemonic == "lock") {
        // `lock [fetch] op[32] [mem], %rS`: fold the words into one mnemonic.
        size_t bracket = rest.find('[');
        if (bracket == std::string::npos) return fail(number, "lock needs a memory operand");
        std::string words = trim(rest.substr(0, bracket));
        for (char& c : words)
          if (c == ' ' || c == '\t') c = '_';
        parsed.mnemonic = "lock_" + words;
        rest = rest.substr(bracket);
      }
      if (parsed.mnemonic == "call" && rest.rfind("local ", 0) == 0) {
        parsed.mnemonic = "call_local";
        rest = trim(rest.substr(6));
      }
      // Split operands on commas outside brackets.
      std::string current;
      int depth = 0;
      for (char c : rest) {
        if (c == '[') ++depth;
        if (c == ']') --depth;
        if (c == ',' && depth == 0) {
          parsed.operands.push_back(trim(current));
          current.clear();
        } else {
          current += c;
        }
      }
      if (!trim(current).empty()) parsed.operands.push_back(trim(current));
      if (parsed.mnemonic == "exit") exit_slots_.push_back(slot);
      lines_.push_back(parsed);
      slot += parsed.mnemonic == "lddw" ? 2 : 1;
    }
    return true;
  }

  std::optional<int32_t> jump_offset(const std::string& target, size_t pc, bool wide) {
    auto number = parse_integer(target);
    if (number && (target[0] == '+' || target[0] == '-' ||
                   std::isdigit(static_cast<unsigned char>(target[0])))) {
      if (!wide && (*number < INT16_MIN || *number > INT16_MAX)) return std::nullopt;
      return static_cast<int32_t>(*number);
    }
    size_t destination = 0;
    auto it = labels_.find(target);
    if (it != labels_.end()) {
      destination = it->second;
    } else if (target == "exit") {
      // Without an `exit:` label, `exit` names the next exit instruction (the conformance
      // data's convention).
      auto next = std::upper_bound(exit_slots_.begin(), exit_slots_.end(), pc);
      if (next == exit_slots_.end()) return std::nullopt;
      destination = *next;
    } else {
      return std::nullopt;
    }
    int64_t offset = static_cast<int64_t>(destination) - static_cast<int64_t>(pc) - 1;
    if (!wide && (offset < INT16_MIN || offset > INT16_MAX)) return std::nullopt;
    return static_cast<int32_t>(offset);
  }

  bool expect_operands(const Line& line, size_t n) {
    if (line.operands.size() != n) {
      return fail(line.number,
                  "'" + line.mnemonic + "' takes " + std::to_string(n) + " operand(s)");
    }
    return true;
  }

  bool imm32(const Line& line, const std::string& text, int32_t& out) {
    auto v = parse_integer(text);
    if (!v || *v < INT32_MIN || *v > static_cast<int64_t>(UINT32_MAX)) {
      return fail(line.number, "bad 32-bit immediate '" + text + "'");
    }
    out = static_cast<int32_t>(static_cast<uint32_t>(*v));
    return true;
  }

  bool encode(const Line& line) {
    std::vector<Insn>& out = result_.insns;
    const std::string& m = line.mnemonic;
    size_t pc = out.size();

    if (m == "exit") {
      if (!expect_operands(line, 0)) return false;
      out.push_back(make(kClassJmp | kJmpExit));
      return true;
    }
    if (m == "lddw") {
      if (!expect_operands(line, 2)) return false;
      auto dst = parse_register(line.operands[0]);
      if (dst && line.operands[1].rfind("map:", 0) == 0) {
        // `lddw %rN, map:FD`: a map reference (BPF_PSEUDO_MAP_FD) the loader resolves.
        auto fd = parse_integer(line.operands[1].substr(4));
        if (!fd || *fd < 0 || *fd > INT32_MAX)
          return fail(line.number, "bad map fd in '" + line.operands[1] + "'");
        out.push_back(make(kOpLdImm64, *dst, kPseudoMapFd, 0, static_cast<int32_t>(*fd)));
        out.push_back(make(0));
        return true;
      }
      if (dst && line.operands[1].rfind("func:", 0) == 0) {
        // `lddw %rN, func:LABEL`: a function reference (BPF_PSEUDO_FUNC) for callbacks, in
        // Linux's pc-relative form.
        auto offset = jump_offset(line.operands[1].substr(5), pc, true);
        if (!offset)
          return fail(line.number, "unknown function '" + line.operands[1].substr(5) + "'");
        out.push_back(make(kOpLdImm64, *dst, kPseudoFunc, 0, *offset));
        out.push_back(make(0));
        return true;
      }
      if (dst && line.operands[1].rfind("map_value:", 0) == 0) {
        // `lddw %rN, map_value:FD+OFFSET`: the address of a byte in a map's value
        // (BPF_PSEUDO_MAP_VALUE), as globals and .rodata are referenced.
        std::string ref = line.operands[1].substr(10);
        size_t plus = ref.find('+');
        auto fd = parse_integer(ref.substr(0, plus));
        auto offset = plus == std::string::npos ? std::optional<int64_t>(0)
                                                : parse_integer(ref.substr(plus + 1));
        if (!fd || !offset || *fd < 0 || *fd > INT32_MAX || *offset < 0 || *offset > INT32_MAX) {
          return fail(line.number, "bad map value reference '" + line.operands[1] + "'");
        }
        out.push_back(make(kOpLdImm64, *dst, kPseudoMapValue, 0, static_cast<int32_t>(*fd)));
        out.push_back(make(0, 0, 0, 0, static_cast<int32_t>(*offset)));
        return true;
      }
      auto value = parse_integer(line.operands[1]);
      if (!dst || !value) return fail(line.number, "lddw needs a register and a 64-bit value");
      uint64_t v = static_cast<uint64_t>(*value);
      out.push_back(make(kOpLdImm64, *dst, 0, 0, static_cast<int32_t>(static_cast<uint32_t>(v))));
      out.push_back(make(0, 0, 0, 0, static_cast<int32_t>(static_cast<uint32_t>(v >> 32))));
      return true;
    }
    if (m == "call" || m == "call_local") {
      if (!expect_operands(line, 1)) return false;
      if (m == "call_local") {
        auto offset = jump_offset(line.operands[0], pc, true);
        if (!offset) return fail(line.number, "unknown call target '" + line.operands[0] + "'");
        out.push_back(make(kClassJmp | kJmpCall, 0, kPseudoCall, 0, *offset));
        return true;
      }
      if (auto reg = parse_register(line.operands[0])) {
        out.push_back(make(kClassJmp | kJmpCall | kSrcX, *reg));
        return true;
      }
      int32_t id;
      if (!imm32(line, line.operands[0], id)) return false;
      out.push_back(make(kClassJmp | kJmpCall, 0, kCallHelper, 0, id));
      return true;
    }
    if (m == "ja" || m == "ja32") {
      if (!expect_operands(line, 1)) return false;
      auto offset = jump_offset(line.operands[0], pc, m == "ja32");
      if (!offset) return fail(line.number, "bad jump target '" + line.operands[0] + "'");
      if (m == "ja")
        out.push_back(make(kClassJmp | kJmpJa, 0, 0, static_cast<int16_t>(*offset)));
      else
        out.push_back(make(kClassJmp32 | kJmpJa, 0, 0, 0, *offset));
      return true;
    }
    // Conditional jumps: jXX[32] %rD, %rS|imm, target.
    {
      std::string base = ends_with(m, "32") ? m.substr(0, m.size() - 2) : m;
      auto it = jump_ops().find(base);
      if (it != jump_ops().end()) {
        if (!expect_operands(line, 3)) return false;
        uint8_t cls = ends_with(m, "32") ? kClassJmp32 : kClassJmp;
        auto dst = parse_register(line.operands[0]);
        if (!dst) return fail(line.number, "bad register '" + line.operands[0] + "'");
        auto offset = jump_offset(line.operands[2], pc, false);
        if (!offset) return fail(line.number, "bad jump target '" + line.operands[2] + "'");
        if (auto src = parse_register(line.operands[1])) {
          out.push_back(make(cls | it->second | kSrcX, *dst, *src, static_cast<int16_t>(*offset)));
        } else {
          int32_t imm;
          if (!imm32(line, line.operands[1], imm)) return false;
          out.push_back(
              make(cls | it->second | kSrcK, *dst, 0, static_cast<int16_t>(*offset), imm));
        }
        return true;
      }
    }
    // Byte swaps.
    for (const char* prefix : {"le", "be", "bswap", "swap"}) {
      std::string p = prefix;
      if (m.rfind(p, 0) == 0 && (m.size() == p.size() + 2)) {
        auto width = parse_integer(m.substr(p.size()));
        if (!width || (*width != 16 && *width != 32 && *width != 64)) break;
        if (!expect_operands(line, 1)) return false;
        auto dst = parse_register(line.operands[0]);
        if (!dst) return fail(line.number, "bad register '" + line.operands[0] + "'");
        uint8_t opcode = p == "le"   ? (kClassAlu | kAluEnd | kEndToLe)
                         : p == "be" ? (kClassAlu | kAluEnd | kEndToBe)
                                     : (kClassAlu64 | kAluEnd);
        out.push_back(make(opcode, *dst, 0, 0, static_cast<int32_t>(*width)));
        return true;
      }
    }
    // Negation.
    if (m == "neg" || m == "neg64" || m == "neg32") {
      if (!expect_operands(line, 1)) return false;
      auto dst = parse_register(line.operands[0]);
      if (!dst) return fail(line.number, "bad register '" + line.operands[0] + "'");
      out.push_back(make((m == "neg32" ? kClassAlu : kClassAlu64) | kAluNeg, *dst));
      return true;
    }
    // Sign-extending moves: movsx<from><to>.
    if (m.rfind("movsx", 0) == 0) {
      static const std::map<std::string, std::pair<uint8_t, int16_t>> forms = {
          {"movsx832", {kClassAlu, 8}},
          {"movsx1632", {kClassAlu, 16}},
          {"movsx864", {kClassAlu64, 8}},
          {"movsx1664", {kClassAlu64, 16}},
          {"movsx3264", {kClassAlu64, 32}}};
      auto it = forms.find(m);
      if (it == forms.end()) return fail(line.number, "unknown instruction '" + m + "'");
      if (!expect_operands(line, 2)) return false;
      auto dst = parse_register(line.operands[0]);
      auto src = parse_register(line.operands[1]);
      if (!dst || !src) return fail(line.number, "movsx takes two registers");
      out.push_back(make(it->second.first | kAluMov | kSrcX, *dst, *src, it->second.second));
      return true;
    }
    // ALU: op[32|64] %rD, %rS|imm.
    {
      std::string base = m;
      uint8_t cls = kClassAlu64;
      if (ends_with(m, "32")) {
        base = m.substr(0, m.size() - 2);
        cls = kClassAlu;
      } else if (ends_with(m, "64")) {
        base = m.substr(0, m.size() - 2);
      }
      auto it = alu_ops().find(base);
      if (it != alu_ops().end()) {
        if (!expect_operands(line, 2)) return false;
        auto dst = parse_register(line.operands[0]);
        if (!dst) return fail(line.number, "bad register '" + line.operands[0] + "'");
        int16_t offset = (base == "sdiv" || base == "smod") ? 1 : 0;
        if (auto src = parse_register(line.operands[1])) {
          out.push_back(make(cls | it->second | kSrcX, *dst, *src, offset));
        } else {
          int32_t imm;
          if (!imm32(line, line.operands[1], imm)) return false;
          out.push_back(make(cls | it->second | kSrcK, *dst, 0, offset, imm));
        }
        return true;
      }
    }
    // Loads: ldx{b,h,w,dw} and sign-extending ldxs{b,h,w}.
    if (m.rfind("ldx", 0) == 0) {
      bool sign = m.size() > 3 && m[3] == 's';
      int size = size_of_suffix(m.substr(sign ? 4 : 3));
      if (size < 0 || (sign && size == kSizeDw))
        return fail(line.number, "unknown instruction '" + m + "'");
      if (!expect_operands(line, 2)) return false;
      auto dst = parse_register(line.operands[0]);
      int src;
      int16_t offset;
      if (!dst || !parse_memory(line.operands[1], src, offset)) {
        return fail(line.number, m + " takes a register and a memory operand");
      }
      out.push_back(make(kClassLdx | size | (sign ? kModeMemsx : kModeMem), *dst, src, offset));
      return true;
    }
    // Stores: st{b,h,w,dw} [mem], imm and stx{b,h,w,dw} [mem], %rS.
    if (m.rfind("st", 0) == 0) {
      bool reg_form = m.size() > 2 && m[2] == 'x';
      int size = size_of_suffix(m.substr(reg_form ? 3 : 2));
      if (size < 0) return fail(line.number, "unknown instruction '" + m + "'");
      if (!expect_operands(line, 2)) return false;
      int dst;
      int16_t offset;
      if (!parse_memory(line.operands[0], dst, offset))
        return fail(line.number, "bad memory operand");
      if (reg_form) {
        auto src = parse_register(line.operands[1]);
        if (!src) return fail(line.number, "bad register '" + line.operands[1] + "'");
        out.push_back(make(kClassStx | size | kModeMem, dst, *src, offset));
      } else {
        int32_t imm;
        if (!imm32(line, line.operands[1], imm)) return false;
        out.push_back(make(kClassSt | size | kModeMem, dst, 0, offset, imm));
      }
      return true;
    }
    // Atomics: lock_[fetch_]op[32].
    if (m.rfind("lock_", 0) == 0) {
      std::string op = m.substr(5);
      int32_t imm = 0;
      if (op.rfind("fetch_", 0) == 0) {
        imm |= kAtomicFetch;
        op = op.substr(6);
      }
      int size = kSizeDw;
      if (ends_with(op, "32")) {
        size = kSizeW;
        op = op.substr(0, op.size() - 2);
      }
      if (op == "add")
        imm |= kAtomicAdd;
      else if (op == "or")
        imm |= kAtomicOr;
      else if (op == "and")
        imm |= kAtomicAnd;
      else if (op == "xor")
        imm |= kAtomicXor;
      else if (op == "xchg")
        imm = kAtomicXchg;
      else if (op == "cmpxchg")
        imm = kAtomicCmpxchg;
      else
        return fail(line.number, "unknown atomic operation '" + op + "'");
      if (!expect_operands(line, 2)) return false;
      int dst;
      int16_t offset;
      auto src = parse_register(line.operands[1]);
      if (!parse_memory(line.operands[0], dst, offset) || !src) {
        return fail(line.number, "atomics take a memory operand and a register");
      }
      out.push_back(make(kClassStx | size | kModeAtomic, dst, *src, offset, imm));
      return true;
    }
    return fail(line.number, "unknown instruction '" + m + "'");
  }

  AssemblyResult result_;
  std::vector<Line> lines_;
  std::map<std::string, size_t> labels_;
  std::vector<size_t> exit_slots_;
};

}  // namespace

AssemblyResult assemble(const std::string& text) { return Assembler().run(text); }

}  // namespace ebpf
