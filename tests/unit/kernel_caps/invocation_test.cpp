// SPDX-License-Identifier: MIT
// Invocation dispatch and the ABI tables: labels to types, invalid caps, distinct error codes,
// and "an error changes nothing".
#include <string>

#include "caps_fixture.hpp"

namespace kernel_caps_test {
namespace {

TEST(ErrorTable, CodesAndNamesAreDistinctAndResultsAreNegated) {
  std::set<int64_t> codes;
  std::set<std::string> names;
  for (int64_t code = 0; code < 64; ++code) {
    auto error = static_cast<Error>(code);
    std::string name = abi::error_name(error);
    if (name == "Unknown") continue;
    EXPECT_TRUE(codes.insert(code).second);
    EXPECT_TRUE(names.insert(name).second) << name;
  }
  // 0..4, then every code from 16 to the highest is named: no gaps, no duplicates.
  int64_t highest = *codes.rbegin();
  EXPECT_EQ(codes.size(), 5u + static_cast<size_t>(highest - 15));
  EXPECT_GE(highest, static_cast<int64_t>(Error::kNotMapped));
  EXPECT_EQ(abi::syscall_result(Error::kInvalidArgument), -2);
  EXPECT_EQ(abi::syscall_result(Error::kSlotOccupied), -26);
  EXPECT_EQ(abi::syscall_result(Error::kNone), 0);
}

TEST(LabelTable, TcbLabelsBelongToTheTcbBlock) {
  for (Label label :
       {Label::kTcbConfigure, Label::kTcbSetPriority, Label::kTcbReadRegisters,
        Label::kTcbWriteRegisters, Label::kTcbResume, Label::kTcbSuspend, Label::kTcbSetAbi,
        Label::kTcbSetAffinity, Label::kTcbSetTls, Label::kTcbSetMaxPriority}) {
    EXPECT_EQ(kernel::label_object_type(label), ObjectType::kTcb);
    EXPECT_EQ(abi::label_block(label), 3u);
  }
}

TEST(LabelTable, LabelsBelongToTheirTypesBlock) {
  for (Label label : {Label::kCNodeCopy, Label::kCNodeMint, Label::kCNodeMove, Label::kCNodeMutate,
                      Label::kCNodeDelete, Label::kCNodeRevoke}) {
    EXPECT_EQ(kernel::label_object_type(label), ObjectType::kCNode);
    EXPECT_EQ(abi::label_block(label), 1u);
  }
  EXPECT_EQ(kernel::label_object_type(Label::kUntypedRetype), ObjectType::kUntyped);
  EXPECT_EQ(abi::label_block(Label::kUntypedRetype), 2u);
  EXPECT_EQ(kernel::label_object_type(Label::kInvalid), ObjectType::kNull);
  EXPECT_EQ(kernel::label_object_type(static_cast<Label>(22)), ObjectType::kNull);
}

struct InvocationTest : CapsTest {
  InvocationTest() { EXPECT_EQ(retype(ObjectType::kEndpoint, 0, 10), Error::kNone); }
};

TEST_F(InvocationTest, TheInvokedCptrMustNameACap) {
  EXPECT_EQ(invoke(50, Label::kCNodeDelete, {10, kDepth}), Error::kInvalidCapability);
  EXPECT_EQ(invoke(0, Label::kUntypedRetype, {}), Error::kInvalidCapability);
  EXPECT_EQ(invoke(256, Label::kCNodeDelete, {10, kDepth}), Error::kGuardMismatch);
  EXPECT_EQ(invoke(~uint64_t{0}, Label::kCNodeDelete, {10, kDepth}), Error::kGuardMismatch);
}

TEST_F(InvocationTest, LabelsAreCheckedAgainstTheCapType) {
  EXPECT_EQ(invoke(kRootSlot, Label::kInvalid, {}), Error::kInvalidLabel);
  EXPECT_EQ(invoke(kRootSlot, static_cast<Label>(22), {}), Error::kInvalidLabel);
  EXPECT_EQ(invoke(kRootSlot, static_cast<Label>(1000), {}), Error::kInvalidLabel);
  EXPECT_EQ(invoke(kRootSlot, Label::kUntypedRetype, {}), Error::kWrongType);
  EXPECT_EQ(invoke(kUntypedSlot, Label::kCNodeDelete, {10, kDepth}), Error::kWrongType);
  EXPECT_EQ(invoke(10, Label::kCNodeDelete, {10, kDepth}), Error::kWrongType);
  EXPECT_EQ(invoke(10, Label::kUntypedRetype, {}), Error::kWrongType);
}

TEST_F(InvocationTest, DecodersRefuseCapsOfAnotherType) {
  kernel::CNodeOperation cnode_operation;
  uint64_t words[8] = {};
  EXPECT_EQ(kernel::decode_cnode_invocation(root(), slot(10).cap, Label::kCNodeDelete, words, 8,
                                            cnode_operation),
            Error::kWrongType);
  EXPECT_EQ(kernel::decode_cnode_invocation(root(), root(), Label::kUntypedRetype, words, 8,
                                            cnode_operation),
            Error::kInvalidLabel);
  kernel::RetypeOperation retype_operation;
  EXPECT_EQ(kernel::decode_untyped_invocation(root(), &slot(10), Label::kUntypedRetype, words, 8,
                                              retype_operation),
            Error::kWrongType);
  EXPECT_EQ(kernel::decode_untyped_invocation(root(), &slot(kUntypedSlot), Label::kCNodeCopy, words,
                                              8, retype_operation),
            Error::kInvalidLabel);
}

TEST_F(InvocationTest, AFailedInvocationChangesNothing) {
  ASSERT_EQ(copy(11, 10), Error::kNone);
  ASSERT_EQ(retype(ObjectType::kCNode, 2, 12), Error::kNone);
  std::vector<uint8_t> before(reinterpret_cast<uint8_t*>(&slot(0)),
                              reinterpret_cast<uint8_t*>(&slot(256)));
  auto events = created.size();
  auto destroyed_events = destroyed.size();
  const std::pair<Error, Error> cases[] = {
      {copy(11, 10), Error::kSlotOccupied},
      {copy(13, 99), Error::kSlotEmpty},
      {mint(13, 11, abi::kRightsAll, 0), Error::kNone},  // the control: this one works...
      {remove(13), Error::kNone},                        // ...and is undone
      {mint(14, 10, 0x100, 0), Error::kInvalidArgument},
      {move(11, 10), Error::kSlotOccupied},
      {mutate(15, 99, abi::kRightsAll, 0), Error::kSlotEmpty},
      {remove(99), Error::kSlotEmpty},
      {revoke(99), Error::kSlotEmpty},
      {retype(ObjectType::kFrame, 12, 11), Error::kSlotOccupied},
      {retype(ObjectType::kFrame, 40, 20), Error::kRangeError},
      {retype(ObjectType::kUntyped, kUntypedBits, 20), Error::kNotEnoughMemory},
      {invoke(kRootSlot, Label::kCNodeMint, {14, kDepth, kRootSlot, 10, kDepth}),
       Error::kTruncatedMessage},
      {invoke(12, Label::kCNodeCopy, {4, 2, kRootSlot, 10, kDepth}), Error::kRangeError},
  };
  for (size_t i = 0; i < std::size(cases); ++i) EXPECT_EQ(cases[i].first, cases[i].second) << i;
  EXPECT_EQ(created.size(), events);
  EXPECT_EQ(destroyed.size(), destroyed_events);
  std::vector<uint8_t> after(reinterpret_cast<uint8_t*>(&slot(0)),
                             reinterpret_cast<uint8_t*>(&slot(256)));
  EXPECT_TRUE(before == after);
}

TEST_F(InvocationTest, MessagesLongerThanNeededAreAccepted) {
  EXPECT_EQ(invoke(kRootSlot, Label::kCNodeCopy, {11, kDepth, kRootSlot, 10, kDepth, 7, 7, 7}),
            Error::kNone);
  EXPECT_EQ(slot(11).cap.rights, abi::kRightsAll);  // Copy ignores Mint's words
}

}  // namespace
}  // namespace kernel_caps_test
