// SPDX-License-Identifier: MIT
// Untyped Retype: object sizes, watermark allocation, alignment and exhaustion.
#include "kernel/untyped.hpp"

#include "kernel/cdt.hpp"
#include "kernel/cnode.hpp"
#include "kernel/object_types.hpp"

namespace kernel {

namespace abi = sonde::abi;

namespace {

void zero_memory(uintptr_t address, uint64_t bytes) {
  // Word stores: object sizes are powers of two of at least 16 bytes.
  auto* word = reinterpret_cast<volatile uint64_t*>(address);
  for (uint64_t i = 0; i < bytes / sizeof(uint64_t); ++i) word[i] = 0;
}

}  // namespace

uint64_t untyped_watermark(const Slot& untyped) {
  return untyped.has_children() ? untyped.cap.data : 0;
}

Error decode_untyped_invocation(const Capability& cspace_root, Slot* untyped, abi::Label label,
                                const uint64_t* words, size_t word_count,
                                RetypeOperation& operation) {
  namespace m = abi::untyped_message;
  if (untyped->type() != ObjectType::kUntyped) return Error::kWrongType;
  if (label != abi::Label::kUntypedRetype) return Error::kInvalidLabel;
  if (word_count < m::kLength) return Error::kTruncatedMessage;
  if (!has_rights(untyped->cap, abi::kRightWrite)) return Error::kMissingRight;

  operation = RetypeOperation{};
  operation.untyped = untyped;
  operation.type = static_cast<ObjectType>(words[m::kObjectType]);
  Error error = object_size_bits(operation.type, words[m::kSizeBits], operation.object_bits);
  if (error != Error::kNone) return error;
  operation.cap_size_bits = cap_size_bits(operation.type, words[m::kSizeBits]);
  operation.count = words[m::kCount];
  if (operation.count == 0 || operation.count > abi::kRetypeMaxCount) return Error::kRangeError;

  // Destination: a CNode inside the root argument (depth 0: the root itself).
  Slot* root_slot = nullptr;
  error = lookup_cap_slot(cspace_root, words[m::kRoot], root_slot);
  if (error != Error::kNone) return error;
  if (root_slot->type() != ObjectType::kCNode) return Error::kInvalidRoot;
  const Capability* node = &root_slot->cap;
  if (words[m::kNodeDepth] != 0) {
    Slot* node_slot = nullptr;
    error = resolve_slot(root_slot->cap, words[m::kNodeIndex], words[m::kNodeDepth], node_slot);
    if (error != Error::kNone) return error;
    if (node_slot->type() != ObjectType::kCNode) return Error::kInvalidRoot;
    node = &node_slot->cap;
  }
  if (!has_rights(*node, abi::kRightWrite)) return Error::kMissingRight;
  uint64_t slots = cnode_slot_count(*node);
  uint64_t offset = words[m::kNodeOffset];
  if (offset >= slots || operation.count > slots - offset) return Error::kRangeError;
  operation.destination = &cnode_slots(*node)[offset];
  for (uint64_t i = 0; i < operation.count; ++i) {
    if (!operation.destination[i].empty()) return Error::kSlotOccupied;
  }

  // Memory: naturally aligned objects from the watermark up.
  uint64_t size = untyped_size(untyped->cap);
  uint64_t object_size = uint64_t{1} << operation.object_bits;
  uint64_t start = (untyped_watermark(*untyped) + object_size - 1) & ~(object_size - 1);
  // object_bits <= 47 + 0 and count <= 2^16 keep these sums far from overflow.
  if (operation.object_bits > untyped->cap.size_bits || start > size ||
      operation.count > (size - start) >> operation.object_bits) {
    return Error::kNotEnoughMemory;
  }
  operation.first_offset = start;
  return Error::kNone;
}

void invoke_untyped(const RetypeOperation& operation) {
  Slot* untyped = operation.untyped;
  uint64_t object_size = uint64_t{1} << operation.object_bits;
  for (uint64_t i = 0; i < operation.count; ++i) {
    uintptr_t object = untyped->cap.object + operation.first_offset + i * object_size;
    if (zeroed_on_retype(operation.type)) zero_memory(object, object_size);
    notify_object_created(operation.type, object, operation.cap_size_bits);
    cdt_insert(untyped, &operation.destination[i],
               make_cap(operation.type, object, operation.cap_size_bits));
  }
  untyped->cap.data = operation.first_offset + operation.count * object_size;
}

}  // namespace kernel
