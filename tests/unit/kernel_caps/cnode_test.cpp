// SPDX-License-Identifier: MIT
// CNode invocations: Copy, Mint, Move, Mutate, Delete, Revoke and each of their errors.
#include "caps_fixture.hpp"

namespace kernel_caps_test {
namespace {

constexpr uint64_t kAll = abi::kRightsAll;
constexpr uint64_t kRead = abi::kRightRead;
constexpr uint64_t kWrite = abi::kRightWrite;
constexpr uint64_t kGrant = abi::kRightGrant;

struct CNodeTest : CapsTest {
  // An endpoint in slot 10 and a TCB in slot 11, made from the untyped.
  CNodeTest() {
    EXPECT_EQ(retype(ObjectType::kEndpoint, 0, 10), Error::kNone);
    EXPECT_EQ(retype(ObjectType::kTcb, 0, 11), Error::kNone);
  }
  size_t tree_caps() { return check_tree({{&slot(0), 256}}); }
};

TEST_F(CNodeTest, CopyDuplicatesTheCapAsAChild) {
  ASSERT_EQ(copy(20, 10), Error::kNone);
  EXPECT_EQ(slot(20).type(), ObjectType::kEndpoint);
  EXPECT_EQ(slot(20).cap.object, slot(10).cap.object);
  EXPECT_EQ(slot(20).cap.rights, kAll);
  EXPECT_EQ(slot(20).parent, &slot(10));
  EXPECT_EQ(slot(10).first_child, &slot(20));
  EXPECT_EQ(tree_caps(), 5u);
}

TEST_F(CNodeTest, CopyErrors) {
  ASSERT_EQ(copy(20, 10), Error::kNone);
  EXPECT_EQ(copy(20, 11), Error::kSlotOccupied);
  EXPECT_EQ(copy(10, 10), Error::kSlotOccupied);
  EXPECT_EQ(copy(21, 30), Error::kSlotEmpty);
  EXPECT_EQ(copy(300, 10), Error::kGuardMismatch);  // past the radix: lands in the guard
  EXPECT_EQ(invoke(kRootSlot, Label::kCNodeCopy, {21, 8, kRootSlot, 10, kDepth}),
            Error::kDepthMismatch);
  EXPECT_EQ(invoke(kRootSlot, Label::kCNodeCopy, {21, 0, kRootSlot, 10, kDepth}),
            Error::kDepthMismatch);
  EXPECT_EQ(invoke(kRootSlot, Label::kCNodeCopy, {21, kDepth, kRootSlot, 10, 65}),
            Error::kDepthMismatch);
  EXPECT_EQ(invoke(kRootSlot, Label::kCNodeCopy, {21, kDepth, kRootSlot, 10}),
            Error::kTruncatedMessage);
  // The source root must be a CNode cap.
  EXPECT_EQ(invoke(kRootSlot, Label::kCNodeCopy, {21, kDepth, 10, 10, kDepth}),
            Error::kInvalidRoot);
  EXPECT_EQ(invoke(kRootSlot, Label::kCNodeCopy, {21, kDepth, 99, 10, kDepth}),
            Error::kInvalidRoot);
  EXPECT_TRUE(slot(21).empty());
}

TEST_F(CNodeTest, CNodeCapsNeedWriteToChangeSlotsAndReadToGiveCaps) {
  ASSERT_EQ(mint(30, kRootSlot, kRead, abi::cnode_guard_data(0, 56)), Error::kNone);
  ASSERT_EQ(mint(31, kRootSlot, kWrite, abi::cnode_guard_data(0, 56)), Error::kNone);
  // Invoked (destination) CNode without Write.
  EXPECT_EQ(invoke(30, Label::kCNodeCopy, {20, kDepth, kRootSlot, 10, kDepth}),
            Error::kMissingRight);
  EXPECT_EQ(invoke(30, Label::kCNodeDelete, {10, kDepth}), Error::kMissingRight);
  EXPECT_EQ(invoke(30, Label::kCNodeRevoke, {10, kDepth}), Error::kMissingRight);
  // Source root without Read.
  EXPECT_EQ(invoke(kRootSlot, Label::kCNodeCopy, {20, kDepth, 31, 10, kDepth}),
            Error::kMissingRight);
  // Move and Mutate take the cap away: the source root needs Write as well.
  EXPECT_EQ(invoke(kRootSlot, Label::kCNodeMove, {20, kDepth, 30, 10, kDepth}),
            Error::kMissingRight);
  EXPECT_EQ(invoke(kRootSlot, Label::kCNodeMutate, {20, kDepth, 30, 10, kDepth, kAll, 0}),
            Error::kMissingRight);
  // With the right ones it works.
  EXPECT_EQ(invoke(31, Label::kCNodeCopy, {20, kDepth, 30, 10, kDepth}), Error::kNone);
  EXPECT_EQ(slot(20).type(), ObjectType::kEndpoint);
}

TEST_F(CNodeTest, MintReducesRightsAndNeverAddsThem) {
  ASSERT_EQ(mint(20, 10, kRead | kGrant, 0), Error::kNone);
  EXPECT_EQ(slot(20).cap.rights, kRead | kGrant);
  ASSERT_EQ(mint(21, 20, kAll, 0), Error::kNone);
  EXPECT_EQ(slot(21).cap.rights, kRead | kGrant);
  ASSERT_EQ(mint(22, 21, kWrite, 0), Error::kNone);
  EXPECT_EQ(slot(22).cap.rights, 0u);
  EXPECT_EQ(slot(21).parent, &slot(20));
  EXPECT_EQ(mint(23, 10, uint64_t{1} << 4, 0), Error::kInvalidArgument);
  EXPECT_EQ(invoke(kRootSlot, Label::kCNodeMint, {23, kDepth, kRootSlot, 10, kDepth, kAll}),
            Error::kTruncatedMessage);
}

TEST_F(CNodeTest, EndpointsAndNotificationsAreBadgedOnce) {
  ASSERT_EQ(mint(20, 10, kAll, 0x77), Error::kNone);
  EXPECT_EQ(slot(20).cap.data, 0x77u);
  EXPECT_EQ(mint(21, 20, kAll, 0x78), Error::kAlreadyBadged);
  ASSERT_EQ(mint(21, 20, kRead, 0), Error::kNone);  // badge 0 keeps the badge
  EXPECT_EQ(slot(21).cap.data, 0x77u);
  ASSERT_EQ(copy(22, 20), Error::kNone);
  EXPECT_EQ(slot(22).cap.data, 0x77u);
  ASSERT_EQ(retype(ObjectType::kNotification, 0, 12), Error::kNone);
  ASSERT_EQ(mint(23, 12, kAll, 5), Error::kNone);
  EXPECT_EQ(mint(24, 23, kAll, 6), Error::kAlreadyBadged);
  EXPECT_EQ(mutate(24, 23, kAll, 6), Error::kAlreadyBadged);
}

TEST_F(CNodeTest, DataOnTypesWithoutBadgesIsRejected) {
  EXPECT_EQ(mint(20, 11, kAll, 1), Error::kInvalidArgument);
  ASSERT_EQ(retype(ObjectType::kUntyped, 12, 12), Error::kNone);
  EXPECT_EQ(mint(20, 12, kAll, 1), Error::kInvalidArgument);
  EXPECT_EQ(mint(20, kUntypedSlot, kAll, 1), Error::kRevokeFirst);  // checked first
  EXPECT_EQ(mutate(20, 11, kAll, 1), Error::kInvalidArgument);
  EXPECT_TRUE(slot(20).empty());
  EXPECT_FALSE(slot(11).empty());
}

TEST_F(CNodeTest, MintSetsACNodeGuard) {
  // A radix-4 CNode in slot 40, then a cap to it with an 8-bit guard 0xab.
  ASSERT_EQ(retype(ObjectType::kCNode, 4, 40), Error::kNone);
  ASSERT_EQ(mint(41, 40, kAll, abi::cnode_guard_data(0xab, 8)), Error::kNone);
  EXPECT_EQ(slot(41).cap.guard_bits, 8);
  EXPECT_EQ(slot(41).cap.data, 0xabu);
  Slot* found = nullptr;
  ASSERT_EQ(kernel::resolve_slot(slot(41).cap, 0xab'3, 12, found), Error::kNone);
  EXPECT_EQ(found, &kernel::cnode_slots(slot(40).cap)[3]);
  EXPECT_EQ(kernel::resolve_slot(slot(40).cap, 0xab'3, 12, found), Error::kDepthMismatch);
  // Guard plus radix may not exceed 64 bits; the value must fit the width.
  EXPECT_EQ(mint(42, 40, kAll, abi::cnode_guard_data(0, 61)), Error::kRangeError);
  EXPECT_EQ(mint(42, 40, kAll, abi::cnode_guard_data(0x100, 8)), Error::kInvalidArgument);
  ASSERT_EQ(mint(42, 40, kAll, abi::cnode_guard_data(0, 60)), Error::kNone);
}

TEST_F(CNodeTest, ACNodeCapIsADestinationRootWithItsOwnGuard) {
  // A radix-4 CNode; a second cap to it carries the 8-bit guard 0x5. Invoked at depth 64 from
  // the root (one 64-bit level), either cap is a destination root: slot 7 is index 7 at
  // depth 4 through the plain cap and index 0x57 at depth 12 through the guarded one.
  ASSERT_EQ(retype(ObjectType::kCNode, 4, 40), Error::kNone);
  ASSERT_EQ(mint(41, 40, kAll, abi::cnode_guard_data(0x5, 8)), Error::kNone);
  ASSERT_EQ(invoke(41, Label::kCNodeCopy, {0x57, 12, kRootSlot, 10, kDepth}), Error::kNone);
  Slot* node = kernel::cnode_slots(slot(40).cap);
  EXPECT_EQ(node[7].type(), ObjectType::kEndpoint);
  EXPECT_EQ(invoke(40, Label::kCNodeCopy, {7, 4, kRootSlot, 10, kDepth}), Error::kSlotOccupied);
  EXPECT_EQ(invoke(41, Label::kCNodeCopy, {0x67, 12, kRootSlot, 10, kDepth}),
            Error::kGuardMismatch);
  EXPECT_EQ(invoke(41, Label::kCNodeCopy, {7, 4, kRootSlot, 10, kDepth}), Error::kDepthMismatch);
  // And a source root: take the copy back out through the guarded cap.
  ASSERT_EQ(invoke(kRootSlot, Label::kCNodeMove, {20, kDepth, 41, 0x57, 12}), Error::kNone);
  EXPECT_TRUE(node[7].empty());
  EXPECT_EQ(slot(20).parent, &slot(10));
}

TEST_F(CNodeTest, MoveKeepsThePlaceInTheTree) {
  ASSERT_EQ(copy(20, 10), Error::kNone);
  ASSERT_EQ(copy(21, 20), Error::kNone);
  ASSERT_EQ(copy(22, 20), Error::kNone);
  ASSERT_EQ(move(30, 20), Error::kNone);
  EXPECT_TRUE(slot(20).empty());
  EXPECT_EQ(slot(30).parent, &slot(10));
  EXPECT_EQ(slot(21).parent, &slot(30));
  EXPECT_EQ(slot(22).parent, &slot(30));
  EXPECT_EQ(tree_caps(), 7u);
  ASSERT_EQ(revoke(30), Error::kNone);
  EXPECT_TRUE(slot(21).empty());
  EXPECT_TRUE(slot(22).empty());
  EXPECT_FALSE(slot(30).empty());
  EXPECT_EQ(move(30, 30), Error::kSlotOccupied);
  EXPECT_EQ(move(31, 20), Error::kSlotEmpty);
  EXPECT_EQ(tree_caps(), 5u);
}

TEST_F(CNodeTest, MutateMovesAndReducesRightsAndBadges) {
  ASSERT_EQ(copy(20, 10), Error::kNone);
  ASSERT_EQ(copy(21, 20), Error::kNone);
  ASSERT_EQ(mutate(30, 20, kRead, 0x99), Error::kNone);
  EXPECT_TRUE(slot(20).empty());
  EXPECT_EQ(slot(30).cap.rights, kRead);
  EXPECT_EQ(slot(30).cap.data, 0x99u);
  EXPECT_EQ(slot(30).parent, &slot(10));
  EXPECT_EQ(slot(21).parent, &slot(30));
  EXPECT_EQ(mutate(31, 30, kAll, 0x98), Error::kAlreadyBadged);
  EXPECT_EQ(mutate(31, 30, 0x40, 0), Error::kInvalidArgument);
  EXPECT_EQ(mutate(30, 21, kAll, 0), Error::kSlotOccupied);
  EXPECT_EQ(mutate(31, 25, kAll, 0), Error::kSlotEmpty);
  EXPECT_EQ(tree_caps(), 6u);
}

TEST_F(CNodeTest, DeleteRemovesOneCapAndItsChildrenMoveUp) {
  ASSERT_EQ(copy(20, 10), Error::kNone);
  ASSERT_EQ(copy(21, 20), Error::kNone);
  ASSERT_EQ(copy(22, 20), Error::kNone);
  ASSERT_EQ(remove(20), Error::kNone);
  EXPECT_TRUE(slot(20).empty());
  EXPECT_EQ(slot(21).parent, &slot(10));
  EXPECT_EQ(slot(22).parent, &slot(10));
  EXPECT_EQ(tree_caps(), 6u);
  EXPECT_EQ(remove(20), Error::kSlotEmpty);
  EXPECT_EQ(remove(1000), Error::kGuardMismatch);
  EXPECT_EQ(invoke(kRootSlot, Label::kCNodeDelete, {20}), Error::kTruncatedMessage);
  // Revoking the grandparent still reaches them.
  ASSERT_EQ(revoke(10), Error::kNone);
  EXPECT_TRUE(slot(21).empty());
  EXPECT_TRUE(slot(22).empty());
}

TEST_F(CNodeTest, RevokeDeletesEveryDescendantOnly) {
  // 10 -> 20 -> {21 -> 23, 22}; revoke 20 leaves 10 and 20.
  ASSERT_EQ(copy(20, 10), Error::kNone);
  ASSERT_EQ(mint(21, 20, kRead, 0), Error::kNone);
  ASSERT_EQ(mint(22, 20, kWrite, 1), Error::kNone);
  ASSERT_EQ(copy(23, 21), Error::kNone);
  EXPECT_EQ(kernel::cdt_descendant_count(&slot(10)), 4u);
  ASSERT_EQ(revoke(20), Error::kNone);
  for (uint64_t i : {21, 22, 23}) EXPECT_TRUE(slot(i).empty()) << i;
  EXPECT_FALSE(slot(20).empty());
  EXPECT_EQ(kernel::cdt_descendant_count(&slot(10)), 1u);
  EXPECT_TRUE(destroyed.empty());  // the endpoint still has caps
  EXPECT_EQ(revoke(24), Error::kSlotEmpty);
  EXPECT_EQ(revoke(20), Error::kNone);  // nothing left to revoke: still fine
  EXPECT_EQ(tree_caps(), 5u);
}

TEST_F(CNodeTest, RevokeOfADeepChainIsIterative) {
  // A radix-12 CNode holds a chain of 4000 copies, each the child of the one before.
  ASSERT_EQ(retype(ObjectType::kCNode, 12, 40), Error::kNone);
  uint64_t depth = 12;
  ASSERT_EQ(move(41, 40), Error::kNone);
  Slot* chain = kernel::cnode_slots(slot(41).cap);
  ASSERT_EQ(invoke(41, Label::kCNodeCopy, {0, depth, kRootSlot, 10, kDepth}), Error::kNone);
  for (uint64_t i = 1; i < 4000; ++i) {
    ASSERT_EQ(invoke(41, Label::kCNodeCopy, {i, depth, 41, i - 1, depth}), Error::kNone);
  }
  EXPECT_EQ(chain[3999].parent, &chain[3998]);
  EXPECT_EQ(kernel::cdt_descendant_count(&slot(10)), 4000u);
  ASSERT_EQ(revoke(10), Error::kNone);
  EXPECT_EQ(kernel::cdt_descendant_count(&slot(10)), 0u);
  for (uint64_t i = 0; i < 4000; ++i) ASSERT_TRUE(chain[i].empty()) << i;
  EXPECT_TRUE(destroyed.empty());
}

TEST_F(CNodeTest, RevokeOfAWideAndDeepTree) {
  // Every cap in slots 20..99 copies a random earlier one; revoking the root empties them all
  // and revoking a middle cap empties exactly its subtree.
  std::vector<uint64_t> parent_of(100, 0);
  unsigned seed = 12345;
  for (uint64_t i = 20; i < 100; ++i) {
    seed = seed * 1103515245 + 12345;
    uint64_t parent = i == 20 ? 10 : 20 + (seed >> 8) % (i - 20);
    parent_of[i] = parent;
    ASSERT_EQ(copy(i, parent), Error::kNone);
  }
  auto under = [&](uint64_t i, uint64_t ancestor) {
    for (uint64_t p = parent_of[i]; p >= 20; p = parent_of[p]) {
      if (p == ancestor) return true;
    }
    return false;
  };
  uint64_t middle = 25;
  size_t expected = 0;
  for (uint64_t i = 20; i < 100; ++i) expected += under(i, middle);
  EXPECT_EQ(kernel::cdt_descendant_count(&slot(middle)), expected);
  ASSERT_EQ(revoke(middle), Error::kNone);
  for (uint64_t i = 20; i < 100; ++i) EXPECT_EQ(slot(i).empty(), under(i, middle)) << i;
  tree_caps();
  ASSERT_EQ(revoke(10), Error::kNone);
  for (uint64_t i = 20; i < 100; ++i) EXPECT_TRUE(slot(i).empty()) << i;
  EXPECT_EQ(tree_caps(), 4u);
}

}  // namespace
}  // namespace kernel_caps_test
