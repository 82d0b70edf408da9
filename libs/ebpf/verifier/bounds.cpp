// SPDX-License-Identifier: MIT
// Scalar tracking: tnum and signed/unsigned bounds through ALU operations and branches.
#include <stdint.h>

#include "verifier/state.hpp"

namespace ebpf::verifier {
namespace {

constexpr int64_t kS64Min = INT64_MIN;
constexpr int64_t kS64Max = INT64_MAX;
constexpr uint64_t kU64Max = UINT64_MAX;
constexpr uint64_t kU32Max = UINT32_MAX;

uint64_t max_u(uint64_t a, uint64_t b) { return a > b ? a : b; }
uint64_t min_u(uint64_t a, uint64_t b) { return a < b ? a : b; }
int64_t max_s(int64_t a, int64_t b) { return a > b ? a : b; }
int64_t min_s(int64_t a, int64_t b) { return a < b ? a : b; }

void unbound_signed(RegState& r) {
  r.smin = kS64Min;
  r.smax = kS64Max;
}
void unbound_unsigned(RegState& r) {
  r.umin = 0;
  r.umax = kU64Max;
}

void unbound32(RegState& r) {
  r.u32min = 0;
  r.u32max = UINT32_MAX;
  r.s32min = INT32_MIN;
  r.s32max = INT32_MAX;
}

uint32_t max_u32(uint32_t a, uint32_t b) { return a > b ? a : b; }
uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }
int32_t max_s32(int32_t a, int32_t b) { return a > b ? a : b; }
int32_t min_s32(int32_t a, int32_t b) { return a < b ? a : b; }

// The 32-bit subregister as a non-negative 64-bit scalar, for ALU32 operations.
RegState low32(const RegState& r) {
  RegState v;
  v.type = RegType::kScalar;
  v.var_off = tnum_cast32(r.var_off);
  v.umin = r.u32min;
  v.umax = r.u32max;
  if ((r.umin >> 32) == (r.umax >> 32)) {
    v.umin = max_u(v.umin, static_cast<uint32_t>(r.umin));
    v.umax = min_u(v.umax, static_cast<uint32_t>(r.umax));
  }
  v.smin = static_cast<int64_t>(v.umin);
  v.smax = static_cast<int64_t>(v.umax);
  v.u32min = static_cast<uint32_t>(v.umin);
  v.u32max = static_cast<uint32_t>(v.umax);
  v.s32min = r.s32min;
  v.s32max = r.s32max;
  sync_bounds(v);
  return v;
}

// Keeps only the low 32 bits of a result, zero-extended (what ALU32 writes).
void truncate32(RegState& r) {
  if (r.umax > kU32Max || (r.umin >> 32) != (r.umax >> 32)) {
    r.umin = 0;
    r.umax = kU32Max;
  } else {
    r.umin = static_cast<uint32_t>(r.umin);
    r.umax = static_cast<uint32_t>(r.umax);
  }
  r.var_off = tnum_cast32(r.var_off);
  r.smin = static_cast<int64_t>(r.umin);
  r.smax = static_cast<int64_t>(r.umax);
  unbound32(r);
  sync_bounds(r);
}

// The 64-bit view alone: tnum, signed and unsigned bounds made consistent.
void sync64(RegState& r) {
  // Ranges from the known bits.
  r.umin = max_u(r.umin, tnum_umin(r.var_off));
  r.umax = min_u(r.umax, tnum_umax(r.var_off));
  if ((r.var_off.mask >> 63) == 0) {
    // The sign bit is known.
    int64_t lowest = static_cast<int64_t>(r.var_off.value | (r.var_off.mask & (uint64_t{1} << 63)));
    int64_t highest =
        static_cast<int64_t>(r.var_off.value | (r.var_off.mask & ~(uint64_t{1} << 63)));
    r.smin = max_s(r.smin, lowest);
    r.smax = min_s(r.smax, highest);
  }
  // Signed and unsigned views agree when the range does not cross the sign boundary.
  if (r.smin >= 0 || r.smax < 0) {
    r.umin = max_u(r.umin, static_cast<uint64_t>(r.smin));
    r.umax = min_u(r.umax, static_cast<uint64_t>(r.smax));
    r.smin = static_cast<int64_t>(r.umin);
    r.smax = static_cast<int64_t>(r.umax);
  } else if (static_cast<int64_t>(r.umax) >= 0) {
    r.smin = static_cast<int64_t>(r.umin);
    r.umax = min_u(r.umax, static_cast<uint64_t>(r.smax));
    r.smax = static_cast<int64_t>(r.umax);
  } else if (static_cast<int64_t>(r.umin) < 0) {
    r.umin = max_u(r.umin, static_cast<uint64_t>(r.smin));
    r.smin = static_cast<int64_t>(r.umin);
    r.smax = static_cast<int64_t>(r.umax);
  }
  // Known bits from the range.
  if (r.umin <= r.umax) r.var_off = tnum_intersect(r.var_off, tnum_range(r.umin, r.umax));
}

// The low-32-bit view against the 64-bit one, both ways.
void sync32(RegState& r) {
  // 64-bit ranges inside one 2^32 block bound the low half.
  if ((r.umin >> 32) == (r.umax >> 32)) {
    r.u32min = max_u32(r.u32min, static_cast<uint32_t>(r.umin));
    r.u32max = min_u32(r.u32max, static_cast<uint32_t>(r.umax));
  }
  if ((static_cast<uint64_t>(r.smin) >> 32) == (static_cast<uint64_t>(r.smax) >> 32)) {
    r.u32min = max_u32(r.u32min, static_cast<uint32_t>(r.smin));
    r.u32max = min_u32(r.u32max, static_cast<uint32_t>(r.smax));
    if (static_cast<int32_t>(r.smin) <= static_cast<int32_t>(r.smax)) {
      r.s32min = max_s32(r.s32min, static_cast<int32_t>(r.smin));
      r.s32max = min_s32(r.s32max, static_cast<int32_t>(r.smax));
    }
  }
  // The low half of the known bits.
  Tnum low = tnum_cast32(r.var_off);
  r.u32min = max_u32(r.u32min, static_cast<uint32_t>(tnum_umin(low)));
  r.u32max = min_u32(r.u32max, static_cast<uint32_t>(tnum_umax(low)));
  if ((low.mask >> 31) == 0) {
    int32_t lowest =
        static_cast<int32_t>(static_cast<uint32_t>(low.value | (low.mask & 0x80000000u)));
    int32_t highest =
        static_cast<int32_t>(static_cast<uint32_t>(low.value | (low.mask & 0x7fffffffu)));
    r.s32min = max_s32(r.s32min, lowest);
    r.s32max = min_s32(r.s32max, highest);
  }
  // Signed and unsigned 32-bit views.
  if (static_cast<int32_t>(r.u32min) <= static_cast<int32_t>(r.u32max)) {
    r.s32min = max_s32(r.s32min, static_cast<int32_t>(r.u32min));
    r.s32max = min_s32(r.s32max, static_cast<int32_t>(r.u32max));
  }
  if (r.s32min >= 0 || r.s32max < 0) {
    r.u32min = max_u32(r.u32min, static_cast<uint32_t>(r.s32min));
    r.u32max = min_u32(r.u32max, static_cast<uint32_t>(r.s32max));
  }
  if (r.u32min > r.u32max) return;  // infeasible; bounds_valid() reports it
  // Back to 64 bits: the low half's range gives known low bits, and with the upper half
  // known the whole value's range follows.
  Tnum range = tnum_range(r.u32min, r.u32max);
  r.var_off = tnum_intersect(r.var_off, {range.value, range.mask | 0xffffffff00000000u});
  if ((r.var_off.mask >> 32) == 0) {
    uint64_t high = r.var_off.value & 0xffffffff00000000u;
    r.umin = max_u(r.umin, high | r.u32min);
    r.umax = min_u(r.umax, high | r.u32max);
  }
}

void alu_add(RegState& d, const RegState& s) {
  int64_t smin, smax;
  if (__builtin_add_overflow(d.smin, s.smin, &smin) ||
      __builtin_add_overflow(d.smax, s.smax, &smax)) {
    unbound_signed(d);
  } else {
    d.smin = smin;
    d.smax = smax;
  }
  uint64_t umin, umax;
  if (__builtin_add_overflow(d.umin, s.umin, &umin) ||
      __builtin_add_overflow(d.umax, s.umax, &umax)) {
    unbound_unsigned(d);
  } else {
    d.umin = umin;
    d.umax = umax;
  }
  d.var_off = tnum_add(d.var_off, s.var_off);
}

void alu_sub(RegState& d, const RegState& s) {
  int64_t smin, smax;
  if (__builtin_sub_overflow(d.smin, s.smax, &smin) ||
      __builtin_sub_overflow(d.smax, s.smin, &smax)) {
    unbound_signed(d);
  } else {
    d.smin = smin;
    d.smax = smax;
  }
  if (d.umin < s.umax) {
    unbound_unsigned(d);
  } else {
    d.umin = d.umin - s.umax;
    d.umax = d.umax - s.umin;
  }
  d.var_off = tnum_sub(d.var_off, s.var_off);
}

void alu_mul(RegState& d, const RegState& s) {
  d.var_off = tnum_mul(d.var_off, s.var_off);
  if (d.smin < 0 || s.smin < 0 || d.umax > kU32Max || s.umax > kU32Max) {
    unbound_signed(d);
    unbound_unsigned(d);
    return;
  }
  d.umin = d.umin * s.umin;
  d.umax = d.umax * s.umax;
  d.smin = static_cast<int64_t>(d.umin);
  d.smax = static_cast<int64_t>(d.umax);
}

void alu_bitwise(RegState& d, const RegState& s, uint8_t op) {
  bool both_positive = d.smin >= 0 && s.smin >= 0;
  uint64_t umax_and = min_u(d.umax, s.umax);
  uint64_t umin_or = max_u(d.umin, s.umin);
  if (op == kAluAnd)
    d.var_off = tnum_and(d.var_off, s.var_off);
  else if (op == kAluOr)
    d.var_off = tnum_or(d.var_off, s.var_off);
  else
    d.var_off = tnum_xor(d.var_off, s.var_off);
  d.umin = tnum_umin(d.var_off);
  d.umax = tnum_umax(d.var_off);
  if (op == kAluAnd) d.umax = min_u(d.umax, umax_and);
  if (op == kAluOr) d.umin = max_u(d.umin, umin_or);
  if (both_positive) {
    d.smin = static_cast<int64_t>(d.umin);
    d.smax = static_cast<int64_t>(d.umax);
  } else {
    unbound_signed(d);
  }
}

void alu_shift(RegState& d, const RegState& s, uint8_t op, bool is32) {
  unsigned width = is32 ? 32 : 64;
  if (!s.is_constant() || s.var_off.value >= width) {
    // Unknown or out-of-range amount (runtime masks it): nothing is known.
    mark_unknown(d);
    return;
  }
  unsigned k = static_cast<unsigned>(s.var_off.value);
  if (op == kAluLsh) {
    bool overflows = k != 0 && (d.umax >> (64 - k)) != 0;
    d.var_off = tnum_lshift(d.var_off, k);
    if (overflows) {
      unbound_unsigned(d);
    } else {
      d.umin <<= k;
      d.umax <<= k;
    }
    unbound_signed(d);
  } else if (op == kAluRsh) {
    d.var_off = tnum_rshift(d.var_off, k);
    d.umin >>= k;
    d.umax >>= k;
    unbound_signed(d);
  } else {  // arithmetic
    d.var_off = tnum_arshift(d.var_off, k, false);
    d.smin >>= k;
    d.smax >>= k;
    unbound_unsigned(d);
  }
}

void alu_divmod(RegState& d, const RegState& s, uint8_t op, int16_t offset) {
  if (offset != 0 || !s.is_constant() || s.var_off.value == 0) {
    mark_unknown(d);
    return;
  }
  uint64_t k = s.var_off.value;
  if (op == kAluDiv) {
    d.umin /= k;
    d.umax /= k;
  } else {
    d.umax = min_u(d.umax, k - 1);
    d.umin = 0;
  }
  d.var_off = tnum_range(d.umin, d.umax);
  unbound_signed(d);
}

}  // namespace

