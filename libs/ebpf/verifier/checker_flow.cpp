// SPDX-License-Identifier: MIT
// Control flow in the simulation: conditional jumps with refinement, calls, exits.
#include "ebpf/helper_ids.hpp"
#include "rt/errno.hpp"
#include "verifier/checker.hpp"

namespace ebpf::verifier {
namespace {

// After a null check, every copy of the checked pointer becomes a value or a zero; a NULL
// reservation holds no reference.
void mark_null_checked(State& state, uint32_t id, bool is_null) {
  uint32_t released = 0;
  auto fix = [&](RegState& r) {
    bool map_value = r.type == RegType::kMapValueOrNull;
    bool ring = r.type == RegType::kRingbufMemOrNull;
    if ((!map_value && !ring) || r.id != id) return;
    if (is_null) {
      if (ring) released = r.ref;
      mark_constant(r, 0);
    } else {
      r.type = map_value ? RegType::kMapValue : RegType::kRingbufMem;
      r.id = 0;
    }
  };
  for (uint32_t d = 0; d <= state.depth; ++d) {
    for (RegState& r : state.frames[d].regs) fix(r);
    for (StackSlot& s : state.frames[d].stack) {
      if (s.bytes[0] == kSlotSpill) fix(s.spill);
    }
  }
  for (uint32_t i = 0; released != 0 && i < state.ref_count; ++i) {
    if (state.refs[i] != released) continue;
    state.refs[i] = state.refs[state.ref_count - 1];
    state.ref_insns[i] = state.ref_insns[state.ref_count - 1];
    --state.ref_count;
    break;
  }
}

// Gives every scalar with `id` the bounds of `narrowed` (which had that id before it was
// narrowed), in every frame, registers and spilled slots alike.
void propagate_scalar(State& state, RegState& narrowed, uint32_t id) {
  narrowed.id = id;
  RegState copy = narrowed;
  auto apply = [&](RegState& r) {
    if (r.type == RegType::kScalar && r.id == id) r = copy;
  };
  for (uint32_t d = 0; d <= state.depth; ++d) {
    for (RegState& r : state.frames[d].regs) apply(r);
    for (StackSlot& s : state.frames[d].stack) {
      if (s.bytes[0] == kSlotSpill) apply(s.spill);
    }
  }
}

}  // namespace

Checker::Step Checker::jump(const Insn& insn, uint32_t& pc) {
  FrameState& f = current_->current();
  uint8_t op = op_code(insn.opcode);
  bool is32 = insn_class(insn.opcode) == kClassJmp32;
  if (op == kJmpJa) {
    pc = static_cast<uint32_t>(static_cast<int64_t>(pc) + (is32 ? insn.imm : insn.offset) + 1);
    return Step::kJumped;
  }
  if (op == kJmpCall) return call(insn, pc);
  if (op == kJmpExit) return exit(pc);

  bool x = op_source(insn.opcode) == kSrcX;
  if (!read_ok(insn.dst) || (x && !read_ok(insn.src))) return Step::kError;
  RegState& dst = f.regs[insn.dst];
  if (!options_.privileges.allow_ptr_leaks) {
    // Comparing a pointer reveals its value, bit by bit; only a null check is allowed.
    const RegState& compared = f.regs[insn.src];
    bool zero = x ? compared.is_constant() && compared.var_off.value == 0 : insn.imm == 0;
    bool nullable = dst.type == RegType::kMapValueOrNull || dst.type == RegType::kRingbufMemOrNull;
    bool null_check = nullable && zero && !is32 && (op == kJmpJeq || op == kJmpJne);
    int leaked = -1;
    if (x && compared.is_pointer()) {
      leaked = insn.src;
    } else if (dst.is_pointer() && !null_check) {
      leaked = insn.dst;
    }
    if (leaked >= 0) {
      reject("R%d pointer comparison prohibited", leaked);
      return Step::kError;
    }
  }
  uint32_t target = static_cast<uint32_t>(static_cast<int64_t>(pc) + insn.offset + 1);
  uint32_t fallthrough = pc + 1;

  // The value compared against, when it is a known number.
  bool have_constant = !x || f.regs[insn.src].is_constant();
  uint64_t constant =
      x ? f.regs[insn.src].var_off.value : static_cast<uint64_t>(static_cast<int64_t>(insn.imm));

  // Null checks of map lookups.
  bool nullable = dst.type == RegType::kMapValueOrNull || dst.type == RegType::kRingbufMemOrNull;
  if (nullable && have_constant && constant == 0 && !is32 && (op == kJmpJeq || op == kJmpJne)) {
    uint32_t id = dst.id;
    State* other = &branch_copy();
    // `other` takes the jump; the current state falls through.
    mark_null_checked(*other, id, op == kJmpJeq);
    mark_null_checked(*current_, id, op != kJmpJeq);
    mark_edge(pc, kFactBranchTaken | kFactBranchFallthrough);
    if (!push_branch(target, *other)) return Step::kError;
    pc = fallthrough;
    return Step::kJumped;
  }

  // Decide the jump from what is known, as Linux's is_branch_taken: constants and ranges of
  // scalars (either side may be the known one), and non-null pointers compared with 0.
  const RegState& src = f.regs[insn.src];
  RegState immediate;
  mark_constant(immediate, constant);
  const RegState& right = x ? src : immediate;
  bool scalars = dst.type == RegType::kScalar && right.type == RegType::kScalar;
  int decision = -1;
  if (x && insn.src == insn.dst) {
    // A register compared with itself: equal, whatever it holds.
    bool holds =
        op == kJmpJeq || op == kJmpJge || op == kJmpJle || op == kJmpJsge || op == kJmpJsle;
    bool fails =
        op == kJmpJne || op == kJmpJgt || op == kJmpJlt || op == kJmpJsgt || op == kJmpJslt;
    decision = holds ? 1 : fails ? 0 : -1;
  } else if (scalars && right.is_constant()) {
    decision = branch_taken(dst, constant, op, is32);
  } else if (scalars && dst.is_constant()) {
    decision = branch_taken(right, dst.var_off.value, flip_comparison(op), is32);
  } else if (scalars) {
    decision = branch_taken_ranges(dst, right, op, is32);
  } else if (dst.is_pointer() && !nullable && dst.type != RegType::kBtfPointer &&
             right.is_constant() && constant == 0 && !is32 && (op == kJmpJeq || op == kJmpJne)) {
    // (A BTF-typed pointer may be NULL: Linux's reg_type_not_null leaves it undecided.)
    decision = op == kJmpJne ? 1 : 0;
  }
  // GAP: without bypass_spec_v1 Linux also walks the side of a decided branch that runs only
  // speculatively (sanitize_speculative_path); Sonde does not.
  if (decision == 1) {
    mark_edge(pc, kFactBranchTaken);
    pc = target;
    return Step::kJumped;
  }
  if (decision == 0) {
    mark_edge(pc, kFactBranchFallthrough);
    pc = fallthrough;
    return Step::kJumped;
  }
  State* other = &branch_copy();
  RegState& taken_dst = other->current().regs[insn.dst];
  // Copies of a narrowed scalar (same id) learn the same bounds, as Linux's
  // find_equal_scalars; the id survives narrowing to a constant.
  uint32_t dst_id = dst.type == RegType::kScalar ? dst.id : 0;
  uint32_t src_id = x && f.regs[insn.src].type == RegType::kScalar ? f.regs[insn.src].id : 0;
  if (scalars && right.is_constant()) {
    refine_branch(taken_dst, constant, op, is32, true);
    refine_branch(dst, constant, op, is32, false);
  } else if (scalars && dst.is_constant()) {
    uint64_t known = dst.var_off.value;
    refine_branch(other->current().regs[insn.src], known, flip_comparison(op), is32, true);
    refine_branch(f.regs[insn.src], known, flip_comparison(op), is32, false);
  } else if (scalars && insn.src != insn.dst) {
    refine_branch_ranges(taken_dst, other->current().regs[insn.src], op, is32, true);
    refine_branch_ranges(dst, f.regs[insn.src], op, is32, false);
  }
  if (scalars) {
    State* sides[2] = {other, current_};
    for (State* s : sides) {
      if (dst_id != 0) propagate_scalar(*s, s->current().regs[insn.dst], dst_id);
      if (src_id != 0 && insn.src != insn.dst)
        propagate_scalar(*s, s->current().regs[insn.src], src_id);
    }
  }
  mark_edge(pc, kFactBranchTaken | kFactBranchFallthrough);
  if (!push_branch(target, *other)) return Step::kError;
  pc = fallthrough;
  return Step::kJumped;
}

Checker::Step Checker::call(const Insn& insn, uint32_t& pc) {
  if (insn.src == kPseudoCall) {
    if (current_->depth + 1 >= static_cast<uint32_t>(kMaxCallDepth)) {
      reject("the call stack of %u frames is too deep", current_->depth + 2);
      return Step::kError;
    }
    uint32_t target = static_cast<uint32_t>(static_cast<int64_t>(pc) + insn.imm + 1);
    FrameState& caller = current_->current();
    FrameState& callee = current_->frames[++current_->depth];
    __builtin_memset(&callee, 0, sizeof(FrameState));  // a fresh frame, without a large temporary
    callee.callsite = pc;
    callee.subprog_start = target;
    for (int i = 1; i <= 5; ++i) callee.regs[i] = caller.regs[i];
    callee.regs[kFramePointer].type = RegType::kStack;
    callee.regs[kFramePointer].frame = static_cast<uint8_t>(current_->depth);
    pc = target;
    return Step::kJumped;
  }
  bool entered_callback = false;
  if (!check_helper_call(insn.imm, pc, entered_callback)) return Step::kError;
  if (!entered_callback) ++pc;
  return Step::kJumped;
}

Checker::Step Checker::exit(uint32_t& pc) {
  FrameState& f = current_->current();
  // R0 must hold the program's (or a callback's) result. A bpf-to-bpf function may leave it
  // unset, as in Linux: the caller then cannot read it.
  if ((current_->depth == 0 || f.is_callback) && !read_ok(0)) return Step::kError;
  if (current_->depth == 0 && f.regs[0].is_pointer() && !options_.privileges.allow_ptr_leaks) {
    reject("R0 leaks addr as return value");
    return Step::kError;
  }
  // Record this frame's stack use for the combined limit.
  uint32_t sub = structure_.subprog_of(f.subprog_start);
  uint32_t chain = 0;
  for (uint32_t d = 0; d <= current_->depth; ++d)
    chain += (current_->frames[d].stack_depth + 7u) & ~7u;
  if (chain > static_cast<uint32_t>(kStackSize)) {
    reject("combined stack size of %u calls is %u. Too large", current_->depth + 1, chain);
    return Step::kError;
  }
  if (chain > subprog_stack_[sub]) subprog_stack_[sub] = static_cast<uint16_t>(chain);

  if (current_->depth == 0) {
    if (current_->ref_count > 0) {
      reject("Unreleased reference id=%u alloc_insn=%u", current_->refs[0], current_->ref_insns[0]);
      return Step::kError;
    }
    return Step::kPathDone;
  }

  if (f.is_callback) {
    const RegState& r0 = f.regs[0];
    if (r0.type != RegType::kScalar || r0.smin < 0 || r0.umax > 1) {
      reject("At callback return the register R0 has unexpected value, should have been in [0, 1]");
      return Step::kError;
    }
  } else if (f.regs[0].type == RegType::kStack) {
    // Linux refuses any stack pointer here, even one into a caller's (still valid) frame.
    reject("cannot return stack pointer to the caller");
    error_ = -rt::kEINVAL;
    return Step::kError;
  }
  RegState result = f.regs[0];
  bool callback = f.is_callback;
  uint32_t callsite = f.callsite;
  --current_->depth;
  FrameState& caller = current_->current();
  if (callback) {
    // One iteration done: back to the helper call, which continues the caller (done) and
    // tries one more iteration with the state this one left. The caller's r1-r5 still
    // hold the helper's arguments. The call is a prune point, so the iterations end when
    // one more adds nothing (Linux 6.8's callback loop check), or at the budget.
    pc = callsite;
    return Step::kJumped;
  }
  caller.regs[0] = result;
  for (int i = 1; i <= 5; ++i) mark_not_init(caller.regs[i]);
  pc = callsite + 1;
  return Step::kJumped;
}

}  // namespace ebpf::verifier
