// SPDX-License-Identifier: MIT
// CNode: cptr resolution through guards and radices, and the CNode invocations.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/cap.hpp"
#include "sonde/abi/invocations.hpp"

namespace kernel {

// Resolves the low `depth` bits of `cptr`, most significant first, from the CNode cap `root`:
// at each CNode the next guard_bits must equal its guard, the next radix bits index a slot, and
// resolution goes on into the slot's CNode until exactly `depth` bits are used.
// Errors: kDepthMismatch (depth 0 or above 64; the bits end inside a level; bits remain at a
// slot that holds no CNode), kRangeError (cptr has bits above depth), kGuardMismatch,
// kInvalidRoot (root is not a CNode).
Error resolve_slot(const Capability& root, uint64_t cptr, uint64_t depth, Slot*& slot);

// Resolves the cptr of an invoked cap (or of a root argument) at depth 64 from the caller's
// CSpace root: like resolve_slot, but stops early at a slot that holds no CNode (as seL4
// does), so a CSpace need not spend all 64 bits on guards and radices.
Error lookup_cap_slot(const Capability& cspace_root, uint64_t cptr, Slot*& slot);

// The slot `cptr` names when the CSpace is one CNode whose guard and radix take all 64 bits
// (the usual shape), decoded as lookup_cap_slot would in a few instructions; null for any
// other CSpace (or a guard mismatch), where the caller takes lookup_cap_slot.
inline Slot* lookup_one_level(const Capability& cspace_root, uint64_t cptr) {
  uint64_t radix = cspace_root.size_bits;
  if (cspace_root.type != static_cast<uint8_t>(ObjectType::kCNode) || radix - 1 >= 63 ||
      cspace_root.guard_bits + radix != sonde::abi::kCptrBits ||
      (cptr >> radix) != cspace_root.data) {
    return nullptr;
  }
  return &cnode_slots(cspace_root)[cptr & ((uint64_t{1} << radix) - 1)];
}

// A cap argument of an invocation: the slot `cptr` names in the caller's CSpace must hold a cap
// of `type` with `rights`. Errors, in this order: those of lookup_cap_slot, kSlotEmpty,
// kWrongType, kMissingRight.
Error lookup_cap_argument(const Capability& cspace_root, uint64_t cptr, ObjectType type,
                          uint64_t rights, Slot*& slot);

// A checked CNode invocation, ready to run.
struct CNodeOperation {
  sonde::abi::Label label = sonde::abi::Label::kInvalid;
  Slot* destination = nullptr;  // Copy, Mint, Move, Mutate
  Slot* source = nullptr;  // Copy, Mint, Move, Mutate: the cap taken; Delete, Revoke: the target
  Capability cap;          // Copy, Mint, Mutate: the cap to store
};

// Checks a CNode invocation on the CNode cap `invoked` by a thread whose CSpace root is
// `cspace_root`; fills `operation` or returns the first error (order in docs/CAPABILITIES.md).
Error decode_cnode_invocation(const Capability& cspace_root, const Capability& invoked,
                              sonde::abi::Label label, const uint64_t* words, size_t word_count,
                              CNodeOperation& operation);

// Runs a decoded operation; cannot fail.
void invoke_cnode(const CNodeOperation& operation);

// The cap Copy (mint = false) or Mint/Mutate (mint = true) would make from `source`:
// rights reduced to `rights_mask`, badge or guard set from `data`. `duplicating` is false for
// Mutate (the source goes away, so an untyped with children may change hands).
Error derive_cap(const Slot& source, bool mint, uint64_t rights_mask, uint64_t data,
                 bool duplicating, Capability& derived);

}  // namespace kernel
