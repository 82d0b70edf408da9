// Host disassembler: whole programs as `index: (opcode) text` lines.
#include <cstdio>

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
