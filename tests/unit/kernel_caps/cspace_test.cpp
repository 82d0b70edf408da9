// SPDX-License-Identifier: MIT
// CSpace addressing: guard and radix decoding, depth rules, and malicious cptrs.
#include "caps_fixture.hpp"

namespace kernel_caps_test {
namespace {

using kernel::lookup_cap_slot;
using kernel::resolve_slot;

// A small hand-built CSpace: `top` (radix 4, no guard) whose slot 3 holds `leaf` (radix 4,
// guard 0x2a in 8 bits). Cptrs at depth 16 pass 4 + 8 + 4 bits.
struct TwoLevelCSpace : ::testing::Test {
  AlignedBuffer top_memory{4 + abi::kCNodeSlotBits};
  AlignedBuffer leaf_memory{4 + abi::kCNodeSlotBits};
  Capability top = kernel::make_cnode_cap(top_memory.address(), 4, 0, 0);
  Slot* top_slots = kernel::cnode_slots(top);
  Slot* leaf_slots = reinterpret_cast<Slot*>(leaf_memory.address());

  TwoLevelCSpace() {
    kernel::cdt_insert(nullptr, &top_slots[3],
                       kernel::make_cnode_cap(leaf_memory.address(), 4, 0x2a, 8));
    kernel::cdt_insert(nullptr, &top_slots[5], kernel::make_cap(ObjectType::kEndpoint, 0x1000, 0));
    kernel::cdt_insert(nullptr, &leaf_slots[9], kernel::make_cap(ObjectType::kEndpoint, 0x2000, 0));
  }
};

TEST_F(TwoLevelCSpace, ResolvesThroughGuardAndRadixMostSignificantFirst) {
  Slot* found = nullptr;
  ASSERT_EQ(resolve_slot(top, 0x3'2a'9, 16, found), Error::kNone);
  EXPECT_EQ(found, &leaf_slots[9]);
  ASSERT_EQ(resolve_slot(top, 0x3, 4, found), Error::kNone);
  EXPECT_EQ(found, &top_slots[3]);  // depth 4 stops at the CNode cap itself
  ASSERT_EQ(resolve_slot(top, 0x5, 4, found), Error::kNone);
  EXPECT_EQ(found, &top_slots[5]);
}

TEST_F(TwoLevelCSpace, GuardMismatchIsReported) {
  Slot* found = nullptr;
  EXPECT_EQ(resolve_slot(top, 0x3'2b'9, 16, found), Error::kGuardMismatch);
  EXPECT_EQ(resolve_slot(top, 0x3'00'9, 16, found), Error::kGuardMismatch);
}

TEST_F(TwoLevelCSpace, DepthMustEndExactlyAtASlot) {
  Slot* found = nullptr;
  EXPECT_EQ(resolve_slot(top, 0, 0, found), Error::kDepthMismatch);
  EXPECT_EQ(resolve_slot(top, 0, 65, found), Error::kDepthMismatch);
  EXPECT_EQ(resolve_slot(top, 0x1, 2, found), Error::kDepthMismatch);      // inside the top level
  EXPECT_EQ(resolve_slot(top, 0x3'2a, 12, found), Error::kDepthMismatch);  // inside the leaf level
  EXPECT_EQ(resolve_slot(top, 0x3'2a'9'1, 20, found),
            Error::kDepthMismatch);                                      // bits left at a non-CNode
  EXPECT_EQ(resolve_slot(top, 0x5'1, 8, found), Error::kDepthMismatch);  // bits left at an endpoint
  EXPECT_EQ(resolve_slot(top, 0x7'1, 8, found),
            Error::kDepthMismatch);  // bits left at an empty slot
}

TEST_F(TwoLevelCSpace, BitsAboveTheDepthAreOutOfRange) {
  Slot* found = nullptr;
  EXPECT_EQ(resolve_slot(top, 0x15, 4, found), Error::kRangeError);
  EXPECT_EQ(resolve_slot(top, uint64_t{1} << 63, 16, found), Error::kRangeError);
}

TEST_F(TwoLevelCSpace, RootMustBeACNode) {
  Slot* found = nullptr;
  EXPECT_EQ(resolve_slot(top_slots[5].cap, 0, 4, found), Error::kInvalidRoot);
  EXPECT_EQ(resolve_slot(Capability{}, 0, 4, found), Error::kInvalidRoot);
  EXPECT_EQ(lookup_cap_slot(Capability{}, 0, found), Error::kInvalidRoot);
}

TEST_F(TwoLevelCSpace, InvokedCapLookupStopsAtTheFirstNonCNode) {
  // At depth 64 the top CNode uses the top 4 bits; slot 5 holds an endpoint, so the remaining
  // 60 bits are not decoded (seL4 semantics), whatever they are.
  Slot* found = nullptr;
  ASSERT_EQ(lookup_cap_slot(top, uint64_t{5} << 60 | 0x1234, found), Error::kNone);
  EXPECT_EQ(found, &top_slots[5]);
  // Through the leaf: 4 + 8 + 4 bits, then the endpoint in leaf slot 9 ends the walk.
  ASSERT_EQ(lookup_cap_slot(top, uint64_t{0x32a9} << 48 | 0xffff, found), Error::kNone);
  EXPECT_EQ(found, &leaf_slots[9]);
  // The leaf's guard is still checked on the way.
  EXPECT_EQ(lookup_cap_slot(top, uint64_t{0x3ff9} << 48, found), Error::kGuardMismatch);
  // An empty slot also ends the walk; invoking it is the caller's kInvalidCapability.
  ASSERT_EQ(lookup_cap_slot(top, uint64_t{7} << 60, found), Error::kNone);
  EXPECT_TRUE(found->empty());
  // The exact resolver refuses the same cptr at depth 64.
  EXPECT_EQ(resolve_slot(top, uint64_t{5} << 60, 64, found), Error::kDepthMismatch);
}

TEST(CSpaceCycles, ACNodeHoldingItselfResolvesInBoundedSteps) {
  // Radix 8, no guard, slot 0 holds a cap to the same CNode: a 64-bit cptr of zeros walks
  // the node 8 times and ends at slot 0 at the eighth level.
  AlignedBuffer memory{8 + abi::kCNodeSlotBits};
  Capability node = kernel::make_cnode_cap(memory.address(), 8, 0, 0);
  Slot* slots = kernel::cnode_slots(node);
  kernel::cdt_insert(nullptr, &slots[0], node);
  Slot* found = nullptr;
  ASSERT_EQ(lookup_cap_slot(node, 0, found), Error::kNone);
  EXPECT_EQ(found, &slots[0]);
  ASSERT_EQ(lookup_cap_slot(node, 0x42, found), Error::kNone);
  EXPECT_EQ(found, &slots[0x42]);  // 7 levels through slot 0, then slot 0x42
  EXPECT_EQ(resolve_slot(node, 0x100, 12, found), Error::kDepthMismatch);
}

TEST(CSpaceGuards, AFullWidthGuardLeavesOnlyTheRadix) {
  // Radix 1 and a 63-bit guard use all 64 bits in one level.
  uint64_t guard = 0x5a5a'5a5a'5a5a'5a5aull >> 1;
  AlignedBuffer memory{1 + abi::kCNodeSlotBits};
  Capability node = kernel::make_cnode_cap(memory.address(), 1, guard, 63);
  Slot* found = nullptr;
  ASSERT_EQ(resolve_slot(node, guard << 1 | 1, 64, found), Error::kNone);
  EXPECT_EQ(found, &kernel::cnode_slots(node)[1]);
  EXPECT_EQ(resolve_slot(node, (guard ^ 1) << 1 | 1, 64, found), Error::kGuardMismatch);
  EXPECT_EQ(resolve_slot(node, (guard ^ (uint64_t{1} << 62)) << 1, 64, found),
            Error::kGuardMismatch);
}

TEST_F(CapsTest, RootTaskStyleCptrsAreSlotNumbersAtDepth64) {
  Slot* found = nullptr;
  ASSERT_EQ(lookup_cap_slot(root(), kUntypedSlot, found), Error::kNone);
  EXPECT_EQ(found, &slot(kUntypedSlot));
  ASSERT_EQ(resolve_slot(root(), 255, 64, found), Error::kNone);
  EXPECT_EQ(found, &slot(255));
  // A slot number past the radix lands in the guard bits.
  EXPECT_EQ(resolve_slot(root(), 256, 64, found), Error::kGuardMismatch);
  EXPECT_EQ(lookup_cap_slot(root(), uint64_t{1} << 40, found), Error::kGuardMismatch);
  // Depth 8 cannot reach past a 64-bit level.
  EXPECT_EQ(resolve_slot(root(), 3, 8, found), Error::kDepthMismatch);
}

}  // namespace
}  // namespace kernel_caps_test
