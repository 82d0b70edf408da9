// SPDX-License-Identifier: MIT
// eBPF instruction encoding (RFC 9669): the instruction word, opcode fields and constants.
// Shared by the assembler, verifier, interpreter and JIT; freestanding.
#pragma once

#include <stdint.h>

namespace ebpf {

// One 64-bit instruction slot, in the layout Linux's `struct bpf_insn` uses.
struct Insn {
  uint8_t opcode;
  uint8_t dst : 4;
  uint8_t src : 4;
  int16_t offset;
  int32_t imm;
};
static_assert(sizeof(Insn) == 8, "bpf_insn is 8 bytes");

// Instruction classes (low 3 bits of the opcode).
inline constexpr uint8_t kClassLd = 0x00;
inline constexpr uint8_t kClassLdx = 0x01;
inline constexpr uint8_t kClassSt = 0x02;
inline constexpr uint8_t kClassStx = 0x03;
inline constexpr uint8_t kClassAlu = 0x04;
inline constexpr uint8_t kClassJmp = 0x05;
inline constexpr uint8_t kClassJmp32 = 0x06;
inline constexpr uint8_t kClassAlu64 = 0x07;

inline constexpr uint8_t insn_class(uint8_t opcode) { return opcode & 0x07; }

// Source operand (bit 3) for ALU/JMP: immediate or register. For ALU END (byte swap) the
// same bit selects to-little (0) or to-big (1) endian.
inline constexpr uint8_t kSrcK = 0x00;
inline constexpr uint8_t kSrcX = 0x08;
inline constexpr uint8_t kEndToLe = 0x00;
inline constexpr uint8_t kEndToBe = 0x08;

// ALU operations (high 4 bits).
inline constexpr uint8_t kAluAdd = 0x00;
inline constexpr uint8_t kAluSub = 0x10;
inline constexpr uint8_t kAluMul = 0x20;
inline constexpr uint8_t kAluDiv = 0x30;  // offset 1: signed (SDIV)
inline constexpr uint8_t kAluOr = 0x40;
inline constexpr uint8_t kAluAnd = 0x50;
inline constexpr uint8_t kAluLsh = 0x60;
inline constexpr uint8_t kAluRsh = 0x70;
inline constexpr uint8_t kAluNeg = 0x80;
inline constexpr uint8_t kAluMod = 0x90;  // offset 1: signed (SMOD)
inline constexpr uint8_t kAluXor = 0xa0;
inline constexpr uint8_t kAluMov = 0xb0;  // offset 8/16/32: MOVSX
inline constexpr uint8_t kAluArsh = 0xc0;
inline constexpr uint8_t kAluEnd = 0xd0;  // ALU64 form: unconditional BSWAP

// Jump operations (high 4 bits).
inline constexpr uint8_t kJmpJa = 0x00;  // JMP32 class form (JA32) uses imm as the offset
inline constexpr uint8_t kJmpJeq = 0x10;
inline constexpr uint8_t kJmpJgt = 0x20;
inline constexpr uint8_t kJmpJge = 0x30;
inline constexpr uint8_t kJmpJset = 0x40;
inline constexpr uint8_t kJmpJne = 0x50;
inline constexpr uint8_t kJmpJsgt = 0x60;
inline constexpr uint8_t kJmpJsge = 0x70;
inline constexpr uint8_t kJmpCall = 0x80;
inline constexpr uint8_t kJmpExit = 0x90;
inline constexpr uint8_t kJmpJlt = 0xa0;
inline constexpr uint8_t kJmpJle = 0xb0;
inline constexpr uint8_t kJmpJslt = 0xc0;
inline constexpr uint8_t kJmpJsle = 0xd0;

// Load/store size (bits 3-4) and mode (bits 5-7).
inline constexpr uint8_t kSizeW = 0x00;
inline constexpr uint8_t kSizeH = 0x08;
inline constexpr uint8_t kSizeB = 0x10;
inline constexpr uint8_t kSizeDw = 0x18;
inline constexpr uint8_t kModeImm = 0x00;
inline constexpr uint8_t kModeAbs = 0x20;
inline constexpr uint8_t kModeInd = 0x40;
inline constexpr uint8_t kModeMem = 0x60;
inline constexpr uint8_t kModeMemsx = 0x80;
inline constexpr uint8_t kModeAtomic = 0xc0;
// Linux's BPF_PROBE_MEM: a load the verifier rewrote from a BTF-typed kernel pointer; engines
// read it as bpf_probe_read_kernel does (zero on a fault). Never accepted in a loaded program.
inline constexpr uint8_t kModeProbeMem = 0x20;

inline constexpr uint8_t op_code(uint8_t opcode) { return opcode & 0xf0; }
inline constexpr uint8_t op_source(uint8_t opcode) { return opcode & 0x08; }
inline constexpr uint8_t op_size(uint8_t opcode) { return opcode & 0x18; }
inline constexpr uint8_t op_mode(uint8_t opcode) { return opcode & 0xe0; }

inline constexpr int size_bytes(uint8_t size) {
  return size == kSizeB ? 1 : size == kSizeH ? 2 : size == kSizeW ? 4 : 8;
}

// Atomic operations (imm field of STX | ATOMIC).
inline constexpr int32_t kAtomicAdd = 0x00;
inline constexpr int32_t kAtomicOr = 0x40;
inline constexpr int32_t kAtomicAnd = 0x50;
inline constexpr int32_t kAtomicXor = 0xa0;
inline constexpr int32_t kAtomicFetch = 0x01;
inline constexpr int32_t kAtomicXchg = 0xe0 | kAtomicFetch;
inline constexpr int32_t kAtomicCmpxchg = 0xf0 | kAtomicFetch;

// LD_IMM64 (opcode 0x18) source-register values: how the 64-bit immediate is interpreted.
inline constexpr uint8_t kPseudoImm64 = 0;
inline constexpr uint8_t kPseudoMapFd = 1;        // imm: map fd
inline constexpr uint8_t kPseudoMapValue = 2;     // imm: map fd, next imm: offset in value
inline constexpr uint8_t kPseudoBtfId = 3;        // imm: BTF id of a kernel variable
inline constexpr uint8_t kPseudoFunc = 4;         // imm: instruction offset of a subprogram
inline constexpr uint8_t kPseudoMapIdx = 5;       // imm: index into the fd_array
inline constexpr uint8_t kPseudoMapIdxValue = 6;  // imm: fd_array index, next imm: offset

// CALL source-register values.
inline constexpr uint8_t kCallHelper = 0;       // imm: helper id (enum bpf_func_id)
inline constexpr uint8_t kPseudoCall = 1;       // imm: pc-relative offset of a bpf function
inline constexpr uint8_t kPseudoKfuncCall = 2;  // imm: BTF id of a kernel function

inline constexpr uint8_t kOpLdImm64 = kClassLd | kSizeDw | kModeImm;  // 0x18

// Register file and limits, as Linux defines them.
inline constexpr int kNumRegisters = 11;  // r0..r10, r10 is the read-only frame pointer
inline constexpr int kFramePointer = 10;
inline constexpr int kStackSize = 512;                 // bytes per frame
inline constexpr int kMaxCallDepth = 8;                // MAX_CALL_FRAMES
inline constexpr int kMaxTailCalls = 33;               // MAX_TAIL_CALL_CNT
inline constexpr uint32_t kMaxInsns = 1000000;         // BPF_COMPLEXITY_LIMIT_INSNS
inline constexpr uint32_t kMaxProgramInsns = 1000000;  // program length limit for privileged loads

}  // namespace ebpf
