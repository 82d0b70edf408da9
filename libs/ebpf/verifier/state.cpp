// SPDX-License-Identifier: MIT
// Packed copies of verifier states: only the frames and stack slots in use are stored.
#include "verifier/state.hpp"

namespace ebpf::verifier {
namespace {

constexpr StackSlot kEmptySlot{};

// Slots up to the deepest one with any byte written (an all-invalid slot holds nothing: its
// spill field is read only when the bytes say kSlotSpill).
int used_slots(const FrameState& frame) {
  for (int s = kSlots; s > 0; --s) {
    const StackSlot& slot = frame.stack[s - 1];
    for (uint8_t b : slot.bytes) {
      if (b != kSlotInvalid) return s;
    }
  }
  return 0;
}

size_t frame_size(int slots) {
  return kFrameHeadSize + static_cast<size_t>(slots) * sizeof(StackSlot);
}

}  // namespace

const uint8_t* PackedState::frame_bytes(uint32_t d) const {
  const uint8_t* at = reinterpret_cast<const uint8_t*>(this) + sizeof(PackedState);
  for (uint32_t i = 0; i < d; ++i) at += frame_size(slot_counts[i]);
  return at;
}

const StackSlot& PackedState::slot(uint32_t d, int s) const {
  if (s >= slot_counts[d]) return kEmptySlot;
  return reinterpret_cast<const StackSlot*>(frame_bytes(d) + kFrameHeadSize)[s];
}

size_t packed_size(const State& state) {
  size_t bytes = sizeof(PackedState);
  for (uint32_t d = 0; d <= state.depth; ++d) bytes += frame_size(used_slots(state.frames[d]));
  return bytes;
}

void pack_state(const State& state, PackedState* out) {
  out->depth = state.depth;
  out->ref_count = state.ref_count;
  __builtin_memcpy(out->refs, state.refs, sizeof(out->refs));
  __builtin_memcpy(out->ref_insns, state.ref_insns, sizeof(out->ref_insns));
  __builtin_memset(out->slot_counts, 0, sizeof(out->slot_counts));
  uint8_t* at = reinterpret_cast<uint8_t*>(out) + sizeof(PackedState);
  for (uint32_t d = 0; d <= state.depth; ++d) {
    int slots = used_slots(state.frames[d]);
    out->slot_counts[d] = static_cast<uint8_t>(slots);
    __builtin_memcpy(at, &state.frames[d], frame_size(slots));
    at += frame_size(slots);
  }
  out->bytes = static_cast<uint32_t>(at - reinterpret_cast<uint8_t*>(out));
}

void unpack_state(const PackedState& packed, State& out) {
  out.depth = packed.depth;
  out.ref_count = packed.ref_count;
  __builtin_memcpy(out.refs, packed.refs, sizeof(out.refs));
  __builtin_memcpy(out.ref_insns, packed.ref_insns, sizeof(out.ref_insns));
  const uint8_t* at = reinterpret_cast<const uint8_t*>(&packed) + sizeof(PackedState);
  for (uint32_t d = 0; d <= packed.depth; ++d) {
    int slots = packed.slot_counts[d];
    FrameState& frame = out.frames[d];
    __builtin_memcpy(&frame, at, frame_size(slots));
    __builtin_memset(&frame.stack[slots], 0,
                     static_cast<size_t>(kSlots - slots) * sizeof(StackSlot));
    at += frame_size(slots);
  }
}

}  // namespace ebpf::verifier
