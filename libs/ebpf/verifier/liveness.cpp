// SPDX-License-Identifier: MIT
// Register liveness: which registers some path from an instruction reads before writing.
// Pruning ignores the others, as Linux's liveness marks let it (a dead register's value
// cannot change what the rest of the program does).
#include "verifier/structure.hpp"

namespace ebpf::verifier {
namespace {

constexpr uint16_t bit(int regno) { return static_cast<uint16_t>(1u << regno); }
constexpr uint16_t kArguments = 0x3e;    // r1-r5
constexpr uint16_t kCallerSaved = 0x3f;  // r0-r5
constexpr uint16_t kAll = 0x7ff;

struct UseDef {
  uint16_t use = 0;
  uint16_t def = 0;
};

UseDef use_def(const Insn& insn) {
  UseDef u;
  uint8_t cls = insn_class(insn.opcode);
  uint8_t op = op_code(insn.opcode);
  bool x = op_source(insn.opcode) == kSrcX;
  switch (cls) {
    case kClassAlu:
    case kClassAlu64:
      if (op == kAluMov) {
        if (x) u.use |= bit(insn.src);
      } else {
        u.use |= bit(insn.dst);
        if (x && op != kAluEnd && op != kAluNeg) u.use |= bit(insn.src);
      }
      u.def |= bit(insn.dst);
      break;
    case kClassLd:
      if (insn.opcode == kOpLdImm64) {
        u.def |= bit(insn.dst);
      } else {  // legacy packet loads: read r6 (and src), clobber r0-r5
        u.use |= bit(6);
        if (op_mode(insn.opcode) == kModeInd) u.use |= bit(insn.src);
        u.def |= kCallerSaved;
      }
      break;
    case kClassLdx:
      u.use |= bit(insn.src);
      u.def |= bit(insn.dst);
      break;
    case kClassSt: u.use |= bit(insn.dst); break;
    case kClassStx:
      u.use |= bit(insn.dst) | bit(insn.src);
      if (op_mode(insn.opcode) == kModeAtomic) {
        if (insn.imm == kAtomicCmpxchg) {
          u.use |= bit(0);
          u.def |= bit(0);
        } else if (insn.imm & kAtomicFetch) {
          u.def |= bit(insn.src);
        }
      }
      break;
    case kClassJmp:
    case kClassJmp32:
      if (op == kJmpCall) {
        u.use |= kArguments;
        u.def |= kCallerSaved;
      } else if (op == kJmpExit) {
        u.use |= bit(0);
      } else if (op != kJmpJa) {
        u.use |= bit(insn.dst);
        if (x) u.use |= bit(insn.src);
      }
      break;
  }
  u.use |= bit(kFramePointer);
  return u;
}

}  // namespace

void compute_liveness(const Insn* insns, uint32_t count, const Structure& structure,
                      uint16_t* live) {
  for (uint32_t pc = 0; pc < count; ++pc) live[pc] = 0;
  // Backward passes until nothing changes; a bound on them keeps pathological graphs cheap,
  // and giving up means "everything is live", which only prunes less.
  constexpr int kMaxPasses = 64;
  for (int pass = 0;; ++pass) {
    if (pass == kMaxPasses) {
      for (uint32_t pc = 0; pc < count; ++pc) live[pc] = kAll;
      return;
    }
    bool changed = false;
    for (uint32_t i = count; i-- > 0;) {
      if (structure.flags[i] & kFlagImm64Tail) continue;
      const Insn& insn = insns[i];
      uint8_t cls = insn_class(insn.opcode);
      uint8_t op = op_code(insn.opcode);
      uint16_t out = 0;
      auto successor = [&](int64_t target) {
        if (target >= 0 && target < count) out |= live[target];
      };
      bool is_jump = cls == kClassJmp || cls == kClassJmp32;
      if (is_jump && op == kJmpExit) {
        // no successor
      } else if (is_jump && op == kJmpJa) {
        successor(static_cast<int64_t>(i) + (cls == kClassJmp32 ? insn.imm : insn.offset) + 1);
      } else if (is_jump && op != kJmpCall) {
        successor(static_cast<int64_t>(i) + 1);
        successor(static_cast<int64_t>(i) + insn.offset + 1);
      } else {
        successor(static_cast<int64_t>(i) + (insn.opcode == kOpLdImm64 ? 2 : 1));
      }
      UseDef u = use_def(insn);
      uint16_t in = static_cast<uint16_t>(u.use | (out & ~u.def));
      if (in != live[i]) {
        live[i] = in;
        changed = true;
      }
    }
    if (!changed) return;
  }
}

}  // namespace ebpf::verifier
