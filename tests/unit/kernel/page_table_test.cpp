// SPDX-License-Identifier: MIT
// PageTable: map, translate, protect and unmap over simulated physical memory.
#include "kernel/page_table.hpp"

#include <gtest/gtest.h>

#include "simulated_memory.hpp"

namespace {

using namespace kernel;
using kernel_test::SimulatedMemory;

struct PageTableTest : ::testing::Test {
  SimulatedMemory memory{64};
  PageTable table{memory.source(), SimulatedMemory::allocate(&memory)};
};

TEST(PageIndex, SplitsAddressesLikeTheHardware) {
  uint64_t va = 0xffffffff80123456ull;
  EXPECT_EQ(page::index(va, 4), 511u);
  EXPECT_EQ(page::index(va, 3), 510u);
  EXPECT_EQ(page::index(va, 2), 0u);
  EXPECT_EQ(page::index(va, 1), 0x123u);
  EXPECT_TRUE(page::is_canonical(0x00007fffffffffffull));
  EXPECT_FALSE(page::is_canonical(0x0000800000000000ull));
  EXPECT_TRUE(page::is_canonical(0xffff800000000000ull));
}

TEST_F(PageTableTest, MapsAndTranslatesWithEffectiveFlags) {
  ASSERT_EQ(table.map(0x400000, 0x7000, page::kUser | page::kWritable), MapError::kNone);
  uint64_t physical = 0, flags = 0;
  ASSERT_TRUE(table.translate(0x400123, &physical, &flags));
  EXPECT_EQ(physical, 0x7123u);
  EXPECT_TRUE(flags & page::kUser);
  EXPECT_TRUE(flags & page::kWritable);
  EXPECT_FALSE(flags & page::kNoExecute);
  EXPECT_EQ(memory.allocated, 4u);  // root + PDPT + PD + PT
  EXPECT_FALSE(table.translate(0x401000, &physical, &flags));
}

TEST_F(PageTableTest, KernelPagesAreNotUserAccessible) {
  ASSERT_EQ(table.map(0xffff800000001000ull, 0x9000, page::kWritable | page::kNoExecute),
            MapError::kNone);
  uint64_t physical = 0, flags = 0;
  ASSERT_TRUE(table.translate(0xffff800000001000ull, &physical, &flags));
  EXPECT_FALSE(flags & page::kUser);
  EXPECT_TRUE(flags & page::kNoExecute);
}

TEST_F(PageTableTest, RefusesDoubleMapUnalignedAndNonCanonical) {
  ASSERT_EQ(table.map(0x400000, 0x7000, page::kUser), MapError::kNone);
  EXPECT_EQ(table.map(0x400000, 0x8000, page::kUser), MapError::kAlreadyMapped);
  EXPECT_EQ(table.map(0x400010, 0x8000, page::kUser), MapError::kUnaligned);
  EXPECT_EQ(table.map(0x402000, 0x8010, page::kUser), MapError::kUnaligned);
  EXPECT_EQ(table.map(0x0000800000000000ull, 0x8000, page::kUser), MapError::kNotCanonical);
}

TEST_F(PageTableTest, ProtectChangesPermissions) {
  ASSERT_EQ(table.map(0x400000, 0x7000, page::kUser | page::kWritable), MapError::kNone);
  ASSERT_EQ(table.protect(0x400000, page::kUser | page::kNoExecute), MapError::kNone);
  uint64_t flags = 0;
  ASSERT_TRUE(table.translate(0x400000, nullptr, &flags));
  EXPECT_FALSE(flags & page::kWritable);
  EXPECT_TRUE(flags & page::kNoExecute);
  EXPECT_EQ(table.protect(0x500000, page::kUser), MapError::kNotMapped);
}

TEST_F(PageTableTest, UnmapReturnsTheFrameAndForgetsTheMapping) {
  ASSERT_EQ(table.map(0x400000, 0x7000, page::kUser), MapError::kNone);
  uint64_t physical = 0;
  ASSERT_EQ(table.unmap(0x400000, &physical), MapError::kNone);
  EXPECT_EQ(physical, 0x7000u);
  EXPECT_FALSE(table.translate(0x400000, nullptr, nullptr));
  EXPECT_EQ(table.unmap(0x400000, &physical), MapError::kNotMapped);
  EXPECT_EQ(table.unmap(0x7000000000ull, &physical), MapError::kNotMapped);
}

TEST_F(PageTableTest, LargePagesTranslateAndBlockSmallMappings) {
  ASSERT_EQ(table.map_large(0xffff800000000000ull, 0x200000, page::kWritable), MapError::kNone);
  uint64_t physical = 0;
  ASSERT_TRUE(table.translate(0xffff800000012345ull, &physical, nullptr));
  EXPECT_EQ(physical, 0x212345u);
  EXPECT_EQ(table.map(0xffff800000001000ull, 0x9000, 0), MapError::kLargePageInTheWay);
  EXPECT_EQ(table.map_large(0xffff800000001000ull, 0x200000, 0), MapError::kUnaligned);
}

TEST(PageTableMemory, ReportsOutOfMemory) {
  SimulatedMemory tiny(3);  // root + two tables: not enough for a full walk
  PageTable table(tiny.source(), SimulatedMemory::allocate(&tiny));
  EXPECT_EQ(table.map(0x400000, 0x7000, page::kUser), MapError::kNoMemory);
}

}  // namespace
