// SPDX-License-Identifier: MIT
// Derivation tree and destruction: last-cap detection, destroy hooks, CNodes full of caps,
// cycles, deep nesting and caps embedded in other objects.
#include "caps_fixture.hpp"

namespace kernel_caps_test {
namespace {

struct CdtTest : CapsTest {
  size_t destroyed_count(ObjectType type, uintptr_t object) {
    return std::count(
        destroyed.begin(), destroyed.end(),
        HookEvent{type, object, type == ObjectType::kCNode ? slot_bits_[object] : uint8_t{0}});
  }
  // Makes a CNode of `radix` in root slot `index` and remembers its radix for the hook check.
  void make_cnode(uint64_t index, uint8_t radix) {
    ASSERT_EQ(retype(ObjectType::kCNode, radix, index), Error::kNone);
    slot_bits_[slot(index).cap.object] = radix;
  }
  // Copies root slot `source` into slot `index` of the CNode cap in root slot `cnode`.
  Error copy_into(uint64_t cnode, uint64_t index, uint64_t source) {
    uint64_t depth = slot(cnode).cap.size_bits;
    return invoke(cnode, Label::kCNodeCopy, {index, depth, kRootSlot, source, kDepth});
  }
  Error move_into(uint64_t cnode, uint64_t index, uint64_t source) {
    uint64_t depth = slot(cnode).cap.size_bits;
    return invoke(cnode, Label::kCNodeMove, {index, depth, kRootSlot, source, kDepth});
  }
  std::map<uintptr_t, uint8_t> slot_bits_;
};

TEST_F(CdtTest, DeletingTheLastCapDestroysTheObjectOnce) {
  ASSERT_EQ(retype(ObjectType::kEndpoint, 0, 20), Error::kNone);
  uintptr_t endpoint = slot(20).cap.object;
  ASSERT_EQ(copy(21, 20), Error::kNone);
  ASSERT_EQ(mint(22, 21, abi::kRightWrite, 0x5), Error::kNone);  // badged caps name it too
  ASSERT_EQ(move(23, 22), Error::kNone);
  EXPECT_FALSE(kernel::cdt_is_final(&slot(20)));
  ASSERT_EQ(remove(20), Error::kNone);
  ASSERT_EQ(remove(23), Error::kNone);
  EXPECT_TRUE(destroyed.empty());
  EXPECT_TRUE(kernel::cdt_is_final(&slot(21)));
  ASSERT_EQ(remove(21), Error::kNone);
  ASSERT_EQ(destroyed.size(), 1u);
  EXPECT_EQ(destroyed[0], (HookEvent{ObjectType::kEndpoint, endpoint, 0}));
}

TEST_F(CdtTest, NeighbouringObjectsAreNotConfusedWithEachOther) {
  // Two endpoints retyped in one call sit side by side under the untyped.
  ASSERT_EQ(retype(ObjectType::kEndpoint, 0, 20, 2), Error::kNone);
  ASSERT_EQ(copy(22, 20), Error::kNone);
  ASSERT_EQ(remove(20), Error::kNone);  // 22 moves up next to 21's cap
  EXPECT_TRUE(kernel::cdt_is_final(&slot(21)));
  EXPECT_TRUE(kernel::cdt_is_final(&slot(22)));
  ASSERT_EQ(remove(21), Error::kNone);
  EXPECT_EQ(destroyed.size(), 1u);
  ASSERT_EQ(remove(22), Error::kNone);
  EXPECT_EQ(destroyed.size(), 2u);
  // A child untyped and the CNode made at its start share an address, not an identity.
  ASSERT_EQ(retype(ObjectType::kUntyped, 12, 30), Error::kNone);
  ASSERT_EQ(retype(ObjectType::kCNode, 6, 31, 1, 30), Error::kNone);
  EXPECT_EQ(slot(30).cap.object, slot(31).cap.object);
  EXPECT_TRUE(kernel::cdt_is_final(&slot(31)));
}

TEST_F(CdtTest, DestroyingACNodeDeletesTheCapsInside) {
  make_cnode(20, 4);
  uintptr_t cnode = slot(20).cap.object;
  ASSERT_EQ(retype(ObjectType::kEndpoint, 0, 21, 3), Error::kNone);
  uintptr_t kept = slot(23).cap.object;
  ASSERT_EQ(move_into(20, 0, 21), Error::kNone);  // the only cap to endpoint 21
  ASSERT_EQ(move_into(20, 1, 22), Error::kNone);  // the only cap to endpoint 22
  ASSERT_EQ(copy_into(20, 2, 23), Error::kNone);  // a copy; 23 stays in the root
  ASSERT_EQ(remove(20), Error::kNone);
  EXPECT_EQ(destroyed.size(), 3u);
  EXPECT_EQ(destroyed_count(ObjectType::kCNode, cnode), 1u);
  EXPECT_EQ(destroyed_count(ObjectType::kEndpoint, kept), 0u);
  EXPECT_EQ(destroyed.back().type, ObjectType::kCNode);  // after its contents
  EXPECT_EQ(slot(23).first_child, nullptr);              // the copy inside is gone
  EXPECT_EQ(check_tree({{&slot(0), 256}}), 3u);
}

TEST_F(CdtTest, NestedCNodesAreDestroyedWithoutRecursion) {
  // 2000 radix-1 CNodes, each holding the only cap to the next: deleting the first destroys all.
  constexpr int kDepthOfNesting = 2000;
  ASSERT_EQ(retype(ObjectType::kCNode, 1, 20), Error::kNone);
  Slot* outer = &slot(20);
  for (int i = 1; i < kDepthOfNesting; ++i) {
    ASSERT_EQ(retype(ObjectType::kCNode, 1, 21), Error::kNone);
    Slot* inner = kernel::cnode_slots(outer->cap);
    kernel::cdt_move(&slot(21), &inner[0]);  // a Move, done directly (it is 2000 levels deep)
    outer = &inner[0];
  }
  ASSERT_EQ(retype(ObjectType::kEndpoint, 0, 21), Error::kNone);
  kernel::cdt_move(&slot(21), &kernel::cnode_slots(outer->cap)[1]);
  ASSERT_EQ(remove(20), Error::kNone);
  EXPECT_EQ(destroyed.size(), static_cast<size_t>(kDepthOfNesting) + 1);
  EXPECT_EQ(std::count_if(destroyed.begin(), destroyed.end(),
                          [](const HookEvent& e) { return e.type == ObjectType::kCNode; }),
            kDepthOfNesting);
  EXPECT_FALSE(slot(kUntypedSlot).has_children());
  ASSERT_EQ(retype(ObjectType::kEndpoint, 0, 21), Error::kNone);
  EXPECT_EQ(slot(21).cap.object, untyped_base());  // the region is free again
}

TEST_F(CdtTest, ACNodeHoldingItsOwnLastCapIsDestroyedByRevokingItsUntyped) {
  make_cnode(20, 2);
  uintptr_t cnode = slot(20).cap.object;
  // Invoking the CNode to move its own (only) cap into its slot 3 is allowed.
  ASSERT_EQ(move_into(20, 3, 20), Error::kNone);
  EXPECT_TRUE(slot(20).empty());
  EXPECT_TRUE(destroyed.empty());  // unreachable, but not yet gone
  ASSERT_EQ(revoke(kUntypedSlot), Error::kNone);
  EXPECT_EQ(destroyed_count(ObjectType::kCNode, cnode), 1u);
  EXPECT_EQ(destroyed.size(), 1u);
  EXPECT_TRUE(kernel::cnode_slots(kernel::make_cnode_cap(cnode, 2, 0, 0))[3].empty());
}

TEST_F(CdtTest, TwoCNodesHoldingEachOtherAreBothDestroyed) {
  make_cnode(20, 2);
  make_cnode(21, 2);
  uintptr_t a = slot(20).cap.object;
  uintptr_t b = slot(21).cap.object;
  ASSERT_EQ(copy(22, 20), Error::kNone);
  ASSERT_EQ(copy(23, 21), Error::kNone);
  ASSERT_EQ(move_into(22, 0, 21), Error::kNone);  // A holds the cap to B
  ASSERT_EQ(move_into(23, 0, 20), Error::kNone);  // B holds the cap to A
  ASSERT_EQ(remove(22), Error::kNone);
  ASSERT_EQ(remove(23), Error::kNone);
  EXPECT_TRUE(destroyed.empty());
  ASSERT_EQ(revoke(kUntypedSlot), Error::kNone);
  EXPECT_EQ(destroyed_count(ObjectType::kCNode, a), 1u);
  EXPECT_EQ(destroyed_count(ObjectType::kCNode, b), 1u);
  EXPECT_EQ(slot(kUntypedSlot).cap.data, 0u);
}

TEST_F(CdtTest, RevokingAnUntypedWhoseCapLivesInsideItsOwnCNode) {
  // A child untyped makes a CNode; the untyped's cap moves into that CNode, and the CNode's
  // cap is its only way in. Revoking the untyped (through that path) destroys the CNode and,
  // with it, the untyped cap itself; nothing is left dangling.
  ASSERT_EQ(retype(ObjectType::kUntyped, 12, 20), Error::kNone);
  ASSERT_EQ(retype(ObjectType::kCNode, 2, 21, 1, 20), Error::kNone);
  ASSERT_EQ(move_into(21, 1, 20), Error::kNone);
  Slot* inner = &kernel::cnode_slots(slot(21).cap)[1];
  ASSERT_EQ(invoke(21, Label::kCNodeRevoke, {1, 2}), Error::kNone);
  EXPECT_TRUE(slot(21).empty());
  EXPECT_TRUE(inner->empty());
  EXPECT_EQ(destroyed.size(), 1u);
  EXPECT_EQ(check_tree({{&slot(0), 256}}), 2u);
}

TEST_F(CdtTest, CapsEmbeddedInAnObjectAreDeletedBeforeItsDestroyHook) {
  tcb_embedded_slots = 4;  // TCBs here keep 4 slots at their start
  ASSERT_EQ(retype(ObjectType::kTcb, 0, 20), Error::kNone);
  ASSERT_EQ(retype(ObjectType::kEndpoint, 0, 21), Error::kNone);
  ASSERT_EQ(retype(ObjectType::kNotification, 0, 22), Error::kNone);
  uintptr_t tcb = slot(20).cap.object;
  Slot* embedded = reinterpret_cast<Slot*>(tcb);
  kernel::cdt_move(&slot(21), &embedded[0]);  // as "configure fault endpoint" would
  ASSERT_EQ(copy(23, 22), Error::kNone);
  kernel::cdt_move(&slot(23), &embedded[1]);
  ASSERT_EQ(remove(20), Error::kNone);
  ASSERT_EQ(destroyed.size(), 2u);
  EXPECT_EQ(destroyed[0].type, ObjectType::kEndpoint);
  EXPECT_EQ(destroyed[1], (HookEvent{ObjectType::kTcb, tcb, 0}));
  EXPECT_TRUE(embedded[0].empty());
  EXPECT_TRUE(embedded[1].empty());
  EXPECT_EQ(slot(22).first_child, nullptr);
}

TEST_F(CdtTest, UntypedAndZombieCapsGetNoHooks) {
  ASSERT_EQ(retype(ObjectType::kUntyped, 12, 20), Error::kNone);
  ASSERT_EQ(remove(20), Error::kNone);
  EXPECT_TRUE(destroyed.empty());
  make_cnode(21, 1);
  ASSERT_EQ(remove(21), Error::kNone);
  ASSERT_EQ(destroyed.size(), 1u);
  EXPECT_EQ(destroyed[0].type, ObjectType::kCNode);
}

TEST(CdtDirect, InsertMoveAndUnlinkKeepLinksConsistent) {
  Slot slots[8] = {};
  Capability ep = kernel::make_cap(ObjectType::kEndpoint, 0x1000, 0);
  kernel::cdt_insert(nullptr, &slots[0], ep);
  kernel::cdt_insert(&slots[0], &slots[1], ep);
  kernel::cdt_insert(&slots[0], &slots[2], ep);  // first child now
  kernel::cdt_insert(&slots[1], &slots[3], ep);
  EXPECT_EQ(slots[0].first_child, &slots[2]);
  EXPECT_EQ(slots[2].next_sibling, &slots[1]);
  kernel::cdt_move(&slots[1], &slots[5]);
  EXPECT_EQ(slots[2].next_sibling, &slots[5]);
  EXPECT_EQ(slots[3].parent, &slots[5]);
  kernel::delete_cap(&slots[5]);  // slot 3 takes its place after slot 2
  EXPECT_EQ(slots[2].next_sibling, &slots[3]);
  EXPECT_EQ(slots[3].previous_sibling, &slots[2]);
  EXPECT_EQ(slots[3].parent, &slots[0]);
  kernel::delete_cap(&slots[0]);  // children become parentless but stay linked
  EXPECT_EQ(slots[2].parent, nullptr);
  EXPECT_EQ(slots[2].next_sibling, &slots[3]);
  EXPECT_FALSE(kernel::cdt_is_final(&slots[2]));
  kernel::delete_cap(&slots[2]);
  EXPECT_TRUE(kernel::cdt_is_final(&slots[3]));
  kernel::delete_cap(&slots[3]);
  for (const Slot& s : slots) EXPECT_TRUE(s.empty());
}

}  // namespace
}  // namespace kernel_caps_test
