// SPDX-License-Identifier: MIT
// Capability and Slot: what a CNode slot holds, and its place in the derivation tree.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sonde/abi/errors.hpp"
#include "sonde/abi/objects.hpp"
#include "sonde/abi/rights.hpp"

namespace kernel {

using sonde::abi::Error;
using sonde::abi::ObjectType;

// Kernel-internal cap types beyond the ABI's ObjectType. A zombie marks, for the length of
// one deletion, a CNode whose last cap is gone but whose slots are still being emptied; no
// user ever sees one (see cdt.hpp).
inline constexpr ObjectType kZombieType = static_cast<ObjectType>(0xff);

// 24 bytes. `object` is the kernel virtual address of the object (for Untyped, the base of
// its region; for Frame, the frame's direct-map address).
struct Capability {
  uint8_t type = 0;        // ObjectType value; 0 = empty
  uint8_t rights = 0;      // sonde::abi::Right bits
  uint8_t size_bits = 0;   // Untyped: log2 bytes; CNode: radix; Frame: log2 bytes
  uint8_t guard_bits = 0;  // CNode: width of the guard
  uint32_t reserved = 0;
  uintptr_t object = 0;
  // Endpoint, Notification: badge. CNode: guard value. Untyped: bytes used (the watermark).
  // Zombie: the next zombie slot of the deletion in progress.
  uint64_t data = 0;
};
static_assert(sizeof(Capability) == 24);

// A CNode slot: a cap plus its links in the capability derivation tree (CDT). A cap's
// children are the caps derived from it (copies, mints, and for an Untyped, the original caps
// of the objects retyped from it). 64 bytes, so a CNode of radix r is 2^(r+6) bytes.
struct Slot {
  Capability cap;
  Slot* parent = nullptr;
  Slot* first_child = nullptr;
  Slot* previous_sibling = nullptr;
  Slot* next_sibling = nullptr;
  uint64_t reserved = 0;

  bool empty() const { return cap.type == 0; }
  ObjectType type() const { return static_cast<ObjectType>(cap.type); }
  bool has_children() const { return first_child != nullptr; }
};
static_assert(sizeof(Slot) == (1u << sonde::abi::kCNodeSlotBits));

// A cap of `type` over `object` with all rights and no data.
Capability make_cap(ObjectType type, uintptr_t object, uint8_t size_bits);

// A CNode cap over 2^radix slots at `slots` whose guard is `guard` in `guard_bits` bits (boot
// code makes the root CNode cap with this; Retype makes CNode caps with no guard).
Capability make_cnode_cap(uintptr_t slots, uint8_t radix, uint64_t guard, uint8_t guard_bits);

// True when both caps name the same object: same type and address (CNodes also the same radix,
// Untyped and Frames the same size). Empty caps name nothing.
bool same_object(const Capability& a, const Capability& b);

inline bool has_rights(const Capability& cap, uint64_t rights) {
  return (cap.rights & rights) == rights;
}

// CNode caps: slot array, slot count and guard.
inline Slot* cnode_slots(const Capability& cap) { return reinterpret_cast<Slot*>(cap.object); }
inline uint64_t cnode_slot_count(const Capability& cap) { return uint64_t{1} << cap.size_bits; }

// Untyped caps: region size and free bytes.
inline uint64_t untyped_size(const Capability& cap) { return uint64_t{1} << cap.size_bits; }

}  // namespace kernel
