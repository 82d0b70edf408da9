// CNode: guard/radix decoding of cptrs, derivation rules, and Copy/Mint/Move/Mutate/Delete/Revoke.
#include "kernel/cnode.hpp"

#include "kernel/cdt.hpp"
#include "kernel/object_types.hpp"

namespace kernel {

namespace abi = sonde::abi;
using abi::Label;

namespace {

uint64_t bit_field(uint64_t value, uint64_t shift, uint64_t width) {
  if (width == 0) return 0;
  if (width >= 64) return value;
  return (value >> shift) & ((uint64_t{1} << width) - 1);
}

Error walk(const Capability& root, uint64_t cptr, uint64_t depth, bool stop_at_leaf, Slot*& found) {
  if (depth == 0 || depth > abi::kCptrBits) return Error::kDepthMismatch;
  if (depth < abi::kCptrBits && (cptr >> depth) != 0) return Error::kRangeError;
  if (static_cast<ObjectType>(root.type) != ObjectType::kCNode) return Error::kInvalidRoot;
  const Capability* node = &root;
  uint64_t remaining = depth;
  for (;;) {
    uint64_t radix = node->size_bits;
    uint64_t guard_bits = node->guard_bits;
    uint64_t level = radix + guard_bits;
    if (radix == 0) return Error::kInvalidRoot;  // never made by Retype; refuse rather than loop
    if (level > remaining) return Error::kDepthMismatch;
    if (bit_field(cptr, remaining - guard_bits, guard_bits) != node->data) {
      return Error::kGuardMismatch;
    }
    Slot* slot = &cnode_slots(*node)[bit_field(cptr, remaining - level, radix)];
    remaining -= level;
    if (remaining == 0) {
      found = slot;
      return Error::kNone;
    }
    if (slot->type() != ObjectType::kCNode) {
      if (!stop_at_leaf) return Error::kDepthMismatch;
      found = slot;
      return Error::kNone;
    }
    node = &slot->cap;
  }
}

// A CNode argument named by a cptr in the caller's CSpace: must hold a CNode cap.
Error lookup_cnode_argument(const Capability& cspace_root, uint64_t cptr, uint64_t rights,
                            const Capability*& cnode) {
  Slot* slot = nullptr;
  Error error = lookup_cap_slot(cspace_root, cptr, slot);
  if (error != Error::kNone) return error;
  if (slot->type() != ObjectType::kCNode) return Error::kInvalidRoot;
  if (!has_rights(slot->cap, rights)) return Error::kMissingRight;
  cnode = &slot->cap;
  return Error::kNone;
}

bool badgeable(ObjectType type) {
  return type == ObjectType::kEndpoint || type == ObjectType::kNotification;
}

}  // namespace

Error resolve_slot(const Capability& root, uint64_t cptr, uint64_t depth, Slot*& slot) {
  return walk(root, cptr, depth, /*stop_at_leaf=*/false, slot);
}

Error lookup_cap_slot(const Capability& cspace_root, uint64_t cptr, Slot*& slot) {
  return walk(cspace_root, cptr, abi::kCptrBits, /*stop_at_leaf=*/true, slot);
}

Error lookup_cap_argument(const Capability& cspace_root, uint64_t cptr, ObjectType type,
                          uint64_t rights, Slot*& slot) {
  Error error = lookup_cap_slot(cspace_root, cptr, slot);
  if (error != Error::kNone) return error;
  if (slot->empty()) return Error::kSlotEmpty;
  if (slot->type() != type) return Error::kWrongType;
  if (!has_rights(slot->cap, rights)) return Error::kMissingRight;
  return Error::kNone;
}

Error derive_cap(const Slot& source, bool mint, uint64_t rights_mask, uint64_t data,
                 bool duplicating, Capability& derived) {
  ObjectType type = source.type();
  derived = source.cap;
  if (type == ObjectType::kUntyped) {
    // A copy takes over the untyped's free memory; with children there is no safe split.
    if (duplicating && source.has_children()) return Error::kRevokeFirst;
    if (duplicating) derived.data = 0;
  }
  if ((type == ObjectType::kFrame || type == ObjectType::kPageTable) && duplicating) {
    // A mapping belongs to one cap: copies start unmapped.
    derived.data = 0;
    derived.reserved = 0;
  }
  if (!mint) return Error::kNone;
  if ((rights_mask & ~abi::kRightsAll) != 0) return Error::kInvalidArgument;
  derived.rights = static_cast<uint8_t>(source.cap.rights & rights_mask);
  if (badgeable(type)) {
    if (data != 0) {
      if (source.cap.data != 0) return Error::kAlreadyBadged;
      derived.data = data;
    }
  } else if (type == ObjectType::kCNode) {
    uint64_t guard_bits = data & ((uint64_t{1} << abi::kGuardWidthBits) - 1);
    uint64_t guard = data >> abi::kGuardWidthBits;
    if (guard_bits + source.cap.size_bits > abi::kCptrBits) return Error::kRangeError;
    if (guard_bits < 64 && (guard >> guard_bits) != 0) return Error::kInvalidArgument;
    derived.guard_bits = static_cast<uint8_t>(guard_bits);
    derived.data = guard;
  } else if (data != 0) {
    return Error::kInvalidArgument;
  }
  return Error::kNone;
}

Error decode_cnode_invocation(const Capability& cspace_root, const Capability& invoked, Label label,
                              const uint64_t* words, size_t word_count, CNodeOperation& operation) {
  namespace m = abi::cnode_message;
  if (static_cast<ObjectType>(invoked.type) != ObjectType::kCNode) return Error::kWrongType;
  operation = CNodeOperation{};
  operation.label = label;
  Error error = Error::kNone;

  if (label == Label::kCNodeDelete || label == Label::kCNodeRevoke) {
    if (word_count < m::kSlotLength) return Error::kTruncatedMessage;
    if (!has_rights(invoked, abi::kRightWrite)) return Error::kMissingRight;
    error = resolve_slot(invoked, words[m::kIndex], words[m::kDepth], operation.source);
    if (error != Error::kNone) return error;
    if (operation.source->empty()) return Error::kSlotEmpty;
    return Error::kNone;
  }

  bool derives = label == Label::kCNodeMint || label == Label::kCNodeMutate;
  bool moves = label == Label::kCNodeMove || label == Label::kCNodeMutate;
  if (!derives && !moves && label != Label::kCNodeCopy) return Error::kInvalidLabel;
  if (word_count < (derives ? m::kDeriveLength : m::kTransferLength)) {
    return Error::kTruncatedMessage;
  }
  if (!has_rights(invoked, abi::kRightWrite)) return Error::kMissingRight;
  error = resolve_slot(invoked, words[m::kDestIndex], words[m::kDestDepth], operation.destination);
  if (error != Error::kNone) return error;
  if (!operation.destination->empty()) return Error::kSlotOccupied;

  const Capability* source_root = nullptr;
  uint64_t source_rights = moves ? (abi::kRightRead | abi::kRightWrite) : abi::kRightRead;
  error = lookup_cnode_argument(cspace_root, words[m::kSourceRoot], source_rights, source_root);
  if (error != Error::kNone) return error;
  error =
      resolve_slot(*source_root, words[m::kSourceIndex], words[m::kSourceDepth], operation.source);
  if (error != Error::kNone) return error;
  if (operation.source->empty()) return Error::kSlotEmpty;

  uint64_t rights = derives ? words[m::kRights] : abi::kRightsAll;
  uint64_t data = derives ? words[m::kData] : 0;
  return derive_cap(*operation.source, derives, rights, data, /*duplicating=*/!moves,
                    operation.cap);
}

void invoke_cnode(const CNodeOperation& operation) {
  switch (operation.label) {
    case Label::kCNodeCopy:
    case Label::kCNodeMint:
      cdt_insert_copy(operation.source, operation.destination, operation.cap);
      return;
    case Label::kCNodeMove: cdt_move(operation.source, operation.destination); return;
    case Label::kCNodeMutate:
      cdt_move(operation.source, operation.destination);
      notify_cap_changed(operation.destination->cap, operation.cap);
      operation.destination->cap = operation.cap;
      return;
    case Label::kCNodeDelete: delete_cap(operation.source); return;
    case Label::kCNodeRevoke: revoke_cap(operation.source); return;
    default: return;
  }
}

}  // namespace kernel
