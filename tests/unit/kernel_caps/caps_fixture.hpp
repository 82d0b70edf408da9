// SPDX-License-Identifier: MIT
// Test fixture for the capability kernel: a root CNode and an untyped region in host memory,
// invocation helpers that go through invoke_capability as a syscall would, and recording hooks.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "kernel/cap.hpp"
#include "kernel/cap_invocation.hpp"
#include "kernel/cdt.hpp"
#include "kernel/cnode.hpp"
#include "kernel/object_types.hpp"
#include "kernel/untyped.hpp"
#include "sonde/abi/errors.hpp"
#include "sonde/abi/invocations.hpp"
#include "sonde/abi/objects.hpp"
#include "sonde/abi/rights.hpp"

// gtest prints errors by name (found by argument-dependent lookup).
namespace sonde::abi {
inline void PrintTo(Error error, std::ostream* out) { *out << error_name(error); }
}  // namespace sonde::abi

namespace kernel_caps_test {

using kernel::Capability;
using kernel::Slot;
using sonde::abi::Error;
using sonde::abi::Label;
using sonde::abi::ObjectType;
namespace abi = sonde::abi;

// Aligned, zeroed host memory standing in for physical memory behind the direct map.
class AlignedBuffer {
 public:
  explicit AlignedBuffer(uint64_t bits) : size_(uint64_t{1} << bits) {
    memory_ = std::aligned_alloc(size_, size_);
    std::memset(memory_, 0, size_);
  }
  ~AlignedBuffer() { std::free(memory_); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  uintptr_t address() const { return reinterpret_cast<uintptr_t>(memory_); }
  uint64_t size() const { return size_; }

 private:
  uint64_t size_;
  void* memory_;
};

struct HookEvent {
  ObjectType type;
  uintptr_t object;
  uint8_t size_bits;
  bool operator==(const HookEvent& other) const {
    return type == other.type && object == other.object && size_bits == other.size_bits;
  }
};

class CapsTest : public ::testing::Test {
 public:
  // Root CNode: 256 slots behind a 56-bit zero guard, so a cptr is just a slot number at
  // depth 64, as in an seL4 root task.
  static constexpr uint8_t kRootRadix = 8;
  static constexpr uint8_t kRootGuardBits = 56;
  static constexpr uint64_t kDepth = 64;
  static constexpr uint64_t kUntypedBits = 20;  // 1 MiB
  // Slots the fixture fills.
  static constexpr uint64_t kUntypedSlot = 1;
  static constexpr uint64_t kRootSlot = 2;
  static constexpr uint64_t kFirstFree = 8;

  CapsTest() : root_memory_(kRootRadix + abi::kCNodeSlotBits), untyped_memory_(kUntypedBits) {
    root_ = kernel::make_cnode_cap(root_memory_.address(), kRootRadix, 0, kRootGuardBits);
    kernel::cdt_insert(nullptr, &slot(kRootSlot), root_);
    kernel::cdt_insert(
        nullptr, &slot(kUntypedSlot),
        kernel::make_cap(ObjectType::kUntyped, untyped_memory_.address(), kUntypedBits));
    hooks_.context = this;
    hooks_.created = [](void* context, ObjectType type, uintptr_t object, uint8_t bits) {
      static_cast<CapsTest*>(context)->created.push_back({type, object, bits});
    };
    hooks_.destroyed = [](void* context, ObjectType type, uintptr_t object, uint8_t bits) {
      static_cast<CapsTest*>(context)->destroyed.push_back({type, object, bits});
    };
    hooks_.embedded_slots = [](void* context, ObjectType type, uintptr_t object) {
      return static_cast<CapsTest*>(context)->embedded_slots_for(type, object);
    };
    kernel::set_object_hooks(&hooks_);
  }
  ~CapsTest() override { kernel::set_object_hooks(nullptr); }

  // TCBs in these tests embed `tcb_embedded_slots` slots at the start of their memory when
  // the count is non-zero (standing in for a TCB's cspace/vspace root slots).
  kernel::SlotRange embedded_slots_for(ObjectType type, uintptr_t object) {
    if (type != ObjectType::kTcb || tcb_embedded_slots == 0) return {};
    return {reinterpret_cast<Slot*>(object), tcb_embedded_slots};
  }