RegState low32_view(const RegState& reg) { return low32(reg); }

const char* reg_type_name(RegType type) {
  switch (type) {
    case RegType::kNotInit: return "?";
    case RegType::kScalar: return "scalar";
    case RegType::kCtx: return "ctx";
    case RegType::kStack: return "fp";
    case RegType::kMapValue: return "map_value";
    case RegType::kMapValueOrNull: return "map_value_or_null";
    case RegType::kMapPointer: return "map_ptr";
    case RegType::kFunc: return "func";
    case RegType::kRingbufMem: return "ringbuf_mem";
    case RegType::kRingbufMemOrNull: return "ringbuf_mem_or_null";
    case RegType::kMapKey: return "map_key";
    case RegType::kBtfPointer: return "ptr_";
  }
  return "?";
}

void mark_not_init(RegState& reg) { reg = RegState{}; }

void mark_unknown(RegState& reg) {
  reg = RegState{};
  reg.type = RegType::kScalar;
  reg.var_off = Tnum::unknown();
  reg.smin = kS64Min;
  reg.smax = kS64Max;
  reg.umin = 0;
  reg.umax = kU64Max;
  unbound32(reg);
}

void mark_constant(RegState& reg, uint64_t value) {
  reg = RegState{};
  reg.type = RegType::kScalar;
  reg.var_off = Tnum::constant(value);
  reg.smin = reg.smax = static_cast<int64_t>(value);
  reg.umin = reg.umax = value;
  reg.u32min = reg.u32max = static_cast<uint32_t>(value);
  reg.s32min = reg.s32max = static_cast<int32_t>(static_cast<uint32_t>(value));
}

