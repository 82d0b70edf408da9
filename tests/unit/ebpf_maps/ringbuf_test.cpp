// SPDX-License-Identifier: MIT
// Ring buffers: Linux's record layout, positions, full ring, discard, wakeups, wraparound.
#include "ebpf/ringbuf.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "ebpf/assembler.hpp"
#include "ebpf/helpers.hpp"
#include "ebpf/interpreter.hpp"
#include "ebpf/maps.hpp"
#include "fake_environment.hpp"
#include "rt/errno.hpp"
#include "support/malloc_allocator.hpp"

namespace {

using namespace ebpf;

struct RingbufTest : ::testing::Test {
  test_support::MallocAllocator allocator;
  RingbufMap* ring = nullptr;
  void SetUp() override {
    MapAttributes a;
    a.type = MapType::kRingbuf;
    a.max_entries = 4096;
    ring = static_cast<RingbufMap*>(create_map(a, allocator, 1).value());
  }
  void TearDown() override {
    destroy_map(ring, allocator);
    EXPECT_EQ(allocator.in_use(), 0u);
  }
  uint32_t header_length(uint64_t position) {
    uint32_t length;
    std::memcpy(&length, ring->data() + (position & 4095), 4);
    return length;
  }
};

TEST(RingbufCreate, SizeMustBeAPowerOfTwoPageMultiple) {
  test_support::MallocAllocator allocator;
  MapAttributes a;
  a.type = MapType::kRingbuf;
  for (uint32_t bad : {0u, 100u, 4097u, 6144u}) {
    a.max_entries = bad;
    EXPECT_EQ(create_map(a, allocator, 1).error().code, rt::kEINVAL) << bad;
  }
  a.max_entries = 8192;
  a.key_size = 4;
  EXPECT_EQ(create_map(a, allocator, 1).error().code, rt::kEINVAL);
}

TEST_F(RingbufTest, ReserveSetsBusyHeaderAndSubmitCommits) {
  void* sample = ring->reserve(10, 0);
  ASSERT_NE(sample, nullptr);
  EXPECT_EQ(ring->producer_position(), 24u);  // 8-byte header + 10 bytes, rounded to 8
  EXPECT_EQ(header_length(0), 10u | kRingbufBusyBit);
  std::memcpy(sample, "0123456789", 10);
  ring->submit(sample, 0, false);
  EXPECT_EQ(header_length(0), 10u);
  EXPECT_EQ(std::memcmp(ring->data() + 8, "0123456789", 10), 0);
  EXPECT_EQ(ring->wakeups(), 1u) << "the first unread record wakes the reader";
  void* second = ring->reserve(4, 0);
  ring->submit(second, 0, false);
  EXPECT_EQ(ring->wakeups(), 1u) << "later records do not, unless forced";
  void* third = ring->reserve(4, 0);
  ring->submit(third, kRingbufForceWakeup, true);
  EXPECT_EQ(ring->wakeups(), 2u);
  EXPECT_EQ(header_length(40), 4u | kRingbufDiscardBit);
  EXPECT_EQ(ring->query(kRingbufAvailData), 56u);
  EXPECT_EQ(ring->query(kRingbufRingSize), 4096u);
  EXPECT_EQ(ring->query(kRingbufProdPos), 56u);
  EXPECT_EQ(ring->query(kRingbufConsPos), 0u);
  EXPECT_EQ(ring->query(99), 0u);
}

TEST_F(RingbufTest, FullRingRefusesAndConsumingMakesRoom) {
  EXPECT_EQ(ring->reserve(4096, 0), nullptr) << "a record must leave room for its header";
  EXPECT_EQ(ring->reserve(8, 1), nullptr) << "reserve flags must be 0";
  void* big = ring->reserve(4000, 0);
  ASSERT_NE(big, nullptr);
  ring->submit(big, kRingbufNoWakeup, false);
  EXPECT_EQ(ring->wakeups(), 0u);
  EXPECT_EQ(ring->reserve(200, 0), nullptr);
  EXPECT_EQ(ring->output("x", 1, 0), 0);
  EXPECT_EQ(ring->output("y", 200, 0), -rt::kEAGAIN);
  EXPECT_EQ(ring->output("y", 1, 4), -rt::kEINVAL);
  ring->set_consumer_position(ring->producer_position());
  // This record wraps around the end; the reader still sees it contiguous from its start.
  char payload[200];
  for (int i = 0; i < 200; ++i) payload[i] = static_cast<char>(i);
  uint64_t position = ring->producer_position();
  ASSERT_EQ(ring->output(payload, sizeof(payload), 0), 0);
  uint64_t offset = (position & 4095) + 8;
  uint64_t first = 4096 - offset;
  EXPECT_EQ(std::memcmp(ring->data() + offset, payload, first), 0);
  EXPECT_EQ(std::memcmp(ring->data(), payload + first, sizeof(payload) - first), 0);
}

TEST_F(RingbufTest, HelpersFromAProgram) {
  HelperFunction table[kMaxHelperId] = {};
  fill_helper_table(table);
  std::string m = std::to_string(reinterpret_cast<uint64_t>(ring));
  AssemblyResult program =
      assemble("lddw %r1, " + m +
               "\nmov %r2, 16\nmov %r3, 0\ncall 131\njeq %r0, 0, out\n"
               "stdw [%r0+0], 7\nstdw [%r0+8], 9\nmov %r1, %r0\nmov %r2, 0\ncall 132\n"
               "lddw %r1, " +
               m + "\nmov %r2, 0\ncall 134\nexit\nout:\nmov %r0, -1\nexit");
  ASSERT_TRUE(program.ok()) << program.error;
  Program p;
  p.insns = program.insns.data();
  p.insn_count = static_cast<uint32_t>(program.insns.size());
  p.helpers = table;
  p.helper_count = kMaxHelperId;
  EXPECT_EQ(run(p, nullptr, nullptr), 24u);  // bytes available after one 16-byte record
  uint64_t values[2];
  std::memcpy(values, ring->data() + 8, 16);
  EXPECT_EQ(values[0], 7u);
  EXPECT_EQ(values[1], 9u);
  EXPECT_EQ(header_length(0), 16u);
}

}  // namespace