  Slot& slot(uint64_t index) { return kernel::cnode_slots(root_)[index]; }
  const Capability& root() const { return root_; }
  uintptr_t untyped_base() const { return untyped_memory_.address(); }

  Error invoke(uint64_t cptr, Label label, std::initializer_list<uint64_t> words) {
    std::vector<uint64_t> message(words);
    return kernel::invoke_capability(root_, cptr, {label, message.data(), message.size()});
  }

  // CNode operations on slots of the root CNode (addressed at depth 64).
  Error copy(uint64_t destination, uint64_t source) {
    return invoke(kRootSlot, Label::kCNodeCopy, {destination, kDepth, kRootSlot, source, kDepth});
  }
  Error mint(uint64_t destination, uint64_t source, uint64_t rights, uint64_t data) {
    return invoke(kRootSlot, Label::kCNodeMint,
                  {destination, kDepth, kRootSlot, source, kDepth, rights, data});
  }
  Error move(uint64_t destination, uint64_t source) {
    return invoke(kRootSlot, Label::kCNodeMove, {destination, kDepth, kRootSlot, source, kDepth});
  }
  Error mutate(uint64_t destination, uint64_t source, uint64_t rights, uint64_t data) {
    return invoke(kRootSlot, Label::kCNodeMutate,
                  {destination, kDepth, kRootSlot, source, kDepth, rights, data});
  }
  Error remove(uint64_t index) { return invoke(kRootSlot, Label::kCNodeDelete, {index, kDepth}); }
  Error revoke(uint64_t index) { return invoke(kRootSlot, Label::kCNodeRevoke, {index, kDepth}); }

  // Retype into the root CNode (node depth 0) from the untyped at `untyped`.
  Error retype(ObjectType type, uint64_t size_bits, uint64_t offset, uint64_t count = 1,
               uint64_t untyped = kUntypedSlot) {
    return invoke(untyped, Label::kUntypedRetype,
                  {static_cast<uint64_t>(type), size_bits, kRootSlot, 0, 0, offset, count});
  }

  std::vector<HookEvent> created;
  std::vector<HookEvent> destroyed;
  size_t tcb_embedded_slots = 0;

 private:
  AlignedBuffer root_memory_;
  AlignedBuffer untyped_memory_;
  Capability root_;
  kernel::ObjectHooks hooks_;
};

// Checks every link of the derivation tree reachable from the given slots' CNodes: parent and
// sibling back-links agree, children of non-untyped caps name the same object, and no zombie
// outlived its deletion. Returns the number of non-empty slots seen.
inline size_t check_tree(const std::vector<std::pair<Slot*, size_t>>& cnodes) {
  size_t caps = 0;
  for (auto [slots, count] : cnodes) {
    for (size_t i = 0; i < count; ++i) {
      const Slot& s = slots[i];
      EXPECT_NE(s.type(), kernel::kZombieType) << "zombie left in slot " << i;
      if (s.empty()) {
        EXPECT_EQ(s.parent, nullptr);
        EXPECT_EQ(s.first_child, nullptr);
        continue;
      }
      ++caps;
      if (s.previous_sibling != nullptr) {
        EXPECT_EQ(s.previous_sibling->next_sibling, &s);
        EXPECT_EQ(s.previous_sibling->parent, s.parent);
      } else if (s.parent != nullptr) {
        EXPECT_EQ(s.parent->first_child, &s);
      }
      if (s.next_sibling != nullptr) EXPECT_EQ(s.next_sibling->previous_sibling, &s);
      for (const Slot* child = s.first_child; child != nullptr; child = child->next_sibling) {
        EXPECT_EQ(child->parent, &s);
        if (s.type() != ObjectType::kUntyped) EXPECT_TRUE(kernel::same_object(s.cap, child->cap));
      }
    }
  }
  return caps;
}

}  // namespace kernel_caps_test
