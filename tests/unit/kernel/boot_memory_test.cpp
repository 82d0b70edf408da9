// SPDX-License-Identifier: MIT
// plan_boot_memory and release_boot_memory: the bitmap's place, and no frame in use handed out.
#include "kernel/boot_memory.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace {

using namespace kernel;

constexpr uint64_t MiB = 1 << 20;
constexpr uint64_t kReachable = 1ull << 30;

struct BootMemoryTest : ::testing::Test {
  BootInfo boot;
  BootMemoryInUse in_use{{1 * MiB, 3 * MiB}, {3 * MiB, 3 * MiB + 0x2000}};

  void region(uint64_t start, uint64_t length, bool usable = true) {
    boot.regions[boot.region_count++] = MemoryRegion{start, length, usable};
  }
  void module(uint64_t start, uint64_t end) {
    boot.modules[boot.module_count++] = BootModule{start, end, "m"};
  }
  static bool overlaps(uint64_t start, uint64_t end, uint64_t other_start, uint64_t other_end) {
    return start < other_end && other_start < end;
  }
};

TEST_F(BootMemoryTest, BitmapGoesInTheFirstFreeStretchPastEverythingInUse) {
  region(0, 0x9f000);
  region(1 * MiB, 255 * MiB);
  module(3 * MiB + 0x2000, 5 * MiB + 10);
  BootMemoryPlan plan;
  ASSERT_EQ(plan_boot_memory(boot, in_use, kReachable, plan), BootMemoryError::kNone);
  EXPECT_EQ(plan.highest, 256 * MiB);
  EXPECT_EQ(plan.bitmap_size, 256 * MiB / 4096 / 8);
  EXPECT_EQ(plan.bitmap_physical, 5 * MiB + 0x1000);  // just after the module, page-aligned
}

TEST_F(BootMemoryTest, BitmapFitsInAGapBetweenModules) {
  region(1 * MiB, 127 * MiB);
  module(3 * MiB + 0x2000, 3 * MiB + 0x3000);  // leaves a gap of 1 MiB before the next
  module(4 * MiB + 0x3000, 6 * MiB);
  BootMemoryPlan plan;
  ASSERT_EQ(plan_boot_memory(boot, in_use, kReachable, plan), BootMemoryError::kNone);
  EXPECT_EQ(plan.bitmap_size, 4096u);
  EXPECT_EQ(plan.bitmap_physical, 3 * MiB + 0x3000);
}

TEST_F(BootMemoryTest, BitmapSkipsRegionsTooSmallOrUnreachable) {
  region(1 * MiB, 2 * MiB + 0x2000);     // all in use
  region(8 * MiB, 0x1000);               // too small for a 16 KiB bitmap
  region(kReachable - 0x2000, 0x10000);  // crosses the reachable limit
  region(16 * MiB, 496 * MiB, false);    // reserved
  region(kReachable, 512 * MiB);         // beyond reach, sets the highest address
  BootMemoryPlan plan;
  EXPECT_EQ(plan_boot_memory(boot, in_use, kReachable, plan), BootMemoryError::kNoRoomForBitmap);

  region(9 * MiB, 1 * MiB);
  ASSERT_EQ(plan_boot_memory(boot, in_use, kReachable, plan), BootMemoryError::kNone);
  EXPECT_EQ(plan.bitmap_physical, 9 * MiB);
  EXPECT_EQ(plan.highest, kReachable + 512 * MiB);
}

TEST_F(BootMemoryTest, NoUsableMemoryIsAnError) {
  BootMemoryPlan plan;
  EXPECT_EQ(plan_boot_memory(boot, in_use, kReachable, plan), BootMemoryError::kNoUsableMemory);
  region(0, 0x9f000);  // only low memory
  region(1 * MiB, 64 * MiB, false);
  EXPECT_EQ(plan_boot_memory(boot, in_use, kReachable, plan), BootMemoryError::kNoUsableMemory);
  EXPECT_STREQ(boot_memory_error_message(BootMemoryError::kNoUsableMemory),
               "the memory map has no usable RAM");
}

TEST_F(BootMemoryTest, ModulesNearTheTopOfTheAddressSpaceDoNotWrap) {
  region(1 * MiB, 63 * MiB);
  module(~uint64_t{0} - 0x1000, ~uint64_t{0});  // nonsense, but must not hang or wrap
  BootMemoryPlan plan;
  ASSERT_EQ(plan_boot_memory(boot, in_use, kReachable, plan), BootMemoryError::kNone);
  EXPECT_EQ(plan.bitmap_physical, 3 * MiB + 0x2000);
}

TEST_F(BootMemoryTest, NoFrameInUseIsEverHandedOut) {
  region(0, 0x9f000);
  region(0xf0000, 0x10000, false);
  region(1 * MiB, 63 * MiB);
  region(64 * MiB, 1 * MiB, false);  // a hole
  region(65 * MiB, 63 * MiB);
  module(5 * MiB + 0x800, 7 * MiB);
  module(70 * MiB, 70 * MiB + 0x1234);
  BootMemoryPlan plan;
  ASSERT_EQ(plan_boot_memory(boot, in_use, kReachable, plan), BootMemoryError::kNone);

  std::vector<uint64_t> bitmap(plan.bitmap_size / 8);
  PhysicalAllocator allocator;
  allocator.init(bitmap.data(), plan.highest / 4096);
  // Two windows, as the kernel does: below a limit first, the rest later.
  release_boot_memory(allocator, boot, in_use, plan, 0, 66 * MiB);
  size_t first_window = allocator.free_frames();
  EXPECT_FALSE(allocator.is_free(66 * MiB));
  release_boot_memory(allocator, boot, in_use, plan, 66 * MiB, plan.highest);

  struct Range {
    uint64_t start, end;
  };
  const Range in_use_ranges[] = {
      {0, 1 * MiB},
      {in_use.kernel.start, in_use.kernel.end},
      {in_use.boot_info.start, in_use.boot_info.end},
      {plan.bitmap_physical, plan.bitmap_physical + plan.bitmap_size},
      {5 * MiB + 0x800, 7 * MiB},
      {70 * MiB, 70 * MiB + 0x1234},
      {64 * MiB, 65 * MiB},
  };
  size_t handed_out = 0;
  for (uint64_t frame; (frame = allocator.allocate()) != 0; ++handed_out) {
    for (const Range& r : in_use_ranges) {
      ASSERT_FALSE(overlaps(frame, frame + 4096, r.start, r.end))
          << std::hex << "frame " << frame << " overlaps " << r.start << "-" << r.end;
    }
  }
  // Everything else is free: 126 MiB usable above 1 MiB, minus the kernel (512 frames), the
  // boot information (2), the bitmap (1) and the modules (512 and 2).
  EXPECT_EQ(plan.bitmap_size, 4096u);
  EXPECT_EQ(handed_out, 126 * MiB / 4096 - (512 + 2 + 1 + 512 + 2));
  EXPECT_GT(handed_out, first_window);
}

}  // namespace
