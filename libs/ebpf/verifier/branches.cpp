// SPDX-License-Identifier: MIT
// Conditional jumps between two scalar registers: deciding them from both ranges and
// narrowing both sides, as Linux's is_scalar_branch_taken and reg_set_min_max do.
#include "verifier/state.hpp"

namespace ebpf::verifier {

namespace {

// The unsigned and signed ranges a comparison sees (the low halves for JMP32).
struct View {
  uint64_t umin, umax;
  int64_t smin, smax;
  Tnum bits;
};

View view_of(const RegState& reg, bool is32) {
  if (!is32) return {reg.umin, reg.umax, reg.smin, reg.smax, reg.var_off};
  RegState r = low32_view(reg);
  View v{r.umin, r.umax, 0, 0, r.var_off};
  v.smin = r.s32min;
  v.smax = r.s32max;
  return v;
}

uint8_t negate(uint8_t op) {
  switch (op) {
    case kJmpJeq: return kJmpJne;
    case kJmpJne: return kJmpJeq;
    case kJmpJgt: return kJmpJle;
    case kJmpJge: return kJmpJlt;
    case kJmpJlt: return kJmpJge;
    case kJmpJle: return kJmpJgt;
    case kJmpJsgt: return kJmpJsle;
    case kJmpJsge: return kJmpJslt;
    case kJmpJslt: return kJmpJsge;
    case kJmpJsle: return kJmpJsgt;
  }
  return 0xff;  // JSET has no negation here
}

}  // namespace

uint8_t flip_comparison(uint8_t op) {
  switch (op) {
    case kJmpJgt: return kJmpJlt;
    case kJmpJge: return kJmpJle;
    case kJmpJlt: return kJmpJgt;
    case kJmpJle: return kJmpJge;
    case kJmpJsgt: return kJmpJslt;
    case kJmpJsge: return kJmpJsle;
    case kJmpJslt: return kJmpJsgt;
    case kJmpJsle: return kJmpJsge;
  }
  return op;  // JEQ, JNE, JSET are symmetric
}

int branch_taken_ranges(const RegState& a_reg, const RegState& b_reg, uint8_t op, bool is32) {
  View a = view_of(a_reg, is32), b = view_of(b_reg, is32);
  bool disjoint = a.umax < b.umin || b.umax < a.umin || a.smax < b.smin || b.smax < a.smin ||
                  ((a.bits.value ^ b.bits.value) & ~(a.bits.mask | b.bits.mask)) != 0;
  bool both_constant = a.bits.is_constant() && b.bits.is_constant();
  switch (op) {
    case kJmpJeq:
      if (both_constant) return a.bits.value == b.bits.value;
      return disjoint ? 0 : -1;
    case kJmpJne:
      if (both_constant) return a.bits.value != b.bits.value;
      return disjoint ? 1 : -1;
    case kJmpJset:
      if ((a.bits.value & b.bits.value) != 0) return 1;
      if (((a.bits.value | a.bits.mask) & (b.bits.value | b.bits.mask)) == 0) return 0;
      return -1;
    case kJmpJgt: return a.umin > b.umax ? 1 : a.umax <= b.umin ? 0 : -1;
    case kJmpJge: return a.umin >= b.umax ? 1 : a.umax < b.umin ? 0 : -1;
    case kJmpJlt: return a.umax < b.umin ? 1 : a.umin >= b.umax ? 0 : -1;
    case kJmpJle: return a.umax <= b.umin ? 1 : a.umin > b.umax ? 0 : -1;
    case kJmpJsgt: return a.smin > b.smax ? 1 : a.smax <= b.smin ? 0 : -1;
    case kJmpJsge: return a.smin >= b.smax ? 1 : a.smax < b.smin ? 0 : -1;
    case kJmpJslt: return a.smax < b.smin ? 1 : a.smin >= b.smax ? 0 : -1;
    case kJmpJsle: return a.smax <= b.smin ? 1 : a.smin > b.smax ? 0 : -1;
  }
  return -1;
}

void refine_branch_ranges(RegState& a, RegState& b, uint8_t op, bool is32, bool taken) {
  if (a.type != RegType::kScalar || b.type != RegType::kScalar) return;
  if (is32) {
    // As for constants: 32-bit facts are 64-bit facts only when both upper halves are zero.
    if (a.umax > UINT32_MAX || b.umax > UINT32_MAX) return;
    bool signed_op = op == kJmpJsgt || op == kJmpJsge || op == kJmpJslt || op == kJmpJsle;
    if (signed_op && (a.umax > INT32_MAX || b.umax > INT32_MAX)) return;
  }
  if (!taken) op = negate(op);
  RegState new_a = a, new_b = b;
  switch (op) {
    case kJmpJeq:
      new_a.umin = new_b.umin = a.umin > b.umin ? a.umin : b.umin;
      new_a.umax = new_b.umax = a.umax < b.umax ? a.umax : b.umax;
      new_a.smin = new_b.smin = a.smin > b.smin ? a.smin : b.smin;
      new_a.smax = new_b.smax = a.smax < b.smax ? a.smax : b.smax;
      if (((a.var_off.value ^ b.var_off.value) & ~(a.var_off.mask | b.var_off.mask)) != 0) return;
      new_a.var_off = new_b.var_off = tnum_intersect(a.var_off, b.var_off);
      break;
    case kJmpJgt:
      if (b.umin != UINT64_MAX && new_a.umin < b.umin + 1) new_a.umin = b.umin + 1;
      if (a.umax != 0 && new_b.umax > a.umax - 1) new_b.umax = a.umax - 1;
      break;
    case kJmpJge:
      if (new_a.umin < b.umin) new_a.umin = b.umin;
      if (new_b.umax > a.umax) new_b.umax = a.umax;
      break;
    case kJmpJlt:
      if (b.umax != 0 && new_a.umax > b.umax - 1) new_a.umax = b.umax - 1;
      if (a.umin != UINT64_MAX && new_b.umin < a.umin + 1) new_b.umin = a.umin + 1;
      break;
    case kJmpJle:
      if (new_a.umax > b.umax) new_a.umax = b.umax;
      if (new_b.umin < a.umin) new_b.umin = a.umin;
      break;
    case kJmpJsgt:
      if (b.smin != INT64_MAX && new_a.smin < b.smin + 1) new_a.smin = b.smin + 1;
      if (a.smax != INT64_MIN && new_b.smax > a.smax - 1) new_b.smax = a.smax - 1;
      break;
    case kJmpJsge:
      if (new_a.smin < b.smin) new_a.smin = b.smin;
      if (new_b.smax > a.smax) new_b.smax = a.smax;
      break;
    case kJmpJslt:
      if (b.smax != INT64_MIN && new_a.smax > b.smax - 1) new_a.smax = b.smax - 1;
      if (a.smin != INT64_MAX && new_b.smin < a.smin + 1) new_b.smin = a.smin + 1;
      break;
    case kJmpJsle:
      if (new_a.smax > b.smax) new_a.smax = b.smax;
      if (new_b.smin < a.smin) new_b.smin = a.smin;
      break;
    default: return;  // JNE and JSET between two unknowns teach nothing about ranges
  }
  if (!bounds_valid(new_a) || !bounds_valid(new_b)) return;  // infeasible: keep the sound old state
  sync_bounds(new_a);
  sync_bounds(new_b);
  if (!bounds_valid(new_a) || !bounds_valid(new_b)) return;
  a = new_a;
  b = new_b;
}

}  // namespace ebpf::verifier
