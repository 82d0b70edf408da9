// SPDX-License-Identifier: MIT
// Kernel object types: Retype's size rules and the per-type created/destroyed hooks.
#include "kernel/object_types.hpp"

namespace kernel {

namespace abi = sonde::abi;

namespace {
const ObjectHooks* installed_hooks = nullptr;
}  // namespace

Error object_size_bits(ObjectType type, uint64_t size_bits, uint64_t& object_bits) {
  switch (type) {
    case ObjectType::kUntyped:
      if (size_bits < abi::kUntypedMinBits || size_bits > abi::kUntypedMaxBits) {
        return Error::kRangeError;
      }
      object_bits = size_bits;
      return Error::kNone;
    case ObjectType::kCNode:
      if (size_bits < abi::kCNodeMinRadix || size_bits > abi::kCNodeMaxRadix) {
        return Error::kRangeError;
      }
      object_bits = size_bits + abi::kCNodeSlotBits;
      return Error::kNone;
    case ObjectType::kFrame:
      if (size_bits != abi::kFrameSmallBits && size_bits != abi::kFrameLargeBits &&
          size_bits != abi::kFrameHugeBits) {
        return Error::kRangeError;
      }
      object_bits = size_bits;
      return Error::kNone;
    case ObjectType::kTcb: object_bits = abi::kTcbBits; return Error::kNone;
    case ObjectType::kEndpoint: object_bits = abi::kEndpointBits; return Error::kNone;
    case ObjectType::kNotification: object_bits = abi::kNotificationBits; return Error::kNone;
    case ObjectType::kReply: object_bits = abi::kReplyBits; return Error::kNone;
    case ObjectType::kVSpace: object_bits = abi::kVSpaceBits; return Error::kNone;
    case ObjectType::kBreakpoint: object_bits = abi::kBreakpointBits; return Error::kNone;
    case ObjectType::kPageTable: object_bits = abi::kPageTableBits; return Error::kNone;
    default: return Error::kInvalidArgument;
  }
}

uint8_t cap_size_bits(ObjectType type, uint64_t size_bits) {
  switch (type) {
    case ObjectType::kUntyped:
    case ObjectType::kCNode:
    case ObjectType::kFrame: return static_cast<uint8_t>(size_bits);
    default: return 0;
  }
}

bool zeroed_on_retype(ObjectType type) { return type != ObjectType::kUntyped; }

void set_object_hooks(const ObjectHooks* hooks) { installed_hooks = hooks; }

void notify_object_created(ObjectType type, uintptr_t object, uint8_t size_bits) {
  if (installed_hooks != nullptr && installed_hooks->created != nullptr) {
    installed_hooks->created(installed_hooks->context, type, object, size_bits);
  }
}

void notify_object_destroyed(ObjectType type, uintptr_t object, uint8_t size_bits) {
  if (installed_hooks != nullptr && installed_hooks->destroyed != nullptr) {
    installed_hooks->destroyed(installed_hooks->context, type, object, size_bits);
  }
}

void notify_cap_removed(const Capability& cap) {
  if (installed_hooks != nullptr && installed_hooks->cap_removed != nullptr) {
    installed_hooks->cap_removed(installed_hooks->context, cap);
  }
}

void notify_cap_added(const Capability& cap) {
  if (installed_hooks != nullptr && installed_hooks->cap_added != nullptr) {
    installed_hooks->cap_added(installed_hooks->context, cap);
  }
}

void notify_cap_changed(const Capability& before, const Capability& after) {
  if (installed_hooks != nullptr && installed_hooks->cap_changed != nullptr) {
    installed_hooks->cap_changed(installed_hooks->context, before, after);
  }
}

SlotRange embedded_slots(ObjectType type, uintptr_t object) {
  if (installed_hooks != nullptr && installed_hooks->embedded_slots != nullptr) {
    return installed_hooks->embedded_slots(installed_hooks->context, type, object);
  }
  return {};
}

}  // namespace kernel
