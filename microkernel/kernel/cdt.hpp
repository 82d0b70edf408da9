// Capability derivation tree: inserting, moving, deleting and revoking caps in their slots.
#pragma once

#include "kernel/cap.hpp"

namespace kernel {

// The tree's shape: each slot links to its parent, its first child and its siblings.
// Invariants the operations keep:
//   - the children of a cap to anything but an Untyped are caps to the same object;
//   - all caps to one object form a run of adjacent siblings (each with its subtree), so
//     whether a cap is the last one to its object is decided from its neighbours alone;
//   - an Untyped cap with children has a watermark that covers every descendant's memory, and
//     only an Untyped cap without children may reset its watermark to zero.

// Puts `cap` into the empty slot `child` as the first child of `parent` (null: a cap with no
// parent, as the boot caps are).
void cdt_insert(Slot* parent, Slot* child, const Capability& cap);

// Puts `copy`, a copy of the cap in `source` made by derive_cap (cnode.hpp), into the empty
// slot `destination` as a child of `source`. Every path that duplicates a cap goes through
// here (CNode Copy and Mint, IPC cap transfer, the slots kernel objects keep): a copy of an
// Untyped takes over its free memory, so the source's watermark moves to its end and only the
// copy can retype what was left. Without that, both would retype the same memory.
void cdt_insert_copy(Slot* source, Slot* destination, const Capability& copy);

// Moves the cap in `from` to the empty slot `to`, keeping its place in the tree.
void cdt_move(Slot* from, Slot* to);

// True when `slot` holds the only cap to its object.
bool cdt_is_final(const Slot* slot);

// Deletions that finish with one drain. Deleting the last cap to a CNode (or to an object with
// embedded slots) leaves a zombie in its slot and queues it; drain() empties the queued objects'
// slots, which may queue more, then runs their destroy hooks and clears the zombies. The queue
// lives in the zombie caps, so deleting a CNode tree of any depth takes no recursion and no
// memory. Object memory is never reused before the drain ends: only a later Retype reuses it.
class DeletionQueue {
 public:
  DeletionQueue() = default;
  DeletionQueue(const DeletionQueue&) = delete;
  DeletionQueue& operator=(const DeletionQueue&) = delete;
  ~DeletionQueue() { drain(); }

  // Removes the cap in the non-empty `slot`. Its children take its place under its parent.
  void delete_cap(Slot* slot);
  // Deletes every descendant of `slot`, deepest first; the cap in `slot` stays.
  void revoke_children(Slot* slot);
  void drain();

 private:
  void finalise(Slot* slot);
  Slot* zombies_ = nullptr;
};

// One complete deletion or revocation (queue drained before returning). Revoking an Untyped
// cap also resets its watermark: its whole region can be retyped again.
void delete_cap(Slot* slot);
void revoke_cap(Slot* slot);

// Number of descendants of `slot` (for tests and debugging; walks the whole subtree).
size_t cdt_descendant_count(const Slot* slot);

}  // namespace kernel
