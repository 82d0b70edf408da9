// SPDX-License-Identifier: MIT
// Frame-pointer walks over a made-up stack: entry frames, skips, bad and looping chains.
#include "stack_walk.hpp"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace {

using trace::StackStart;
using trace::StackWalkRules;
using trace::walk_stack;

// Words of a fake stack by address.
struct FakeStack {
  std::map<uint64_t, uint64_t> words;
  static bool read(void* state, uint64_t address, uint64_t& word) {
    auto& stack = *static_cast<FakeStack*>(state);
    auto found = stack.words.find(address);
    if (found == stack.words.end()) return false;
    word = found->second;
    return true;
  }
  // A frame at `fp`: the caller's frame and the return address into it.
  void frame(uint64_t fp, uint64_t next, uint64_t return_address) {
    words[fp] = next;
    words[fp + 8] = return_address;
  }
};

std::vector<uint64_t> walk(FakeStack& stack, const StackStart& start, StackWalkRules rules,
                           uint32_t skip = 0, uint32_t max = 16, long* result = nullptr) {
  std::vector<uint64_t> ips(max, 0);
  long n = walk_stack(start, rules, &FakeStack::read, &stack, skip, ips.data(), max);
  if (result != nullptr) *result = n;
  ips.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return ips;
}

// do_unlinkat's entry: the return address into sys_unlink at sp, rbp still sys_unlink's frame.
FakeStack server_stack() {
  FakeStack stack;
  stack.words[0x7000] = 0x401111;         // [sp]: into sys_unlink
  stack.frame(0x7100, 0x7200, 0x402222);  // sys_unlink's frame: return into __x64_sys_unlink
  stack.frame(0x7200, 0x7300, 0x403333);  // __x64_sys_unlink's: into dispatch_syscall
  stack.frame(0x7300, 0, 0x404444);       // dispatch_syscall's: its caller; the chain ends at 0
  return stack;
}

TEST(StackWalk, ServerEntryFrameComesFromTheStackPointer) {
  FakeStack stack = server_stack();
  StackStart start{0x400000, 0x7000, 0x7100, true};
  EXPECT_EQ(walk(stack, start, StackWalkRules::kServer),
            (std::vector<uint64_t>{0x400000, 0x401111, 0x402222, 0x403333, 0x404444}));
  // Not at an entry: the frame pointer's chain only.
  start.at_function_entry = false;
  EXPECT_EQ(walk(stack, start, StackWalkRules::kServer),
            (std::vector<uint64_t>{0x400000, 0x402222, 0x403333, 0x404444}));
}

TEST(StackWalk, SkipAndMax) {
  FakeStack stack = server_stack();
  StackStart start{0x400000, 0x7000, 0x7100, true};
  EXPECT_EQ(walk(stack, start, StackWalkRules::kServer, 2, 2),
            (std::vector<uint64_t>{0x402222, 0x403333}));
  long result = 0;
  EXPECT_TRUE(walk(stack, start, StackWalkRules::kServer, 5, 4, &result).empty());
  EXPECT_EQ(result, 0);  // exactly the stack's depth skipped: nothing left, no error
  walk(stack, start, StackWalkRules::kServer, 6, 4, &result);
  EXPECT_EQ(result, -14);  // fewer frames than the skip: EFAULT
}

TEST(StackWalk, ServerWalkStopsAtBadFrames) {
  FakeStack stack = server_stack();
  stack.frame(0x7200, 0x7100, 0x403333);  // points back down: a loop
  StackStart start{0x400000, 0x7000, 0x7100, false};
  EXPECT_EQ(walk(stack, start, StackWalkRules::kServer),
            (std::vector<uint64_t>{0x400000, 0x402222, 0x403333}));
  stack = server_stack();
  stack.words.erase(0x7208);  // unreadable
  EXPECT_EQ(walk(stack, start, StackWalkRules::kServer),
            (std::vector<uint64_t>{0x400000, 0x402222}));
  start.fp = 0x6f00;  // below the stack pointer
  EXPECT_EQ(walk(stack, start, StackWalkRules::kServer), (std::vector<uint64_t>{0x400000}));
  start.fp = 0x7104;  // misaligned
  EXPECT_EQ(walk(stack, start, StackWalkRules::kServer), (std::vector<uint64_t>{0x400000}));
}

TEST(StackWalk, UserWalkFollowsTheChainToTheDepth) {
  FakeStack stack;
  stack.frame(0x1000, 0x1000, 0x501111);  // a frame pointing at itself
  StackStart start{0x500000, 0xf00, 0x1000, false};
  // Linux's user walk has no ordering rule: the depth ends it.
  EXPECT_EQ(walk(stack, start, StackWalkRules::kUser, 0, 4),
            (std::vector<uint64_t>{0x500000, 0x501111, 0x501111, 0x501111}));
  start.fp = 0;  // no frame pointer: the ip alone
  EXPECT_EQ(walk(stack, start, StackWalkRules::kUser), (std::vector<uint64_t>{0x500000}));
}

}  // namespace
