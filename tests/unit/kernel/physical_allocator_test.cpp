// SPDX-License-Identifier: MIT
// PhysicalAllocator: frames come only from free ranges, never twice, and reserved stays reserved.
#include "kernel/physical_allocator.hpp"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace {

using kernel::kFrameSize;
using kernel::PhysicalAllocator;

struct Fixture {
  std::vector<uint64_t> bitmap;
  PhysicalAllocator allocator;
  explicit Fixture(uint64_t highest) {
    bitmap.resize(PhysicalAllocator::bitmap_bytes(highest) / 8);
    allocator.init(bitmap.data(), highest / kFrameSize);
  }
};

TEST(PhysicalAllocator, StartsWithNothingFree) {
  Fixture f(1 << 20);
  EXPECT_EQ(f.allocator.free_frames(), 0u);
  EXPECT_EQ(f.allocator.allocate(), 0u);
}

TEST(PhysicalAllocator, FreeRangesShrinkToWholeFramesAndSkipFrameZero) {
  Fixture f(1 << 20);
  f.allocator.add_free_range(0, 3 * kFrameSize + 100);
  EXPECT_EQ(f.allocator.free_frames(), 2u);  // frames 1 and 2; frame 0 never, frame 3 partial
  EXPECT_FALSE(f.allocator.is_free(0));
  EXPECT_TRUE(f.allocator.is_free(kFrameSize));
  f.allocator.add_free_range(5 * kFrameSize + 1, 7 * kFrameSize);
  EXPECT_FALSE(f.allocator.is_free(5 * kFrameSize));
  EXPECT_TRUE(f.allocator.is_free(6 * kFrameSize));
}

TEST(PhysicalAllocator, ReserveGrowsToWholeFrames) {
  Fixture f(1 << 20);
  f.allocator.add_free_range(0, 16 * kFrameSize);
  f.allocator.reserve_range(4 * kFrameSize + 10, 5 * kFrameSize + 10);
  EXPECT_FALSE(f.allocator.is_free(4 * kFrameSize));
  EXPECT_FALSE(f.allocator.is_free(5 * kFrameSize));
  EXPECT_TRUE(f.allocator.is_free(6 * kFrameSize));
  EXPECT_EQ(f.allocator.free_frames(), 13u);
}

TEST(PhysicalAllocator, HandsOutEveryFreeFrameExactlyOnceThenFails) {
  Fixture f(1 << 22);
  f.allocator.add_free_range(0x10000, 0x90000);
  f.allocator.reserve_range(0x20000, 0x30000);
  std::set<uint64_t> seen;
  for (;;) {
    uint64_t frame = f.allocator.allocate();
    if (frame == 0) break;
    EXPECT_EQ(frame % kFrameSize, 0u);
    EXPECT_GE(frame, 0x10000u);
    EXPECT_LT(frame, 0x90000u);
    EXPECT_FALSE(frame >= 0x20000 && frame < 0x30000) << std::hex << frame;
    EXPECT_TRUE(seen.insert(frame).second) << "frame handed out twice";
  }
  EXPECT_EQ(seen.size(), (0x80000u - 0x10000u) / kFrameSize);
  EXPECT_EQ(f.allocator.free_frames(), 0u);
}

TEST(PhysicalAllocator, FreeReturnsFramesAndRejectsBadAddresses) {
  Fixture f(1 << 20);
  f.allocator.add_free_range(0, 8 * kFrameSize);
  uint64_t frame = f.allocator.allocate();
  ASSERT_NE(frame, 0u);
  size_t before = f.allocator.free_frames();
  EXPECT_TRUE(f.allocator.free(frame));
  EXPECT_EQ(f.allocator.free_frames(), before + 1);
  EXPECT_FALSE(f.allocator.free(frame)) << "double free accepted";
  EXPECT_FALSE(f.allocator.free(frame + 1)) << "unaligned address accepted";
  EXPECT_FALSE(f.allocator.free(0)) << "frame zero accepted";
  EXPECT_FALSE(f.allocator.free(uint64_t{1} << 40)) << "address past the end accepted";
  EXPECT_EQ(f.allocator.free_frames(), before + 1);
}

TEST(PhysicalAllocator, RangesPastTheEndAreClipped) {
  Fixture f(64 * kFrameSize);
  f.allocator.add_free_range(32 * kFrameSize, 1000 * kFrameSize);
  EXPECT_EQ(f.allocator.free_frames(), 32u);
  f.allocator.reserve_range(60 * kFrameSize, 5000 * kFrameSize);
  EXPECT_EQ(f.allocator.free_frames(), 28u);
}

}  // namespace

namespace {

TEST(PhysicalAllocator, AllocateBlockIsNaturallyAlignedAndWhollyFree) {
  Fixture f(1 << 22);                               // 1024 frames
  f.allocator.add_free_range(0x3000, 0x40000);      // frames 3..63
  f.allocator.reserve_range(0x10000, 0x11000);      // frame 16 taken: 16..31 is not a whole block
  uint64_t block = f.allocator.allocate_block(16);  // 16 frames
  EXPECT_EQ(block, 0x20000u);                       // frames 32..47
  for (uint64_t a = block; a < block + 0x10000; a += kFrameSize)
    EXPECT_FALSE(f.allocator.is_free(a));
  EXPECT_EQ(f.allocator.allocate_block(16), 0x30000u);
  EXPECT_EQ(f.allocator.allocate_block(16), 0u);  // no aligned run of 16 left
  EXPECT_EQ(f.allocator.allocate_block(11), 0u);  // below a frame
  EXPECT_EQ(f.allocator.allocate_block(13), 0x4000u);
}

TEST(PhysicalAllocator, TakeFreeBlockSplitsRunsIntoAlignedPowersOfTwo) {
  Fixture f(1 << 22);
  f.allocator.add_free_range(0x3000, 0x20000);  // frames 3..31
  std::vector<std::pair<uint64_t, unsigned>> blocks;
  uint64_t physical = 0;
  unsigned bits = 0;
  while (f.allocator.take_free_block(physical, bits)) blocks.emplace_back(physical, bits);
  std::vector<std::pair<uint64_t, unsigned>> want = {
      {0x3000, 12}, {0x4000, 14}, {0x8000, 15}, {0x10000, 16}};
  EXPECT_EQ(blocks, want);
  EXPECT_EQ(f.allocator.free_frames(), 0u);
}

}  // namespace
