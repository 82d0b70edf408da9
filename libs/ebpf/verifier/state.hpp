// SPDX-License-Identifier: MIT
// Abstract state of the verifier: register types and bounds, stack slots, call frames.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ebpf/isa.hpp"
#include "ebpf/map.hpp"
#include "verifier/tnum.hpp"

namespace ebpf::verifier {

enum class RegType : uint8_t {
  kNotInit,
  kScalar,
  kCtx,    // the program's context (pt_regs, tracepoint record, raw args)
  kStack,  // a frame's stack; `frame` says which
  kMapValue,
  kMapValueOrNull,    // result of bpf_map_lookup_elem before the null check
  kMapPointer,        // CONST_PTR_TO_MAP from LD_IMM64
  kFunc,              // a callback, from LD_IMM64 BPF_PSEUDO_FUNC
  kRingbufMem,        // a ring buffer reservation (a reference the program must release)
  kRingbufMemOrNull,  // result of bpf_ringbuf_reserve before the null check
  kMapKey,            // a map's key, read-only (bpf_for_each_map_elem callbacks)
  kBtfPointer,        // a kernel struct typed by BTF (`btf_id`), read by probing loads
};

const char* reg_type_name(RegType type);

struct RegState {
  RegType type = RegType::kNotInit;
  uint8_t frame = 0;      // kStack: index of the frame whose stack this points into
  int32_t off = 0;        // fixed offset of a pointer
  uint32_t id = 0;        // shared by copies of one map_value_or_null, for null checks
  uint32_t func = 0;      // kFunc: first instruction of the callback
  uint32_t mem_size = 0;  // kRingbufMem: bytes reserved
  uint32_t ref = 0;       // kRingbufMem: the reference it carries
  uint32_t btf_id = 0;    // kBtfPointer: the struct's BTF id
  const Map* map = nullptr;
  // A scalar's value, or a pointer's variable offset.
  Tnum var_off = Tnum::constant(0);
  int64_t smin = 0, smax = 0;
  uint64_t umin = 0, umax = 0;
  // Bounds of the low 32 bits (what JMP32 compares and ALU32 reads), kept beside the 64-bit
  // ones as Linux does: JMP32 narrows them, sync_bounds() keeps both views consistent.
  int32_t s32min = 0, s32max = 0;
  uint32_t u32min = 0, u32max = 0;

  bool is_pointer() const { return type != RegType::kNotInit && type != RegType::kScalar; }
  bool is_constant() const { return type == RegType::kScalar && var_off.is_constant(); }
};

enum SlotByte : uint8_t { kSlotInvalid = 0, kSlotMisc = 1, kSlotZero = 2, kSlotSpill = 3 };

// All of these are valid when zero-filled (the verifier clears them with memset rather
// than building large temporaries on its stack).
struct StackSlot {
  uint8_t bytes[8] = {};  // SlotByte per byte
  RegState spill;         // valid when all bytes are kSlotSpill
};

inline constexpr int kSlots = kStackSize / 8;

struct FrameState {
  RegState regs[kNumRegisters];
  uint32_t callsite = 0;  // caller's call instruction (frames > 0)
  uint32_t subprog_start = 0;
  bool is_callback = false;  // entered from a helper (bpf_loop), returns to after the helper
  uint16_t stack_depth = 0;  // deepest byte touched, for the combined stack limit
  StackSlot stack[kSlots];   // last: a packed copy keeps only the slots in use
};

inline constexpr int kMaxReferences = 16;

struct State {
  uint32_t depth = 0;  // index of the current frame
  // References the program holds (ring buffer reservations): id and acquiring instruction.
  uint32_t ref_count = 0;
  uint32_t refs[kMaxReferences] = {};
  uint32_t ref_insns[kMaxReferences] = {};
  FrameState frames[kMaxCallDepth];

  FrameState& current() { return frames[depth]; }
  // Bytes needed to copy this state (frames beyond `depth` are not copied).
  size_t used_size() const { return offsetof(State, frames) + (depth + 1) * sizeof(FrameState); }
};

// A State stored for later (a pending branch, a pruning checkpoint) keeps only what is in
// use: the frames up to `depth` and, in each, the stack slots up to the deepest one holding
// anything. A full State is about 62 KB (8 frames of 64 slots); a packed one of a program
// that touches no stack is about 1 KB. Slots past `slot_counts[d]` are empty (all zero).
struct alignas(alignof(FrameState)) PackedState {
  uint32_t bytes;  // size of this allocation
  uint32_t depth;
  uint32_t ref_count;
  uint32_t refs[kMaxReferences];
  uint32_t ref_insns[kMaxReferences];
  uint8_t slot_counts[kMaxCallDepth];
  // Followed by, for each frame 0..depth, the FrameState up to `stack` and its slots.

  // Frame `d`: its registers and header fields only; its slots through slot().
  const FrameState& frame(uint32_t d) const {
    return *reinterpret_cast<const FrameState*>(frame_bytes(d));
  }
  // Slot `s` of frame `d`, or an empty slot past the stored ones.
  const StackSlot& slot(uint32_t d, int s) const;

 private:
  const uint8_t* frame_bytes(uint32_t d) const;
};

inline constexpr size_t kFrameHeadSize = offsetof(FrameState, stack);

// Bytes a packed copy of `state` takes; packs it into `out` (that many bytes); unpacks a
// packed copy into a full State.
size_t packed_size(const State& state);
void pack_state(const State& state, PackedState* out);
void unpack_state(const PackedState& packed, State& out);

// Scalar helpers (bounds.cpp).
void mark_unknown(RegState& reg);
void mark_constant(RegState& reg, uint64_t value);
void mark_not_init(RegState& reg);
void mark_unknown_sized(RegState& reg, int bytes);  // a zero-extended load of `bytes` bytes
void sync_bounds(RegState& reg);
bool bounds_valid(const RegState& reg);

// Applies ALU `op` (isa.hpp kAlu*) to a scalar `dst` with scalar `src`; `is32` for ALU32.
void scalar_alu(RegState& dst, const RegState& src, uint8_t op, int16_t offset, bool is32);

// Branch decisions for `reg <op> value` where `value` is a constant: 1 always taken, 0
// never, -1 unknown.
int branch_taken(const RegState& reg, uint64_t value, uint8_t op, bool is32);
// Narrows `reg` for the branch where `reg <op> value` is `taken`.
void refine_branch(RegState& reg, uint64_t value, uint8_t op, bool is32, bool taken);

// The low 32 bits of a scalar as a zero-extended scalar (bounds.cpp).
RegState low32_view(const RegState& reg);

// Comparisons of two scalars (branches.cpp): `a <op> b` decided from both ranges (1, 0, -1
// as above); both narrowed for the branch where it is `taken`; the operator that compares
// `b` with `a`.
int branch_taken_ranges(const RegState& a, const RegState& b, uint8_t op, bool is32);
void refine_branch_ranges(RegState& a, RegState& b, uint8_t op, bool is32, bool taken);
uint8_t flip_comparison(uint8_t op);

}  // namespace ebpf::verifier
