// SPDX-License-Identifier: MIT
// Kernel object types as Retype sees them: sizes, valid size arguments, and per-type hooks.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/cap.hpp"

namespace kernel {

// log2 bytes an object of `type` occupies for Retype's `size_bits` argument, or an error:
// kInvalidArgument for a type Retype cannot create, kRangeError for a size outside the type's
// range. Fixed-size types ignore `size_bits`.
Error object_size_bits(ObjectType type, uint64_t size_bits, uint64_t& object_bits);

// The value a cap to a new object of `type` keeps in Capability::size_bits.
uint8_t cap_size_bits(ObjectType type, uint64_t size_bits);

// True for types whose memory is zeroed by Retype (every type except Untyped: a child untyped
// is zeroed piecewise when its own objects are created).
bool zeroed_on_retype(ObjectType type);

// Cap slots held inside an object other than a CNode's own array (a TCB's cspace and vspace
// roots, say). Deleting the object's last cap empties them before the destroy hook runs.
struct SlotRange {
  Slot* first = nullptr;
  size_t count = 0;
};

// What the rest of the kernel does when objects appear and disappear. Retype calls `created`
// after zeroing each object; deleting the last cap to an object calls `destroyed` (after its
// slots were emptied) so endpoints can wake waiters, TCBs stop, VSpaces unmap. Untyped and
// zombies get no calls. Every member may be null.
struct ObjectHooks {
  void (*created)(void* context, ObjectType type, uintptr_t object, uint8_t size_bits) = nullptr;
  void (*destroyed)(void* context, ObjectType type, uintptr_t object, uint8_t size_bits) = nullptr;
  SlotRange (*embedded_slots)(void* context, ObjectType type, uintptr_t object) = nullptr;
  void* context = nullptr;
  // Every cap deleted from a slot, last or not, before any destruction (a Frame or PageTable
  // cap's mapping belongs to that one cap and goes with it).
  void (*cap_removed)(void* context, const Capability& cap) = nullptr;
  // Every cap stored in a slot (Retype, Copy, Mint, transfer), and a cap whose rights or badge
  // Mutate changed in place (removed then added, without the removal's side effects).
  void (*cap_added)(void* context, const Capability& cap) = nullptr;
  void (*cap_changed)(void* context, const Capability& before, const Capability& after) = nullptr;
};

// Installs the hooks (the kernel at boot; tests per case). Null restores "no hooks".
void set_object_hooks(const ObjectHooks* hooks);
void notify_object_created(ObjectType type, uintptr_t object, uint8_t size_bits);
void notify_object_destroyed(ObjectType type, uintptr_t object, uint8_t size_bits);
SlotRange embedded_slots(ObjectType type, uintptr_t object);
void notify_cap_removed(const Capability& cap);
void notify_cap_added(const Capability& cap);
void notify_cap_changed(const Capability& before, const Capability& after);

}  // namespace kernel
