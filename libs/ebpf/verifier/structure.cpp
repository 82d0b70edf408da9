// SPDX-License-Identifier: MIT
// Structural checks: every field of every instruction, every edge of the control-flow graph.
#include "verifier/structure.hpp"

#include "ebpf/helper_ids.hpp"
#include "rt/errno.hpp"

namespace ebpf::verifier {
namespace {

bool valid_alu_op(uint8_t op) { return op <= kAluEnd; }

int fail(VerifierLog& log, const char* message, uint32_t pc, int64_t extra = 0) {
  log.print(message, pc, extra);
  log.print("\n");
  return -rt::kEINVAL;
}

// Checks one instruction's encoding; `next` is the following slot, if any.
int check_encoding(const Insn* insns, uint32_t count, uint32_t pc, VerifierLog& log) {
  const Insn& insn = insns[pc];
  uint8_t cls = insn_class(insn.opcode);
  uint8_t op = op_code(insn.opcode);
  bool x = op_source(insn.opcode) == kSrcX;
  if (insn.dst > 10) return fail(log, "insn %u: R%ld is invalid", pc, insn.dst);
  if (insn.src > 10) return fail(log, "insn %u: R%ld is invalid", pc, insn.src);

  switch (cls) {
    case kClassAlu:
    case kClassAlu64: {
      bool wide = cls == kClassAlu64;
      if (!valid_alu_op(op)) return fail(log, "insn %u: invalid BPF_ALU opcode %lx", pc, op);
      if (op == kAluNeg) {
        if (x || insn.src != 0 || insn.imm != 0 || insn.offset != 0)
          return fail(log, "insn %u: BPF_NEG uses reserved fields", pc);
      } else if (op == kAluEnd) {
        if (insn.src != 0 || insn.offset != 0 ||
            (insn.imm != 16 && insn.imm != 32 && insn.imm != 64) || (wide && x)) {
          return fail(log, "insn %u: BPF_END uses reserved fields", pc);
        }
      } else if (op == kAluMov) {
        bool sign_extend = insn.offset != 0;
        bool ok_offset =
            !sign_extend ||
            (x && (insn.offset == 8 || insn.offset == 16 || (wide && insn.offset == 32)));
        if ((x && insn.imm != 0) || (!x && insn.src != 0) || !ok_offset)
          return fail(log, "insn %u: BPF_MOV uses reserved fields", pc);
      } else {
        bool signed_ok = (op == kAluDiv || op == kAluMod) && insn.offset == 1;
        if ((x && insn.imm != 0) || (!x && insn.src != 0) || (insn.offset != 0 && !signed_ok)) {
          return fail(log, "insn %u: BPF_ALU uses reserved fields", pc);
        }
        if ((op == kAluDiv || op == kAluMod) && !x && insn.imm == 0)
          return fail(log, "insn %u: div by zero", pc);
        if ((op == kAluLsh || op == kAluRsh || op == kAluArsh) && !x) {
          int32_t width = wide ? 64 : 32;
          if (insn.imm < 0 || insn.imm >= width)
            return fail(log, "insn %u: invalid shift %ld", pc, insn.imm);
        }
      }
      if (insn.dst == kFramePointer) return fail(log, "insn %u: frame pointer is read only", pc);
      return 0;
    }
    case kClassJmp:
    case kClassJmp32: {
      bool wide = cls == kClassJmp;
      if (op == kJmpJa) {
        if (x || insn.src != 0 || insn.dst != 0 || (wide ? insn.imm != 0 : insn.offset != 0)) {
          return fail(log, "insn %u: BPF_JA uses reserved fields", pc);
        }
        return 0;
      }
      if (op == kJmpCall) {
        if (!wide || x) return fail(log, "insn %u: unknown opcode %02lx", pc, insn.opcode);
        if (insn.offset != 0 || insn.dst != 0 || insn.src > kPseudoKfuncCall)
          return fail(log, "insn %u: BPF_CALL uses reserved fields", pc);
        if (insn.src == kPseudoKfuncCall)
          return fail(log, "insn %u: calling kernel functions is not supported", pc);
        return 0;
      }
      if (op == kJmpExit) {
        if (!wide || x || insn.src != 0 || insn.dst != 0 || insn.imm != 0 || insn.offset != 0) {
          return fail(log, "insn %u: BPF_EXIT uses reserved fields", pc);
        }
        return 0;
      }
      if (op > kJmpJsle || op == kJmpJa)
        return fail(log, "insn %u: unknown opcode %02lx", pc, insn.opcode);
      if ((x && insn.imm != 0) || (!x && insn.src != 0))
        return fail(log, "insn %u: BPF_JMP/JMP32 uses reserved fields", pc);
      return 0;
    }
    case kClassLd: {
      if (insn.opcode != kOpLdImm64) {
        return fail(log, "insn %u: BPF_LD_[ABS|IND] instructions not allowed for this program type",
                    pc);
      }
      if (pc + 1 >= count) return fail(log, "insn %u: invalid bpf_ld_imm64 insn", pc);
      const Insn& next = insns[pc + 1];
      if (insn.offset != 0 || next.opcode != 0 || next.dst != 0 || next.src != 0 ||
          next.offset != 0) {
        return fail(log, "insn %u: invalid bpf_ld_imm64 insn", pc);
      }
      if (insn.dst == kFramePointer) return fail(log, "insn %u: frame pointer is read only", pc);
      switch (insn.src) {
        case kPseudoImm64: return 0;
        case kPseudoMapFd:
        case kPseudoMapValue: return 0;  // checked against the map when simulated
        case kPseudoFunc:
          if (next.imm != 0) return fail(log, "insn %u: invalid bpf_ld_imm64 insn", pc);
          return 0;
        default:
          return fail(log, "insn %u: unsupported pseudo source %ld in ld_imm64", pc, insn.src);
      }
    }
    case kClassLdx: {
      uint8_t mode = op_mode(insn.opcode);
      bool ok = mode == kModeMem || (mode == kModeMemsx && op_size(insn.opcode) != kSizeDw);
      if (!ok || insn.imm != 0) return fail(log, "insn %u: BPF_LDX uses reserved fields", pc);
      if (insn.dst == kFramePointer) return fail(log, "insn %u: frame pointer is read only", pc);
      return 0;
    }
    case kClassSt:
      if (op_mode(insn.opcode) != kModeMem || insn.src != 0)
        return fail(log, "insn %u: BPF_ST uses reserved fields", pc);
      return 0;
    case kClassStx: {
      uint8_t mode = op_mode(insn.opcode);
      if (mode == kModeMem) {
        if (insn.imm != 0) return fail(log, "insn %u: BPF_STX uses reserved fields", pc);
        return 0;
      }
      if (mode != kModeAtomic ||
          (op_size(insn.opcode) != kSizeW && op_size(insn.opcode) != kSizeDw)) {
        return fail(log, "insn %u: BPF_STX uses reserved fields", pc);
      }
      int32_t base = insn.imm & ~kAtomicFetch;
      bool ok = base == kAtomicAdd || base == kAtomicOr || base == kAtomicAnd ||
                base == kAtomicXor || insn.imm == kAtomicXchg || insn.imm == kAtomicCmpxchg;
      if (!ok)
        return fail(log, "insn %u: BPF_ATOMIC uses invalid atomic opcode %02lx", pc, insn.imm);
      return 0;
    }
  }
  return fail(log, "insn %u: unknown opcode %02lx", pc, insn.opcode);
}

bool is_conditional_jump(const Insn& insn) {
  uint8_t cls = insn_class(insn.opcode), op = op_code(insn.opcode);
  return (cls == kClassJmp || cls == kClassJmp32) && op != kJmpJa && op != kJmpCall &&
         op != kJmpExit;
}

bool is_unconditional_jump(const Insn& insn) {
  return op_code(insn.opcode) == kJmpJa &&
         (insn_class(insn.opcode) == kClassJmp || insn_class(insn.opcode) == kClassJmp32);
}

int64_t jump_target(const Insn& insn, uint32_t pc) {
  int64_t offset = insn_class(insn.opcode) == kClassJmp32 && op_code(insn.opcode) == kJmpJa
                       ? insn.imm
                       : insn.offset;
  return static_cast<int64_t>(pc) + offset + 1;
}

}  // namespace

uint32_t Structure::subprog_of(uint32_t pc) const {
  uint32_t i = 0;
  while (i + 1 < subprog_count && subprog_starts[i + 1] <= pc) ++i;
  return i;
}

int check_structure(const Insn* insns, uint32_t count, VerifierLog& log, Structure& s) {
  // Encodings, LD_IMM64 tails, and subprogram starts.
  s.subprog_count = 0;
  auto add_subprog = [&](int64_t start, uint32_t pc) -> int {
    if (start < 0 || start >= count)
      return fail(log, "insn %u: function call to pc %ld is out of range", pc, start);
    for (uint32_t i = 0; i < s.subprog_count; ++i) {
      if (s.subprog_starts[i] == start) return 0;
    }
    if (s.subprog_count == kMaxSubprograms)
      return fail(log, "insn %u: too many subprograms (limit %ld)", pc, kMaxSubprograms);
    s.subprog_starts[s.subprog_count++] = static_cast<uint32_t>(start);
    return 0;
  };
  if (int e = add_subprog(0, 0)) return e;
  for (uint32_t pc = 0; pc < count; ++pc) {
    if (int e = check_encoding(insns, count, pc, log)) return e;
    const Insn& insn = insns[pc];
    if (insn.opcode == kOpLdImm64) {
      s.flags[pc + 1] |= kFlagImm64Tail;
      if (insn.src == kPseudoFunc) {
        if (int e = add_subprog(static_cast<int64_t>(pc) + insn.imm + 1, pc)) return e;
      }
      ++pc;
    } else if (insn.opcode == (kClassJmp | kJmpCall) && insn.src == kPseudoCall) {
      if (int e = add_subprog(static_cast<int64_t>(pc) + insn.imm + 1, pc)) return e;
    }
  }
  // Sort the starts (few of them: insertion sort) and mark them.
  for (uint32_t i = 1; i < s.subprog_count; ++i) {
    for (uint32_t j = i; j > 0 && s.subprog_starts[j - 1] > s.subprog_starts[j]; --j) {
      uint32_t t = s.subprog_starts[j];
      s.subprog_starts[j] = s.subprog_starts[j - 1];
      s.subprog_starts[j - 1] = t;
    }
  }
  s.subprog_starts[s.subprog_count] = count;
  for (uint32_t i = 0; i < s.subprog_count; ++i) {
    uint32_t start = s.subprog_starts[i];
    if (s.flags[start] & kFlagImm64Tail)
      return fail(log, "insn %u: function starts in the middle of ldimm64 insn %ld", start,
                  start - 1);
    s.flags[start] |= kFlagSubprogStart;
    // The last instruction of every subprogram must end it.
    uint32_t last = s.subprog_starts[i + 1] - 1;
    const Insn& end = insns[last];
    bool ends = (end.opcode == (kClassJmp | kJmpExit)) || is_unconditional_jump(end);
    if (!ends) return fail(log, "insn %u: last insn is not an exit or jmp", last);
  }

  // Jump targets stay in their subprogram and never land inside an LD_IMM64.
  for (uint32_t pc = 0; pc < count; ++pc) {
    const Insn& insn = insns[pc];
    if (s.flags[pc] & kFlagImm64Tail) continue;
    if (!is_conditional_jump(insn) && !is_unconditional_jump(insn)) continue;
    int64_t target = jump_target(insn, pc);
    uint32_t sub = s.subprog_of(pc);
    if (target < s.subprog_starts[sub] || target >= s.subprog_starts[sub + 1]) {
      log.print("jump out of range from insn %u to %ld\n", pc, target);
      return -rt::kEINVAL;
    }
    if (s.flags[target] & kFlagImm64Tail) {
      log.print("jump into the middle of ldimm64 insn %ld\n", target - 1);
      return -rt::kEINVAL;
    }
    s.flags[target] |= kFlagPrunePoint;
    if (is_conditional_jump(insn)) s.flags[pc + 1] |= kFlagPrunePoint;
  }

  // Helpers that run callbacks loop through them: their call is where iterations meet.
  for (uint32_t pc = 0; pc < count; ++pc) {
    const Insn& insn = insns[pc];
    if (insn.opcode == (kClassJmp | kJmpCall) && insn.src == 0 &&
        (insn.imm == kHelperLoop || insn.imm == kHelperForEachMapElem)) {
      s.flags[pc] |= kFlagPrunePoint | kFlagCallbackCall;
    }
  }

  // Reachability, following jumps, calls and callbacks (iterative: an explicit worklist
  // in the flags, repeated until nothing changes).
  s.flags[0] |= kFlagReached;
  bool changed = true;
  while (changed) {
    changed = false;
    for (uint32_t pc = 0; pc < count; ++pc) {
      if (!(s.flags[pc] & kFlagReached) || (s.flags[pc] & kFlagImm64Tail)) continue;
      const Insn& insn = insns[pc];
      int64_t successors[2] = {-1, -1};
      if (insn.opcode == (kClassJmp | kJmpExit)) {
      } else if (is_unconditional_jump(insn)) {
        successors[0] = jump_target(insn, pc);
      } else if (is_conditional_jump(insn)) {
        successors[0] = pc + 1;
        successors[1] = jump_target(insn, pc);
      } else if (insn.opcode == kOpLdImm64) {
        successors[0] = pc + 2;
        if (insn.src == kPseudoFunc) successors[1] = static_cast<int64_t>(pc) + insn.imm + 1;
      } else if (insn.opcode == (kClassJmp | kJmpCall) && insn.src == kPseudoCall) {
        successors[0] = pc + 1;
        successors[1] = static_cast<int64_t>(pc) + insn.imm + 1;
      } else {
        successors[0] = pc + 1;
      }
      for (int64_t next : successors) {
        if (next < 0) continue;
        if (next >= count) {
          log.print("insn %u: falls off the end of the program\n", pc);
          return -rt::kEINVAL;
        }
        if (!(s.flags[next] & kFlagReached)) {
          s.flags[next] |= kFlagReached;
          changed = true;
        }
      }
    }
  }
  for (uint32_t pc = 0; pc < count; ++pc) {
    if (!(s.flags[pc] & kFlagReached) && !(s.flags[pc] & kFlagImm64Tail)) {
      log.print("unreachable insn %u\n", pc);
      return -rt::kEINVAL;
    }
  }
  return 0;
}

int check_unprivileged_structure(const Insn* insns, uint32_t count, VerifierLog& log,
                                 rt::Allocator& allocator) {
  for (uint32_t pc = 0; pc < count; ++pc) {
    bool call = insns[pc].opcode == (kClassJmp | kJmpCall) && insns[pc].src == kPseudoCall;
    bool func = insns[pc].opcode == kOpLdImm64 && insns[pc].src == kPseudoFunc;
    if (call || func) {
      log.print(
          "loading/calling other bpf or kernel functions are allowed for CAP_BPF and "
          "CAP_SYS_ADMIN\n");
      return -rt::kEPERM;
    }
  }
  // Depth-first over the control-flow graph, fall-through edges first (Linux's check_cfg):
  // an edge to an instruction still on the path is a loop.
  enum : uint8_t { kUnseen = 0, kOnPath = 1, kDone = 2 };
  auto* mark = static_cast<uint8_t*>(allocator.allocate(count, 1));
  auto* next_edge = static_cast<uint8_t*>(allocator.allocate(count, 1));
  auto* path =
      static_cast<uint32_t*>(allocator.allocate(count * sizeof(uint32_t), alignof(uint32_t)));
  int error = 0;
  if (mark == nullptr || next_edge == nullptr || path == nullptr) {
    error = -rt::kENOMEM;
  } else {
    for (uint32_t pc = 0; pc < count; ++pc) mark[pc] = next_edge[pc] = 0;
    uint32_t depth = 0;
    path[depth++] = 0;
    mark[0] = kOnPath;
    while (depth > 0 && error == 0) {
      uint32_t t = path[depth - 1];
      const Insn& insn = insns[t];
      int64_t successors[2] = {-1, -1};
      if (insn.opcode == (kClassJmp | kJmpExit)) {
      } else if (is_unconditional_jump(insn)) {
        successors[0] = jump_target(insn, t);
      } else if (is_conditional_jump(insn)) {
        successors[0] = t + 1;
        successors[1] = jump_target(insn, t);
      } else {
        successors[0] = t + (insn.opcode == kOpLdImm64 ? 2 : 1);
      }
      if (next_edge[t] < 2 && successors[next_edge[t]] >= 0) {
        uint32_t w = static_cast<uint32_t>(successors[next_edge[t]++]);
        if (mark[w] == kOnPath) {
          log.print("back-edge from insn %u to %u\n", t, w);
          error = -rt::kEINVAL;
        } else if (mark[w] == kUnseen) {
          mark[w] = kOnPath;
          path[depth++] = w;
        }
        continue;
      }
      mark[t] = kDone;
      --depth;
    }
  }
  if (mark != nullptr) allocator.deallocate(mark, count);
  if (next_edge != nullptr) allocator.deallocate(next_edge, count);
  if (path != nullptr) allocator.deallocate(path, count * sizeof(uint32_t));
  return error;
}

}  // namespace ebpf::verifier