void mark_unknown_sized(RegState& reg, int bytes) {
  mark_unknown(reg);
  if (bytes >= 8) return;
  uint64_t max = (uint64_t{1} << (bytes * 8)) - 1;
  reg.umax = max;
  reg.smin = 0;
  reg.smax = static_cast<int64_t>(max);
  reg.var_off = {0, max};
}

void sync_bounds(RegState& r) {
  sync64(r);
  sync32(r);
  sync64(r);
}

bool bounds_valid(const RegState& r) {
  return r.umin <= r.umax && r.smin <= r.smax && tnum_umin(r.var_off) <= r.umax &&
         tnum_umax(r.var_off) >= r.umin && r.u32min <= r.u32max && r.s32min <= r.s32max;
}

void scalar_alu(RegState& dst, const RegState& src_in, uint8_t op, int16_t offset, bool is32) {
  RegState src = is32 ? low32(src_in) : src_in;
  if (is32) dst = low32(dst);
  switch (op) {
    case kAluAdd: alu_add(dst, src); break;
    case kAluSub: alu_sub(dst, src); break;
    case kAluMul: alu_mul(dst, src); break;
    case kAluAnd:
    case kAluOr:
    case kAluXor: alu_bitwise(dst, src, op); break;
    case kAluLsh:
    case kAluRsh: alu_shift(dst, src, op, is32); break;
    case kAluArsh:
      if (is32) {
        if (!src.is_constant() || src.var_off.value >= 32) {
          mark_unknown(dst);
        } else {
          dst.var_off = tnum_arshift(dst.var_off, static_cast<unsigned>(src.var_off.value), true);
          unbound_signed(dst);
          unbound_unsigned(dst);
        }
      } else {
        alu_shift(dst, src, op, false);
      }
      break;
    case kAluDiv:
    case kAluMod: alu_divmod(dst, src, op, offset); break;
    case kAluNeg:
      if (dst.is_constant())
        mark_constant(dst, 0 - dst.var_off.value);
      else
        mark_unknown(dst);
      break;
    default: mark_unknown(dst); break;
  }
  unbound32(dst);  // the operations above computed the 64-bit view; re-derive the low half
  dst.id = 0;      // a new value: no longer equal to the copies it came from
  if (is32) {
    truncate32(dst);
  } else {
    sync_bounds(dst);
  }
  if (!bounds_valid(dst)) mark_unknown(dst);
  if (is32 && dst.umax > kU32Max) truncate32(dst);
}

