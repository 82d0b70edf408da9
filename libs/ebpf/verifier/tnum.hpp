// SPDX-License-Identifier: MIT
// Tristate numbers: per-bit known-0, known-1 or unknown, as in Linux's verifier.
#pragma once

#include <stdint.h>

namespace ebpf::verifier {

// Bits set in `mask` are unknown; the others equal the bits of `value`.
struct Tnum {
  uint64_t value;
  uint64_t mask;

  static constexpr Tnum constant(uint64_t v) { return {v, 0}; }
  static constexpr Tnum unknown() { return {0, ~uint64_t{0}}; }
  constexpr bool is_constant() const { return mask == 0; }
  constexpr bool operator==(const Tnum& o) const { return value == o.value && mask == o.mask; }
};

// Smallest tnum holding every value in [min, max].
inline Tnum tnum_range(uint64_t min, uint64_t max) {
  uint64_t chi = min ^ max;
  int bits = chi == 0 ? 0 : 64 - __builtin_clzll(chi);
  if (bits > 63) return Tnum::unknown();
  uint64_t delta = (uint64_t{1} << bits) - 1;
  return {min & ~delta, delta};
}

inline Tnum tnum_add(Tnum a, Tnum b) {
  uint64_t sm = a.mask + b.mask, sv = a.value + b.value, sigma = sm + sv;
  uint64_t chi = sigma ^ sv, mu = chi | a.mask | b.mask;
  return {sv & ~mu, mu};
}

inline Tnum tnum_sub(Tnum a, Tnum b) {
  uint64_t dv = a.value - b.value, alpha = dv + a.mask, beta = dv - b.mask;
  uint64_t chi = alpha ^ beta, mu = chi | a.mask | b.mask;
  return {dv & ~mu, mu};
}

inline Tnum tnum_and(Tnum a, Tnum b) {
  uint64_t alpha = a.value | a.mask, beta = b.value | b.mask, v = a.value & b.value;
  return {v, alpha & beta & ~v};
}

inline Tnum tnum_or(Tnum a, Tnum b) {
  uint64_t v = a.value | b.value, mu = a.mask | b.mask;
  return {v, mu & ~v};
}

inline Tnum tnum_xor(Tnum a, Tnum b) {
  uint64_t v = a.value ^ b.value, mu = a.mask | b.mask;
  return {v & ~mu, mu};
}

inline Tnum tnum_lshift(Tnum a, unsigned shift) { return {a.value << shift, a.mask << shift}; }
inline Tnum tnum_rshift(Tnum a, unsigned shift) { return {a.value >> shift, a.mask >> shift}; }
inline Tnum tnum_arshift(Tnum a, unsigned shift, bool is32) {
  if (is32) {
    return {static_cast<uint32_t>(static_cast<int32_t>(static_cast<uint32_t>(a.value)) >> shift),
            static_cast<uint32_t>(static_cast<int32_t>(static_cast<uint32_t>(a.mask)) >> shift)};
  }
  return {static_cast<uint64_t>(static_cast<int64_t>(a.value) >> shift),
          static_cast<uint64_t>(static_cast<int64_t>(a.mask) >> shift)};
}

// Multiplication, by shift-and-add over the known bits of `a`.
inline Tnum tnum_mul(Tnum a, Tnum b) {
  uint64_t acc_v = a.value * b.value;
  Tnum acc_m = {0, 0};
  while (a.value != 0 || a.mask != 0) {
    if (a.value & 1)
      acc_m = tnum_add(acc_m, {0, b.mask});
    else if (a.mask & 1)
      acc_m = tnum_add(acc_m, {0, b.value | b.mask});
    a = tnum_rshift(a, 1);
    b = tnum_lshift(b, 1);
  }
  return tnum_add({acc_v, 0}, acc_m);
}

// Values both tnums allow (callers ensure they overlap).
inline Tnum tnum_intersect(Tnum a, Tnum b) {
  uint64_t v = a.value | b.value, mu = a.mask & b.mask;
  return {v & ~mu, mu};
}

inline Tnum tnum_cast32(Tnum a) {
  return {static_cast<uint32_t>(a.value), static_cast<uint32_t>(a.mask)};
}

// True when every value `b` allows, `a` allows too.
inline bool tnum_contains(Tnum a, Tnum b) {
  if (b.mask & ~a.mask) return false;
  return (a.value & ~b.mask & ~a.mask) == (b.value & ~b.mask & ~a.mask);
}

inline uint64_t tnum_umin(Tnum a) { return a.value; }
inline uint64_t tnum_umax(Tnum a) { return a.value | a.mask; }

}  // namespace ebpf::verifier
