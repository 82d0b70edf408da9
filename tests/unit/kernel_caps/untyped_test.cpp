// SPDX-License-Identifier: MIT
// Untyped Retype: sizes, alignment, watermark, exhaustion, reset after revoke, and its errors.
#include "caps_fixture.hpp"

namespace kernel_caps_test {
namespace {

struct UntypedTest : CapsTest {
  uintptr_t object_at(uint64_t index) { return slot(index).cap.object; }
  uint64_t watermark() { return slot(kUntypedSlot).cap.data; }
};

TEST_F(UntypedTest, EveryTypeGetsItsSizeAndNaturalAlignment) {
  struct Case {
    ObjectType type;
    uint64_t size_bits;
    uint64_t object_bits;
  };
  const Case cases[] = {
      {ObjectType::kEndpoint, 0, abi::kEndpointBits},
      {ObjectType::kTcb, 0, abi::kTcbBits},
      {ObjectType::kNotification, 0, abi::kNotificationBits},
      {ObjectType::kCNode, 3, 3 + abi::kCNodeSlotBits},
      {ObjectType::kReply, 0, abi::kReplyBits},
      {ObjectType::kVSpace, 0, abi::kVSpaceBits},
      {ObjectType::kBreakpoint, 0, abi::kBreakpointBits},
      {ObjectType::kFrame, 12, 12},
      {ObjectType::kUntyped, 5, 5},
      {ObjectType::kUntyped, 16, 16},
  };
  uint64_t expected_watermark = 0;
  uint64_t index = 20;
  for (const Case& c : cases) {
    uint64_t size = uint64_t{1} << c.object_bits;
    ASSERT_EQ(retype(c.type, c.size_bits, index), Error::kNone) << static_cast<int>(c.type);
    uint64_t offset = (expected_watermark + size - 1) & ~(size - 1);
    EXPECT_EQ(object_at(index), untyped_base() + offset) << static_cast<int>(c.type);
    EXPECT_EQ(object_at(index) % size, 0u);
    EXPECT_EQ(slot(index).type(), c.type);
    EXPECT_EQ(slot(index).cap.rights, abi::kRightsAll);
    EXPECT_EQ(slot(index).parent, &slot(kUntypedSlot));
    expected_watermark = offset + size;
    EXPECT_EQ(watermark(), expected_watermark);
    ASSERT_FALSE(created.empty());
    EXPECT_EQ(created.back().type, c.type);
    EXPECT_EQ(created.back().object, object_at(index));
    ++index;
  }
  EXPECT_EQ(slot(23).cap.size_bits, 3);   // the CNode's radix
  EXPECT_EQ(slot(28).cap.size_bits, 5);   // the untyped's size
  EXPECT_EQ(slot(27).cap.size_bits, 12);  // the frame's size
  EXPECT_EQ(slot(29).cap.size_bits, 16);
}

TEST_F(UntypedTest, ObjectsAreZeroedButChildUntypedIsNot) {
  std::memset(reinterpret_cast<void*>(untyped_base()), 0xa5, 1 << 14);
  ASSERT_EQ(retype(ObjectType::kFrame, 12, 20), Error::kNone);
  ASSERT_EQ(retype(ObjectType::kUntyped, 12, 21), Error::kNone);
  auto* frame = reinterpret_cast<const uint8_t*>(object_at(20));
  auto* child = reinterpret_cast<const uint8_t*>(object_at(21));
  EXPECT_TRUE(std::all_of(frame, frame + 4096, [](uint8_t b) { return b == 0; }));
  EXPECT_TRUE(std::all_of(child, child + 4096, [](uint8_t b) { return b == 0xa5; }));
  // The CNode made from the child untyped is zeroed: all slots empty.
  ASSERT_EQ(retype(ObjectType::kCNode, 6, 22, 1, 21), Error::kNone);
  Slot* slots = kernel::cnode_slots(slot(22).cap);
  for (int i = 0; i < 64; ++i) EXPECT_TRUE(slots[i].empty());
  EXPECT_EQ(slot(22).parent, &slot(21));
}

TEST_F(UntypedTest, ManyObjectsFillConsecutiveSlotsAndAddresses) {
  ASSERT_EQ(retype(ObjectType::kEndpoint, 0, 30, 16), Error::kNone);
  for (uint64_t i = 0; i < 16; ++i) {
    EXPECT_EQ(object_at(30 + i), untyped_base() + i * (1u << abi::kEndpointBits)) << i;
  }
  EXPECT_EQ(created.size(), 16u);
  EXPECT_EQ(watermark(), 16u << abi::kEndpointBits);
}

TEST_F(UntypedTest, ExhaustionIsNotEnoughMemory) {
  // A 4 KiB child untyped: one frame fits, then nothing more.
  ASSERT_EQ(retype(ObjectType::kUntyped, 12, 20), Error::kNone);
  EXPECT_EQ(retype(ObjectType::kFrame, 21, 21, 1, 20), Error::kNotEnoughMemory);  // too big
  ASSERT_EQ(retype(ObjectType::kEndpoint, 0, 21, 1, 20), Error::kNone);
  EXPECT_EQ(retype(ObjectType::kFrame, 12, 22, 1, 20), Error::kNotEnoughMemory);  // after alignment
  // 63 notifications of 64 bytes from offset 64 (the endpoint's 32 bytes, then 32 lost to
  // alignment) fill the rest.
  ASSERT_EQ(retype(ObjectType::kNotification, 0, 22, 63, 20), Error::kNone);
  EXPECT_EQ(slot(22).cap.object, slot(20).cap.object + 64);
  EXPECT_EQ(retype(ObjectType::kEndpoint, 0, 150, 1, 20), Error::kNotEnoughMemory);
  EXPECT_EQ(slot(20).cap.data, 4096u);
  // Counting past the end of the region in one call fails without creating anything.
  size_t before = created.size();
  EXPECT_EQ(retype(ObjectType::kUntyped, 19, 150, 2),
            Error::kNotEnoughMemory);  // 1 MiB; 4 KiB used
  EXPECT_EQ(created.size(), before);
  EXPECT_TRUE(slot(150).empty());
}

TEST_F(UntypedTest, ArgumentErrors) {
  EXPECT_EQ(retype(ObjectType::kNull, 0, 20), Error::kInvalidArgument);
  EXPECT_EQ(retype(ObjectType::kCount, 0, 20), Error::kInvalidArgument);
  EXPECT_EQ(retype(static_cast<ObjectType>(0xff), 0, 20), Error::kInvalidArgument);  // zombie
  EXPECT_EQ(retype(static_cast<ObjectType>(~uint64_t{0}), 0, 20), Error::kInvalidArgument);
  EXPECT_EQ(retype(ObjectType::kCNode, 0, 20), Error::kRangeError);
  EXPECT_EQ(retype(ObjectType::kCNode, abi::kCNodeMaxRadix + 1, 20), Error::kRangeError);
  EXPECT_EQ(retype(ObjectType::kUntyped, abi::kUntypedMinBits - 1, 20), Error::kRangeError);
  EXPECT_EQ(retype(ObjectType::kUntyped, abi::kUntypedMaxBits + 1, 20), Error::kRangeError);
  EXPECT_EQ(retype(ObjectType::kFrame, 13, 20), Error::kRangeError);
  EXPECT_EQ(retype(ObjectType::kEndpoint, 0, 20, 0), Error::kRangeError);
  EXPECT_EQ(retype(ObjectType::kEndpoint, 0, 20, abi::kRetypeMaxCount + 1), Error::kRangeError);
  EXPECT_EQ(retype(ObjectType::kEndpoint, 0, 256), Error::kRangeError);     // offset past the end
  EXPECT_EQ(retype(ObjectType::kEndpoint, 0, 250, 7), Error::kRangeError);  // range past the end
  EXPECT_EQ(retype(ObjectType::kEndpoint, 0, 1, ~uint64_t{0}), Error::kRangeError);
  EXPECT_EQ(retype(ObjectType::kEndpoint, 0, ~uint64_t{0}, 2), Error::kRangeError);  // offset wraps
  EXPECT_EQ(invoke(kUntypedSlot, Label::kUntypedRetype,
                   {static_cast<uint64_t>(ObjectType::kEndpoint), 0, kRootSlot, 0, 0, 20}),
            Error::kTruncatedMessage);
  EXPECT_TRUE(created.empty());
  EXPECT_EQ(watermark(), 0u);
}

TEST_F(UntypedTest, DestinationErrors) {
  ASSERT_EQ(retype(ObjectType::kEndpoint, 0, 20), Error::kNone);
  // An occupied slot anywhere in the range: nothing is created.
  size_t before = created.size();
  EXPECT_EQ(retype(ObjectType::kEndpoint, 0, 18, 4), Error::kSlotOccupied);
  EXPECT_EQ(created.size(), before);
  EXPECT_TRUE(slot(18).empty());
  // The root argument must name a CNode cap; so must the node inside it.
  auto with_root = [&](uint64_t root, uint64_t node_index, uint64_t node_depth) {
    return invoke(
        kUntypedSlot, Label::kUntypedRetype,
        {static_cast<uint64_t>(ObjectType::kEndpoint), 0, root, node_index, node_depth, 0, 1});
  };
  EXPECT_EQ(with_root(20, 0, 0), Error::kInvalidRoot);
  EXPECT_EQ(with_root(99, 0, 0), Error::kInvalidRoot);
  EXPECT_EQ(with_root(kRootSlot, 20, kDepth), Error::kInvalidRoot);
  EXPECT_EQ(with_root(kRootSlot, 99, kDepth), Error::kInvalidRoot);
  EXPECT_EQ(with_root(kRootSlot, 20, 8), Error::kDepthMismatch);
  EXPECT_EQ(with_root(kRootSlot, 1 << 20, kDepth), Error::kGuardMismatch);
  // A node inside the root: a fresh CNode in slot 30, filled through node_index/node_depth.
  ASSERT_EQ(retype(ObjectType::kCNode, 2, 30), Error::kNone);
  ASSERT_EQ(with_root(kRootSlot, 30, kDepth), Error::kNone);
  EXPECT_EQ(kernel::cnode_slots(slot(30).cap)[0].type(), ObjectType::kEndpoint);
  EXPECT_EQ(invoke(kUntypedSlot, Label::kUntypedRetype,
                   {static_cast<uint64_t>(ObjectType::kEndpoint), 0, kRootSlot, 30, kDepth, 3, 2}),
            Error::kRangeError);
}

TEST_F(UntypedTest, RightsAreChecked) {
  // A read-only copy of the untyped cannot retype; a CNode cap without Write cannot receive.
  ASSERT_EQ(mint(20, kUntypedSlot, abi::kRightRead, 0), Error::kNone);
  EXPECT_EQ(retype(ObjectType::kEndpoint, 0, 30, 1, 20), Error::kMissingRight);
  ASSERT_EQ(remove(20), Error::kNone);
  ASSERT_EQ(mint(21, kRootSlot, abi::kRightRead, abi::cnode_guard_data(0, 56)), Error::kNone);
  EXPECT_EQ(invoke(kUntypedSlot, Label::kUntypedRetype,
                   {static_cast<uint64_t>(ObjectType::kEndpoint), 0, 21, 0, 0, 30, 1}),
            Error::kMissingRight);
  ASSERT_EQ(retype(ObjectType::kCNode, 2, 22), Error::kNone);
  ASSERT_EQ(mint(23, 22, abi::kRightRead, 0), Error::kNone);
  EXPECT_EQ(invoke(kUntypedSlot, Label::kUntypedRetype,
                   {static_cast<uint64_t>(ObjectType::kEndpoint), 0, kRootSlot, 23, kDepth, 0, 1}),
            Error::kMissingRight);
  EXPECT_TRUE(slot(30).empty());
}

TEST_F(UntypedTest, RevokeResetsTheUntypedForAFreshRetype) {
  ASSERT_EQ(retype(ObjectType::kFrame, 12, 20, 200), Error::kNone);
  ASSERT_EQ(copy(220, 20), Error::kNone);
  EXPECT_EQ(retype(ObjectType::kUntyped, 18, 221), Error::kNotEnoughMemory);  // 800 KiB used
  ASSERT_EQ(revoke(kUntypedSlot), Error::kNone);
  EXPECT_EQ(watermark(), 0u);
  for (uint64_t i = 20; i < 221; ++i) ASSERT_TRUE(slot(i).empty()) << i;
  EXPECT_EQ(destroyed.size(), 200u);  // each frame once, when its last cap went
  ASSERT_EQ(retype(ObjectType::kUntyped, kUntypedBits, 20), Error::kNone);  // all 1 MiB again
  EXPECT_EQ(object_at(20), untyped_base());
  EXPECT_EQ(watermark(), uint64_t{1} << kUntypedBits);
}

TEST_F(UntypedTest, DeletingEveryChildAlsoFreesTheRegion) {
  ASSERT_EQ(retype(ObjectType::kEndpoint, 0, 20, 2), Error::kNone);
  ASSERT_EQ(remove(20), Error::kNone);
  ASSERT_EQ(retype(ObjectType::kEndpoint, 0, 22), Error::kNone);  // a child remains: no reuse
  EXPECT_EQ(object_at(22), untyped_base() + 2 * (1u << abi::kEndpointBits));
  ASSERT_EQ(remove(21), Error::kNone);
  ASSERT_EQ(remove(22), Error::kNone);
  ASSERT_EQ(retype(ObjectType::kEndpoint, 0, 23), Error::kNone);  // no children: from zero
  EXPECT_EQ(object_at(23), untyped_base());
}

TEST_F(UntypedTest, RevokingAParentUntypedReachesGrandchildren) {
  ASSERT_EQ(retype(ObjectType::kUntyped, 16, 20), Error::kNone);
  ASSERT_EQ(retype(ObjectType::kEndpoint, 0, 21, 4, 20), Error::kNone);
  ASSERT_EQ(copy(25, 21), Error::kNone);
  // Deleting the child untyped hands its children to the parent; they are still reachable.
  ASSERT_EQ(remove(20), Error::kNone);
  EXPECT_EQ(slot(21).parent, &slot(kUntypedSlot));
  EXPECT_EQ(retype(ObjectType::kUntyped, kUntypedBits, 30), Error::kNotEnoughMemory);
  ASSERT_EQ(revoke(kUntypedSlot), Error::kNone);
  for (uint64_t i = 21; i < 26; ++i) EXPECT_TRUE(slot(i).empty()) << i;
  EXPECT_EQ(destroyed.size(), 4u);
  ASSERT_EQ(retype(ObjectType::kUntyped, kUntypedBits, 30), Error::kNone);
}

TEST_F(UntypedTest, CopyingAnUntypedHandsOverItsFreeMemory) {
  ASSERT_EQ(copy(20, kUntypedSlot), Error::kNone);
  EXPECT_EQ(watermark(), uint64_t{1} << kUntypedBits);  // the original can make nothing now
  EXPECT_EQ(slot(20).cap.data, 0u);
  ASSERT_EQ(retype(ObjectType::kEndpoint, 0, 30, 1, 20), Error::kNone);
  EXPECT_EQ(object_at(30), untyped_base());
  EXPECT_EQ(retype(ObjectType::kEndpoint, 0, 31), Error::kNotEnoughMemory);
  // A copy with children cannot be copied again (two caps would hand out the same bytes).
  EXPECT_EQ(copy(21, 20), Error::kRevokeFirst);
  EXPECT_EQ(mint(21, 20, abi::kRightsAll, 0), Error::kRevokeFirst);
  EXPECT_EQ(copy(21, kUntypedSlot), Error::kRevokeFirst);
  // Mutate moves, so it is allowed.
  ASSERT_EQ(mutate(21, 20, abi::kRightsAll, 0), Error::kNone);
  EXPECT_EQ(slot(30).parent, &slot(21));
  // With the copy and its objects gone, the original starts over from zero.
  ASSERT_EQ(revoke(21), Error::kNone);
  ASSERT_EQ(remove(21), Error::kNone);
  ASSERT_EQ(retype(ObjectType::kEndpoint, 0, 31), Error::kNone);
  EXPECT_EQ(object_at(31), untyped_base());
}

// IPC cap transfer copies as CNode Copy does (derive_cap, then cdt_insert_copy): the sender's
// untyped must be used up too, or both caps retype the same memory (two Frames over one page,
// a user Frame over a TCB).
TEST_F(UntypedTest, ACopyMadeOutsideCNodeCopyAlsoHandsOverTheFreeMemory) {
  Capability derived;
  ASSERT_EQ(kernel::derive_cap(slot(kUntypedSlot), false, abi::kRightsAll, 0, true, derived),
            Error::kNone);
  kernel::cdt_insert_copy(&slot(kUntypedSlot), &slot(20), derived);
  EXPECT_EQ(watermark(), uint64_t{1} << kUntypedBits);
  EXPECT_EQ(retype(ObjectType::kFrame, 12, 30), Error::kNotEnoughMemory);
  ASSERT_EQ(retype(ObjectType::kFrame, 12, 30, 1, 20), Error::kNone);
  EXPECT_EQ(object_at(30), untyped_base());
}

TEST_F(UntypedTest, DeletingACopyWithChildrenKeepsTheirMemoryReserved) {
  ASSERT_EQ(copy(20, kUntypedSlot), Error::kNone);
  ASSERT_EQ(retype(ObjectType::kFrame, 12, 30, 1, 20), Error::kNone);
  ASSERT_EQ(remove(20), Error::kNone);  // the frame's cap moves up under the original
  EXPECT_EQ(slot(30).parent, &slot(kUntypedSlot));
  EXPECT_EQ(retype(ObjectType::kFrame, 12, 31), Error::kNotEnoughMemory);
  ASSERT_EQ(remove(30), Error::kNone);
  ASSERT_EQ(retype(ObjectType::kFrame, 12, 31), Error::kNone);
  EXPECT_EQ(object_at(31), untyped_base());
}

// Random Copy/Mint/Move/Delete/Revoke/Retype sequences never leave two live objects
// overlapping, never leave a zombie, and keep every tree link consistent.
TEST_F(UntypedTest, RandomOperationsNeverOverlapObjects) {
  ASSERT_EQ(retype(ObjectType::kUntyped, 16, 10), Error::kNone);
  ASSERT_EQ(retype(ObjectType::kUntyped, 14, 11), Error::kNone);
  unsigned seed = 2024;
  auto next = [&](unsigned bound) {
    seed = seed * 1664525 + 1013904223;
    return (seed >> 8) % bound;
  };
  const ObjectType types[] = {ObjectType::kEndpoint, ObjectType::kFrame, ObjectType::kTcb,
                              ObjectType::kUntyped, ObjectType::kNotification};
  for (int step = 0; step < 3000; ++step) {
    uint64_t a = 8 + next(60);
    uint64_t b = 8 + next(60);
    switch (next(7)) {
      case 0:
      case 1: {
        ObjectType type = types[next(5)];
        uint64_t bits = type == ObjectType::kFrame     ? 12
                        : type == ObjectType::kUntyped ? 8 + next(6)
                                                       : 0;
        (void)retype(type, bits, b, 1 + next(3), slot(a).type() == ObjectType::kUntyped ? a : 1);
        break;
      }
      case 2: (void)copy(b, a); break;
      case 3: (void)mint(b, a, next(16), 0); break;
      case 4: (void)move(b, a); break;
      case 5:
        if (a > 11) (void)remove(a);
        break;
      case 6: (void)revoke(a); break;
    }
    if (step % 50 != 0) continue;
    check_tree({{&slot(0), 256}});
    // Distinct objects (not untyped) must not overlap; untyped regions nest or are disjoint.
    std::map<uintptr_t, std::pair<uint64_t, ObjectType>> objects;
    for (uint64_t i = 8; i < 68; ++i) {
      const Slot& s = slot(i);
      if (s.empty() || s.type() == ObjectType::kUntyped) continue;
      uint64_t bits = 0;
      ASSERT_EQ(kernel::object_size_bits(s.type(), s.cap.size_bits, bits), Error::kNone);
      auto [it, inserted] = objects.insert({s.cap.object, {uint64_t{1} << bits, s.type()}});
      if (!inserted) ASSERT_EQ(it->second.second, s.type()) << "two types at one address";
      ASSERT_GE(s.cap.object, untyped_base());
      ASSERT_LE(s.cap.object + (uint64_t{1} << bits),
                untyped_base() + (uint64_t{1} << kUntypedBits));
    }
    uintptr_t end = 0;
    for (auto& [start, info] : objects) {
      ASSERT_GE(start, end) << "overlap at step " << step;
      end = start + info.first;
    }
  }
}

}  // namespace
}  // namespace kernel_caps_test