int branch_taken(const RegState& reg_in, uint64_t value, uint8_t op, bool is32) {
  RegState r = is32 ? low32(reg_in) : reg_in;
  if (is32) value = static_cast<uint32_t>(value);
  int64_t sval =
      is32 ? static_cast<int32_t>(static_cast<uint32_t>(value)) : static_cast<int64_t>(value);
  int64_t smin = r.smin, smax = r.smax;
  if (is32) {
    smin = r.s32min;
    smax = r.s32max;
  }
  switch (op) {
    case kJmpJeq:
      if (r.var_off.is_constant()) return r.var_off.value == value;
      if (value < r.umin || value > r.umax || !tnum_contains(r.var_off, Tnum::constant(value)))
        return 0;
      return -1;
    case kJmpJne:
      if (r.var_off.is_constant()) return r.var_off.value != value;
      if (value < r.umin || value > r.umax || !tnum_contains(r.var_off, Tnum::constant(value)))
        return 1;
      return -1;
    case kJmpJset:
      if ((r.var_off.value & value) != 0) return 1;
      if (((r.var_off.value | r.var_off.mask) & value) == 0) return 0;
      return -1;
    case kJmpJgt: return r.umin > value ? 1 : r.umax <= value ? 0 : -1;
    case kJmpJge: return r.umin >= value ? 1 : r.umax < value ? 0 : -1;
    case kJmpJlt: return r.umax < value ? 1 : r.umin >= value ? 0 : -1;
    case kJmpJle: return r.umax <= value ? 1 : r.umin > value ? 0 : -1;
    case kJmpJsgt: return smin > sval ? 1 : smax <= sval ? 0 : -1;
    case kJmpJsge: return smin >= sval ? 1 : smax < sval ? 0 : -1;
    case kJmpJslt: return smax < sval ? 1 : smin >= sval ? 0 : -1;
    case kJmpJsle: return smax <= sval ? 1 : smin > sval ? 0 : -1;
  }
  return -1;
}

