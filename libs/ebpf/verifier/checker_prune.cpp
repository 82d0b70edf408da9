// SPDX-License-Identifier: MIT
// State pruning: a state that a fully explored state subsumes is safe and need not go on;
// a state equal to one still being explored is a loop that makes no progress.
#include "rt/errno.hpp"
#include "verifier/checker.hpp"

namespace ebpf::verifier {
namespace {

// Stored states per instruction. Linux has no bound for a loader with CAP_BPF; this one
// only caps the cost of comparisons, the heuristics below keep lists far shorter.
constexpr uint16_t kMaxStatesPerInsn = 1024;

// Consistent renaming of null-check ids between the two states.
struct IdMap {
  uint32_t old_ids[64];
  uint32_t cur_ids[64];
  int count = 0;
  uint32_t next_fresh = 0x40000000u;
  uint32_t fresh() { return ++next_fresh; }
  bool match(uint32_t old_id, uint32_t cur_id) {
    for (int i = 0; i < count; ++i) {
      if (old_ids[i] == old_id) return cur_ids[i] == cur_id;
      if (cur_ids[i] == cur_id) return false;
    }
    if (count == 64) return false;
    old_ids[count] = old_id;
    cur_ids[count] = cur_id;
    ++count;
    return true;
  }
};

bool same_bounds(const RegState& a, const RegState& b) {
  return a.var_off == b.var_off && a.smin == b.smin && a.smax == b.smax && a.umin == b.umin &&
         a.umax == b.umax && a.s32min == b.s32min && a.s32max == b.s32max && a.u32min == b.u32min &&
         a.u32max == b.u32max;
}

bool contains_bounds(const RegState& old_reg, const RegState& cur) {
  return old_reg.umin <= cur.umin && cur.umax <= old_reg.umax && old_reg.smin <= cur.smin &&
         cur.smax <= old_reg.smax && old_reg.u32min <= cur.u32min && cur.u32max <= old_reg.u32max &&
         old_reg.s32min <= cur.s32min && cur.s32max <= old_reg.s32max &&
         tnum_contains(old_reg.var_off, cur.var_off);
}

// The smallest scalar holding both (join), for loops through callbacks.
void join_scalar(const RegState& a, RegState& b) {
  RegState j = b;
  j.umin = a.umin < b.umin ? a.umin : b.umin;
  j.umax = a.umax > b.umax ? a.umax : b.umax;
  j.smin = a.smin < b.smin ? a.smin : b.smin;
  j.smax = a.smax > b.smax ? a.smax : b.smax;
  j.u32min = a.u32min < b.u32min ? a.u32min : b.u32min;
  j.u32max = a.u32max > b.u32max ? a.u32max : b.u32max;
  j.s32min = a.s32min < b.s32min ? a.s32min : b.s32min;
  j.s32max = a.s32max > b.s32max ? a.s32max : b.s32max;
  uint64_t mask = a.var_off.mask | b.var_off.mask | (a.var_off.value ^ b.var_off.value);
  j.var_off = {a.var_off.value & ~mask, mask};
  j.id = 0;
  sync_bounds(j);
  if (bounds_valid(j))
    b = j;
  else
    mark_unknown(b);
}

bool reg_safe(const RegState& old_reg, const RegState& cur, bool exact, IdMap& ids) {
  if (exact) {
    if (old_reg.type != cur.type) return false;
    if (old_reg.type == RegType::kNotInit) return true;
  } else if (old_reg.type == RegType::kNotInit) {
    return true;  // the old path never read it, so its value cannot matter
  }
  if (old_reg.type != cur.type) return false;
  switch (old_reg.type) {
    case RegType::kScalar:
      if (!(exact ? same_bounds(old_reg, cur) : contains_bounds(old_reg, cur))) return false;
      // Scalars the old state knew to be equal must be equal here too (Linux's
      // check_scalar_ids): an unlinked current register gets an id no one else has.
      if (old_reg.id != 0 && !ids.match(old_reg.id, cur.id != 0 ? cur.id : ids.fresh()))
        return false;
      return true;
    case RegType::kMapValueOrNull:
    case RegType::kRingbufMemOrNull:
      if (!ids.match(old_reg.id, cur.id)) return false;
      [[fallthrough]];
    case RegType::kRingbufMem:
      if (old_reg.mem_size != cur.mem_size ||
          !ids.match(old_reg.ref | 0x80000000u, cur.ref | 0x80000000u))
        return false;
      if (old_reg.type == RegType::kRingbufMem || old_reg.type == RegType::kRingbufMemOrNull) {
        if (old_reg.off != cur.off) return false;
        return exact ? same_bounds(old_reg, cur) : contains_bounds(old_reg, cur);
      }
      [[fallthrough]];
    case RegType::kCtx:
    case RegType::kStack:
    case RegType::kMapValue:
    case RegType::kMapKey:
      if (old_reg.off != cur.off || old_reg.map != cur.map || old_reg.frame != cur.frame)
        return false;
      return exact ? same_bounds(old_reg, cur) : contains_bounds(old_reg, cur);
    case RegType::kMapPointer: return old_reg.map == cur.map;
    case RegType::kFunc: return old_reg.func == cur.func;
    case RegType::kBtfPointer:
      if (old_reg.btf_id != cur.btf_id || old_reg.off != cur.off) return false;
      return exact ? same_bounds(old_reg, cur) : contains_bounds(old_reg, cur);
    case RegType::kNotInit: return true;
  }
  return false;
}

}  // namespace

bool Checker::states_equal(const PackedState& old_state, const State& cur, bool exact,
                           uint32_t pc) {
  if (old_state.depth != cur.depth || old_state.ref_count != cur.ref_count) return false;
  IdMap ids;
  for (uint32_t i = 0; i < cur.ref_count; ++i) {
    if (!ids.match(old_state.refs[i] | 0x80000000u, cur.refs[i] | 0x80000000u)) return false;
  }
  for (uint32_t d = 0; d <= cur.depth; ++d) {
    const FrameState& a = old_state.frame(d);  // registers and header only: slots via slot()
    const FrameState& b = cur.frames[d];
    if (a.callsite != b.callsite || a.is_callback != b.is_callback) return false;
    // Registers no path reads before writing cannot matter: in the current frame those dead
    // at `pc`, in a caller those dead where it resumes (r0-r5 are rewritten on return).
    uint16_t live = d == cur.depth
                        ? live_[pc]
                        : static_cast<uint16_t>(live_[cur.frames[d + 1].callsite + 1] & ~0x3fu);
    for (int r = 0; r < kNumRegisters; ++r) {
      if (!(live & (1u << r))) continue;
      if (!reg_safe(a.regs[r], b.regs[r], exact, ids)) return false;
    }
    for (int s = 0; s < kSlots; ++s) {
      const StackSlot& x = old_state.slot(d, s);
      const StackSlot& y = b.stack[s];
      if (x.bytes[0] == kSlotSpill || y.bytes[0] == kSlotSpill) {
        if (x.bytes[0] == kSlotSpill && y.bytes[0] == kSlotSpill) {
          if (!reg_safe(x.spill, y.spill, exact, ids)) return false;
          continue;
        }
        if (exact) return false;
        if (x.bytes[0] == kSlotSpill) {
          if (x.spill.type != RegType::kNotInit) return false;  // old relied on a spilled register
          continue;
        }
        // Old had plain bytes; a spilled scalar in the current state reads as initialised.
        for (uint8_t byte : x.bytes) {
          if (byte == kSlotZero) return false;
        }
        continue;
      }
      for (int i = 0; i < 8; ++i) {
        uint8_t old_byte = x.bytes[i], cur_byte = y.bytes[i];
        if (exact) {
          if (old_byte != cur_byte) return false;
        } else if (old_byte == kSlotMisc) {
          if (cur_byte == kSlotInvalid) return false;
        } else if (old_byte == kSlotZero) {
          if (cur_byte != kSlotZero) return false;
        }
      }
    }
  }
  return true;
}

int Checker::visit_prune_point(uint32_t pc, bool& prune) {
  prune = false;
  // As Linux's is_state_visited: store a state only after some progress (2 jumps and 8
  // instructions since the last one), and inside a loop still being explored much less
  // often (its iterations differ and rarely prune each other).
  uint32_t jumps = jumps_ - jumps_at_store_, insns = processed_ - processed_at_store_;
  bool add = jumps >= 2 && insns >= 8;
  if (checkpoint_counts_[pc] > max_states_per_insn_) max_states_per_insn_ = checkpoint_counts_[pc];
  if (structure_.flags[pc] & kFlagCallbackCall) return visit_callback_call(pc, prune);
  for (Checkpoint** link = &checkpoints_[pc]; *link != nullptr;) {
    Checkpoint* c = *link;
    if (c->branches > 0) {
      if (states_equal(c->state, *current_, true, pc)) {
        log_.print("infinite loop detected at insn %u\n", pc);
        return -rt::kEINVAL;
      }
      if (jumps < 20 && insns < 100) add = false;
    } else if (states_equal(c->state, *current_, false, pc)) {
      ++c->hits;
      prune = true;
      return 0;
    }
    // A state that keeps failing to prune costs a comparison every visit: drop it (Linux's
    // miss_cnt > hit_cnt * 3 + 3). One still being explored may be a parent of live paths:
    // it leaves the list but stays allocated until the end.
    if (add) ++c->misses;
    if (c->misses > c->hits * 3 + 3) {
      *link = c->next_at_pc;
      --checkpoint_counts_[pc];
      if (c->branches == 0) {
        allocator_->deallocate(c, offsetof(Checkpoint, state) + c->state.bytes);
        --states_live_;
      } else {
        c->next_at_pc = retired_;
        retired_ = c;
      }
      continue;
    }
    link = &c->next_at_pc;
  }
  // Without CAP_BPF Linux stops storing past BPF_COMPLEXITY_LIMIT_STATES (the path goes on).
  if (!options_.privileges.bpf_capable && checkpoint_counts_[pc] > kComplexityLimitStates) return 0;
  if (!add || checkpoint_counts_[pc] >= kMaxStatesPerInsn) return 0;
  return store_checkpoint(pc);
}

// Stores the current state as a checkpoint at `pc`; it becomes the parent of what follows.
int Checker::store_checkpoint(uint32_t pc) {
  size_t bytes = offsetof(Checkpoint, state) + packed_size(*current_);
  auto* c = static_cast<Checkpoint*>(allocator_->allocate(bytes, alignof(Checkpoint)));
  if (c == nullptr) return -rt::kENOMEM;
  pack_state(*current_, &c->state);
  c->next_at_pc = checkpoints_[pc];
  c->parent = parent_;
  c->branches = 1;
  c->pc = pc;
  c->hits = 0;
  c->misses = 0;
  checkpoints_[pc] = c;
  ++checkpoint_counts_[pc];
  ++states_stored_;
  if (++states_live_ > peak_states_) peak_states_ = states_live_;
  parent_ = c;
  jumps_at_store_ = jumps_;
  processed_at_store_ = processed_;
  return 0;
}

// A helper call that runs a callback, reached first from the caller's own path and then
// again after every iteration. An iteration whose state an earlier one at this call
// subsumes adds nothing: the earlier state is an invariant of the loop, and everything from
// it is explored (or being explored) already, so the path ends. Otherwise scalars that
// changed since the iteration in progress are widened to unknown (and zero bytes to data),
// so iterations converge instead of counting up to the budget.
int Checker::visit_callback_call(uint32_t pc, bool& prune) {
  Checkpoint* in_progress = nullptr;
  uint32_t iterations = 0;
  for (Checkpoint* c = checkpoints_[pc]; c != nullptr; c = c->next_at_pc) {
    if (states_equal(c->state, *current_, false, pc)) {
      ++c->hits;
      prune = true;
      return 0;
    }
    if (c->branches > 0 && c->state.depth == current_->depth) {
      if (in_progress == nullptr) in_progress = c;
      ++iterations;
    }
  }
  if (in_progress != nullptr) {
    // Join with the last iteration for a while (a bounded counter reaches its invariant),
    // then give changing scalars up (an unbounded one would count to the budget).
    constexpr uint32_t kJoinedIterations = 16;
    widen(in_progress->state, *current_, iterations >= kJoinedIterations);
    if (states_equal(in_progress->state, *current_, false, pc)) {
      prune = true;
      return 0;
    }
  }
  if (checkpoint_counts_[pc] >= kMaxStatesPerInsn) return 0;
  return store_checkpoint(pc);
}

void Checker::widen(const PackedState& old_state, State& cur, bool to_unknown) {
  for (uint32_t d = 0; d <= cur.depth; ++d) {
    const FrameState& a = old_state.frame(d);  // registers and header only: slots via slot()
    FrameState& b = cur.frames[d];
    for (int r = 0; r < kNumRegisters; ++r) {
      if (a.regs[r].type == RegType::kScalar && b.regs[r].type == RegType::kScalar &&
          !contains_bounds(a.regs[r], b.regs[r])) {
        if (to_unknown)
          mark_unknown(b.regs[r]);
        else
          join_scalar(a.regs[r], b.regs[r]);
      }
    }
    for (int s = 0; s < kSlots; ++s) {
      const StackSlot& x = old_state.slot(d, s);
      StackSlot& y = b.stack[s];
      if (x.bytes[0] == kSlotSpill && y.bytes[0] == kSlotSpill) {
        if (x.spill.type == RegType::kScalar && y.spill.type == RegType::kScalar &&
            !contains_bounds(x.spill, y.spill)) {
          if (to_unknown)
            mark_unknown(y.spill);
          else
            join_scalar(x.spill, y.spill);
        }
        continue;
      }
      if (x.bytes[0] == kSlotSpill || y.bytes[0] == kSlotSpill) continue;
      for (int i = 0; i < 8; ++i) {
        if (x.bytes[i] == kSlotMisc && y.bytes[i] == kSlotZero) y.bytes[i] = kSlotMisc;
      }
    }
  }
}

bool Checker::push_branch(uint32_t pc, const State& state) {
  if (pending_count_ == pending_capacity_) {
    uint32_t capacity = pending_capacity_ == 0 ? 64 : pending_capacity_ * 2;
    auto* grown = static_cast<PendingBranch*>(
        allocator_->allocate(capacity * sizeof(PendingBranch), alignof(PendingBranch)));
    if (grown == nullptr) {
      error_ = -rt::kENOMEM;
      return false;
    }
    for (uint32_t i = 0; i < pending_count_; ++i) grown[i] = pending_[i];
    if (pending_ != nullptr)
      allocator_->deallocate(pending_, pending_capacity_ * sizeof(PendingBranch));
    pending_ = grown;
    pending_capacity_ = capacity;
  }
  PackedState* copy = pack(state);
  if (copy == nullptr) {
    error_ = -rt::kENOMEM;
    return false;
  }
  pending_[pending_count_++] = PendingBranch{pc, parent_, copy};
  // Linux's BPF_COMPLEXITY_LIMIT_JMP_SEQ: a path that leaves this many branches behind it
  // is refused at once, instead of queuing states until the instruction budget.
  if (pending_count_ > kComplexityLimitJmpSeq) {
    log_.print("The sequence of %u jumps is too complex.\n", pending_count_);
    error_ = -rt::kE2BIG;
    return false;
  }
  if (parent_ != nullptr) ++parent_->branches;
  return true;
}

void Checker::finish_path() {
  for (Checkpoint* c = parent_; c != nullptr; c = c->parent) {
    if (--c->branches > 0) break;
  }
  parent_ = nullptr;
}

}  // namespace ebpf::verifier
