// SPDX-License-Identifier: MIT
// Entry assumptions: turns a caller-stated entry state into the verifier's own frame state.
#include "verifier/checker.hpp"

namespace ebpf::verifier {
namespace {

constexpr uint32_t kAssumedIdBase = 0x80000000u;

bool apply_bounds(const AssumedRegister& from, RegState& to) {
  RegState bounds;
  mark_unknown(bounds);
  bounds.smin = from.smin;
  bounds.smax = from.smax;
  bounds.umin = from.umin;
  bounds.umax = from.umax;
  if (!bounds_valid(bounds)) return false;
  sync_bounds(bounds);
  if (!bounds_valid(bounds)) return false;
  to.var_off = bounds.var_off;
  to.smin = bounds.smin;
  to.smax = bounds.smax;
  to.umin = bounds.umin;
  to.umax = bounds.umax;
  return true;
}

}  // namespace

bool apply_assumptions(const EntryAssumptions& assumptions, FrameState& entry) {
  for (int i = 0; i < kNumRegisters; ++i) {
    const AssumedRegister& from = assumptions.regs[i];
    RegState& to = entry.regs[i];
    mark_not_init(to);
    switch (from.type) {
      case AssumedType::kNotInit: continue;
      case AssumedType::kScalar:
        mark_unknown(to);
        if (!apply_bounds(from, to)) return false;
        continue;
      case AssumedType::kCtx: to.type = RegType::kCtx; break;
      case AssumedType::kStack:
        to.type = RegType::kStack;
        to.frame = 0;
        break;
      case AssumedType::kMapPointer:
        if (from.map == nullptr) return false;
        to.type = RegType::kMapPointer;
        to.map = from.map;
        break;
      case AssumedType::kMapValue:
        if (from.map == nullptr) return false;
        to.type = RegType::kMapValue;
        to.map = from.map;
        break;
      case AssumedType::kMapValueOrNull:
        if (from.map == nullptr) return false;
        to.type = RegType::kMapValueOrNull;
        to.map = from.map;
        to.id = kAssumedIdBase + static_cast<uint32_t>(i);  // ids the checker never hands out
        break;
    }
    to.off = from.offset;
    if (from.variable_offset && !apply_bounds(from, to)) return false;
  }
  for (int byte = 0; byte < kStackSize; ++byte) {
    AssumedStackByte b = assumptions.stack[byte];
    if (b == AssumedStackByte::kInvalid) continue;
    int offset = byte - kStackSize;  // from the frame pointer, in [-512, -1]
    int slot = (-offset - 1) / 8;
    entry.stack[slot].bytes[offset + 8 * (slot + 1)] =
        b == AssumedStackByte::kZero ? kSlotZero : kSlotMisc;
    if (-offset > entry.stack_depth) entry.stack_depth = static_cast<uint16_t>(-offset);
  }
  return true;
}

}  // namespace ebpf::verifier
