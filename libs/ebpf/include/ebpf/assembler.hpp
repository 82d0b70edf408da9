// SPDX-License-Identifier: MIT
// Assembler and disassembler for eBPF text (host only).
// Input syntax is the one used by the bpf_conformance data: `mov %r0, 1`, `ldxw %r0,
// [%r1+4]`, `jne %r1, 0x10, label`, `lock fetch add [%r10-8], %r1`, `call local f`, ...
// plus Linux's LD_IMM64 references: `lddw %r1, map:FD`, `lddw %r1, map_value:FD+OFFSET`,
// `lddw %r2, func:LABEL`.
// Output follows `bpftool prog dump xlated`: `0: (b7) r0 = 1`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ebpf/isa.hpp"

namespace ebpf {

struct AssemblyResult {
  std::vector<Insn> insns;
  std::string error;  // empty on success; otherwise "line N: what went wrong"
  bool ok() const { return error.empty(); }
};

AssemblyResult assemble(const std::string& text);

// One instruction (or an LD_IMM64 pair when `next` is given) in bpftool's xlated style,
// without the leading index.
std::string disassemble_one(const Insn& insn, const Insn* next = nullptr);
// A whole program, one `index: (opcode) text` line per instruction.
std::string disassemble(const std::vector<Insn>& insns);
// A whole program in the assembler's own syntax (numeric jump offsets), such that
// assemble(to_assembly(p)).insns == p. Empty, with *error set, for an encoding the
// assembler cannot spell (unknown opcode or reserved fields in use).
std::string to_assembly(const std::vector<Insn>& insns, std::string* error = nullptr);

}  // namespace ebpf