namespace {

// JMP32: narrows the low half's bounds; sync_bounds() carries what follows to 64 bits.
void refine_branch32(RegState& r, uint32_t v, uint8_t op) {
  int32_t sv = static_cast<int32_t>(v);
  RegState n = r;
  switch (op) {
    case kJmpJeq:
      if (((r.var_off.value ^ v) & ~r.var_off.mask & 0xffffffffu) != 0) return;  // cannot hold
      n.u32min = n.u32max = v;
      n.s32min = n.s32max = sv;
      n.var_off = {(r.var_off.value & 0xffffffff00000000u) | v,
                   r.var_off.mask & 0xffffffff00000000u};
      break;
    case kJmpJne:
      if (n.u32min == v && n.u32min < n.u32max)
        ++n.u32min;
      else if (n.u32max == v && n.u32max > n.u32min)
        --n.u32max;
      if (n.s32min == sv && n.s32min < n.s32max)
        ++n.s32min;
      else if (n.s32max == sv && n.s32max > n.s32min)
        --n.s32max;
      break;
    case kJmpJgt:
      if (v == UINT32_MAX) return;
      n.u32min = max_u32(n.u32min, v + 1);
      break;
    case kJmpJge: n.u32min = max_u32(n.u32min, v); break;
    case kJmpJlt:
      if (v == 0) return;
      n.u32max = min_u32(n.u32max, v - 1);
      break;
    case kJmpJle: n.u32max = min_u32(n.u32max, v); break;
    case kJmpJsgt:
      if (sv == INT32_MAX) return;
      n.s32min = max_s32(n.s32min, sv + 1);
      break;
    case kJmpJsge: n.s32min = max_s32(n.s32min, sv); break;
    case kJmpJslt:
      if (sv == INT32_MIN) return;
      n.s32max = min_s32(n.s32max, sv - 1);
      break;
    case kJmpJsle: n.s32max = min_s32(n.s32max, sv); break;
    default: return;
  }
  if (n.u32min > n.u32max || n.s32min > n.s32max) return;  // infeasible: keep the old state
  sync_bounds(n);
  if (bounds_valid(n)) r = n;
}

}  // namespace

