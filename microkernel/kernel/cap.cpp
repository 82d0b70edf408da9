// SPDX-License-Identifier: MIT
// Capability helpers: construction and object identity.
#include "kernel/cap.hpp"

namespace kernel {

Capability make_cap(ObjectType type, uintptr_t object, uint8_t size_bits) {
  Capability cap;
  cap.type = static_cast<uint8_t>(type);
  cap.rights = static_cast<uint8_t>(sonde::abi::kRightsAll);
  cap.size_bits = size_bits;
  cap.object = object;
  return cap;
}

Capability make_cnode_cap(uintptr_t slots, uint8_t radix, uint64_t guard, uint8_t guard_bits) {
  Capability cap = make_cap(ObjectType::kCNode, slots, radix);
  cap.guard_bits = guard_bits;
  cap.data = guard;
  return cap;
}

bool same_object(const Capability& a, const Capability& b) {
  if (a.type == 0 || a.type != b.type || a.object != b.object) return false;
  // An Untyped and a CNode may start at the same address as a smaller object inside them;
  // the size tells such caps apart from caps to the same object.
  return a.size_bits == b.size_bits;
}

}  // namespace kernel
