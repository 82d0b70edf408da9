// Capability derivation tree: links, finality, deletion through zombies, and revocation.
#include "kernel/cdt.hpp"

#include "kernel/object_types.hpp"

namespace kernel {

namespace {

void clear_links(Slot* slot) {
  slot->parent = nullptr;
  slot->first_child = nullptr;
  slot->previous_sibling = nullptr;
  slot->next_sibling = nullptr;
}

// Takes `slot` out of the tree; its children (if any) take its place, in order, under its
// parent. Linear in the number of direct children (their parent links change).
void unlink(Slot* slot) {
  Slot* parent = slot->parent;
  Slot* before = slot->previous_sibling;
  Slot* after = slot->next_sibling;
  Slot* first = slot->first_child;
  Slot* last = first;
  if (first != nullptr) {
    for (Slot* child = first; child != nullptr; child = child->next_sibling) {
      child->parent = parent;
      last = child;
    }
    first->previous_sibling = before;
    last->next_sibling = after;
  } else {
    first = after;
    last = before;
  }
  if (before != nullptr) {
    before->next_sibling = first;
  } else if (parent != nullptr) {
    parent->first_child = first;
  }
  if (after != nullptr) after->previous_sibling = last;
  clear_links(slot);
}

}  // namespace

void cdt_insert(Slot* parent, Slot* child, const Capability& cap) {
  child->cap = cap;
  clear_links(child);
  notify_cap_added(cap);
  if (parent == nullptr) return;
  child->parent = parent;
  child->next_sibling = parent->first_child;
  if (parent->first_child != nullptr) parent->first_child->previous_sibling = child;
  parent->first_child = child;
}

void cdt_insert_copy(Slot* source, Slot* destination, const Capability& copy) {
  cdt_insert(source, destination, copy);
  if (source->type() == ObjectType::kUntyped) source->cap.data = untyped_size(source->cap);
}

void cdt_move(Slot* from, Slot* to) {
  *to = *from;
  if (to->previous_sibling != nullptr) {
    to->previous_sibling->next_sibling = to;
  } else if (to->parent != nullptr) {
    to->parent->first_child = to;
  }
  if (to->next_sibling != nullptr) to->next_sibling->previous_sibling = to;
  for (Slot* child = to->first_child; child != nullptr; child = child->next_sibling) {
    child->parent = to;
  }
  from->cap = Capability{};
  clear_links(from);
}

bool cdt_is_final(const Slot* slot) {
  const Capability& cap = slot->cap;
  if (slot->type() != ObjectType::kUntyped && slot->first_child != nullptr) return false;
  if (slot->parent != nullptr && same_object(slot->parent->cap, cap)) return false;
  if (slot->previous_sibling != nullptr && same_object(slot->previous_sibling->cap, cap)) {
    return false;
  }
  if (slot->next_sibling != nullptr && same_object(slot->next_sibling->cap, cap)) return false;
  return true;
}

void DeletionQueue::delete_cap(Slot* slot) {
  notify_cap_removed(slot->cap);
  bool final = cdt_is_final(slot);
  unlink(slot);
  if (final) {
    finalise(slot);
  } else {
    slot->cap = Capability{};
  }
}

// `slot` held the last cap to its object and is out of the tree.
void DeletionQueue::finalise(Slot* slot) {
  Capability cap = slot->cap;
  ObjectType type = slot->type();
  bool has_slots = type == ObjectType::kCNode || embedded_slots(type, cap.object).count != 0;
  if (type == ObjectType::kUntyped || !has_slots) {
    slot->cap = Capability{};
    if (type != ObjectType::kUntyped) notify_object_destroyed(type, cap.object, cap.size_bits);
    return;
  }
  slot->cap.type = static_cast<uint8_t>(kZombieType);
  slot->cap.reserved = static_cast<uint32_t>(type);
  slot->cap.data = reinterpret_cast<uintptr_t>(zombies_);
  zombies_ = slot;
}

void DeletionQueue::drain() {
  while (zombies_ != nullptr) {
    Slot* zombie = zombies_;
    zombies_ = reinterpret_cast<Slot*>(zombie->cap.data);
    auto type = static_cast<ObjectType>(zombie->cap.reserved);
    uintptr_t object = zombie->cap.object;
    uint8_t size_bits = zombie->cap.size_bits;
    SlotRange slots = type == ObjectType::kCNode
                          ? SlotRange{cnode_slots(zombie->cap), cnode_slot_count(zombie->cap)}
                          : embedded_slots(type, object);
    for (size_t i = 0; i < slots.count; ++i) {
      Slot* inner = &slots.first[i];
      // A zombie inside is its own queue entry (maybe this very one): it clears itself.
      if (inner->empty() || inner->type() == kZombieType) continue;
      delete_cap(inner);
    }
    notify_object_destroyed(type, object, size_bits);
    zombie->cap = Capability{};
  }
}

// GAP: not preemptible (nor is drain): one Revoke of a huge tree runs to the end. The loops
// keep all their state in the tree and the zombie queue, so preemption points can go here.
void DeletionQueue::revoke_children(Slot* root) {
  Slot* slot = root->first_child;
  while (slot != nullptr) {
    while (slot->first_child != nullptr) slot = slot->first_child;
    Slot* parent = slot->parent;  // never null: slot descends from root
    delete_cap(slot);             // a leaf: nothing moves up
    slot = parent == root ? root->first_child : parent;
  }
}

void delete_cap(Slot* slot) {
  DeletionQueue queue;
  queue.delete_cap(slot);
  queue.drain();
}

void revoke_cap(Slot* slot) {
  Capability before = slot->cap;
  {
    DeletionQueue queue;
    queue.revoke_children(slot);
    queue.drain();
  }
  // The drain may have emptied this very slot (an untyped whose cap lived in a CNode made
  // from it); only a surviving, childless untyped is reset.
  if (slot->type() == ObjectType::kUntyped && same_object(slot->cap, before) &&
      !slot->has_children()) {
    slot->cap.data = 0;
  }
}

size_t cdt_descendant_count(const Slot* root) {
  size_t count = 0;
  const Slot* slot = root->first_child;
  while (slot != nullptr) {
    ++count;
    if (slot->first_child != nullptr) {
      slot = slot->first_child;
      continue;
    }
    while (slot != root && slot->next_sibling == nullptr) slot = slot->parent;
    if (slot == root) break;
    slot = slot->next_sibling;
  }
  return count;
}

}  // namespace kernel
