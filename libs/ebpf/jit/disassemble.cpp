// SPDX-License-Identifier: MIT
// Intel-syntax listings of JIT output through Zydis, located with the image's offset table.
#include <Zydis/Zydis.h>

#include <cstdio>

#include "ebpf/jit_disassembly.hpp"
#include "jit_layout.hpp"

namespace ebpf {
namespace {

const jit::ImageHeader& header_of(const JitProgram& code) {
  return *reinterpret_cast<const jit::ImageHeader*>(code.code());
}

uint32_t insn_offset(const JitProgram& code, uint32_t pc) {
  const jit::ImageHeader& header = header_of(code);
  if (pc >= header.insn_count) return header.insn_offsets;
  uint32_t offset;
  __builtin_memcpy(&offset, code.code() + header.insn_offsets + 4 * pc, sizeof(offset));
  return offset;
}

// Decodes [begin, end) of the image; `each` gets an instruction's offset and text. Addresses are
// image offsets, so jumps name the offsets the listing shows (a call out of the image, to a
// helper or a map's lookup, shows the target's distance from the image start). Bytes that do not
// decode (the int3 padding decodes; nothing else should fail) end the walk.
template <typename Each>
void decode(const JitProgram& code, uint32_t begin, uint32_t end, Each each) {
  const uint8_t* bytes = code.code();
  uint32_t at = begin;
  while (at < end) {
    ZydisDisassembledInstruction instruction;
    if (!ZYAN_SUCCESS(ZydisDisassembleIntel(ZYDIS_MACHINE_MODE_LONG_64, at, bytes + at, end - at,
                                            &instruction))) {
      each(at, std::string("(bad)"));
      return;
    }
    each(at, std::string(instruction.text));
    at += instruction.info.length;
  }
}

}  // namespace

std::vector<std::string> jit_instructions(const JitProgram& code, uint32_t first, uint32_t last) {
  std::vector<std::string> lines;
  if (!code.compiled()) return lines;
  uint32_t count = header_of(code).insn_count;
  if (last > count) last = count;
  if (first >= last) return lines;
  // The last instruction ends where the int3 after the program begins.
  uint32_t end = last < count ? insn_offset(code, last) : header_of(code).insn_offsets;
  decode(code, insn_offset(code, first), end, [&](uint32_t, const std::string& text) {
    if (last == count && text == "int3") return;
    lines.push_back(text);
  });
  return lines;
}

std::string jit_listing(const JitProgram& code) {
  std::string out;
  if (!code.compiled()) return out;
  const jit::ImageHeader& header = header_of(code);
  auto line = [&](uint32_t at, const std::string& text) {
    char prefix[24];
    std::snprintf(prefix, sizeof(prefix), "  %04x  ", at);
    out += prefix + text + "\n";
  };
  out += "retpoline, trampoline and stubs:\n";
  decode(code, jit::kHeaderSize, insn_offset(code, 0), line);
  for (uint32_t pc = 0; pc < header.insn_count; ++pc) {
    uint32_t begin = insn_offset(code, pc);
    uint32_t end = pc + 1 < header.insn_count ? insn_offset(code, pc + 1) : header.insn_offsets;
    if (begin == end && pc > 0) continue;  // an LD_IMM64's second slot
    out += "insn " + std::to_string(pc) + ":\n";
    decode(code, begin, end, line);
  }
  return out;
}

}  // namespace ebpf