void refine_branch(RegState& r, uint64_t value, uint8_t op, bool is32, bool taken) {
  if (r.type != RegType::kScalar) return;
  if (is32) {
    uint32_t v = static_cast<uint32_t>(value);
    if (op == kJmpJset) {
      if (!taken) {
        // (w & v) == 0: those low bits are zero; the upper half is untouched.
        r.var_off = tnum_and(r.var_off, Tnum::constant(~static_cast<uint64_t>(v)));
        sync_bounds(r);
      }
      return;
    }
    if (!taken) {
      switch (op) {
        case kJmpJeq: op = kJmpJne; break;
        case kJmpJne: op = kJmpJeq; break;
        case kJmpJgt: op = kJmpJle; break;
        case kJmpJge: op = kJmpJlt; break;
        case kJmpJlt: op = kJmpJge; break;
        case kJmpJle: op = kJmpJgt; break;
        case kJmpJsgt: op = kJmpJsle; break;
        case kJmpJsge: op = kJmpJslt; break;
        case kJmpJslt: op = kJmpJsge; break;
        case kJmpJsle: op = kJmpJsgt; break;
        default: return;
      }
    }
    refine_branch32(r, v, op);
    return;
  }
  int64_t sval = static_cast<int64_t>(value);
  // Express the not-taken branch as the opposite comparison.
  if (!taken) {
    switch (op) {
      case kJmpJeq: op = kJmpJne; break;
      case kJmpJne: op = kJmpJeq; break;
      case kJmpJgt: op = kJmpJle; break;
      case kJmpJge: op = kJmpJlt; break;
      case kJmpJlt: op = kJmpJge; break;
      case kJmpJle: op = kJmpJgt; break;
      case kJmpJsgt: op = kJmpJsle; break;
      case kJmpJsge: op = kJmpJslt; break;
      case kJmpJslt: op = kJmpJsge; break;
      case kJmpJsle: op = kJmpJsgt; break;
      case kJmpJset:
        // (r & value) == 0: those bits are zero.
        r.var_off = tnum_and(r.var_off, Tnum::constant(~value));
        sync_bounds(r);
        return;
      default: return;
    }
  }
  switch (op) {
    case kJmpJeq: mark_constant(r, value); return;
    case kJmpJne:
      if (r.umin == value && r.umin < r.umax)
        ++r.umin;
      else if (r.umax == value && r.umax > r.umin)
        --r.umax;
      break;
    case kJmpJgt: r.umin = max_u(r.umin, value + 1); break;
    case kJmpJge: r.umin = max_u(r.umin, value); break;
    case kJmpJlt: r.umax = min_u(r.umax, value - 1); break;
    case kJmpJle: r.umax = min_u(r.umax, value); break;
    case kJmpJsgt: r.smin = max_s(r.smin, sval + 1); break;
    case kJmpJsge: r.smin = max_s(r.smin, sval); break;
    case kJmpJslt: r.smax = min_s(r.smax, sval - 1); break;
    case kJmpJsle: r.smax = min_s(r.smax, sval); break;
    default: return;
  }
  sync_bounds(r);
}

}  // namespace ebpf::verifier
