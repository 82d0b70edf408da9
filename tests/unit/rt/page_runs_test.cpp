// SPDX-License-Identifier: MIT
// The heaps' free page runs: best fit, merging with neighbours, the run at the top.
#include "rt/page_runs.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace {

constexpr size_t kPage = rt::PageRuns::kPage;

class PageRunsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    arena_ = static_cast<uint8_t*>(std::aligned_alloc(kPage, kPages * kPage));
    ASSERT_NE(arena_, nullptr);
  }
  void TearDown() override { std::free(arena_); }
  uint8_t* page(size_t n) { return arena_ + n * kPage; }

  static constexpr size_t kPages = 64;
  uint8_t* arena_ = nullptr;
  rt::PageRuns runs_;
};

TEST_F(PageRunsTest, EmptyGivesNothing) {
  EXPECT_EQ(runs_.take(kPage), nullptr);
  size_t bytes = 1;
  EXPECT_EQ(runs_.take_ending_at(reinterpret_cast<uintptr_t>(page(4)), bytes), nullptr);
  EXPECT_EQ(bytes, 0u);
}

TEST_F(PageRunsTest, NeighboursMergeInEitherOrder) {
  runs_.give(page(4), 2 * kPage);
  runs_.give(page(0), 2 * kPage);
  EXPECT_EQ(runs_.runs(), 2u);
  runs_.give(page(2), 2 * kPage);  // between them: all three are one run
  EXPECT_EQ(runs_.runs(), 1u);
  EXPECT_EQ(runs_.free_bytes(), 6 * kPage);
  EXPECT_EQ(runs_.take(6 * kPage), page(0));
  EXPECT_EQ(runs_.free_bytes(), 0u);
  EXPECT_EQ(runs_.runs(), 0u);
}

TEST_F(PageRunsTest, RunsApartStayApart) {
  runs_.give(page(0), kPage);
  runs_.give(page(2), kPage);
  EXPECT_EQ(runs_.runs(), 2u);
  EXPECT_EQ(runs_.take(2 * kPage), nullptr);  // two free pages, but not together
}

// A file that grows by doubling frees 2, 4 and 8 pages; the next file that grows the same way
// must find room in them every time, which first fit over unmerged blocks did not.
TEST_F(PageRunsTest, DoublingFitsAgainAfterMerging) {
  runs_.give(page(0), 2 * kPage);
  runs_.give(page(2), 4 * kPage);
  runs_.give(page(6), 8 * kPage);
  EXPECT_EQ(runs_.runs(), 1u);
  for (int round = 0; round < 10; ++round) {
    void* two = runs_.take(2 * kPage);
    void* four = runs_.take(4 * kPage);
    runs_.give(two, 2 * kPage);
    void* eight = runs_.take(8 * kPage);
    ASSERT_NE(two, nullptr);
    ASSERT_NE(four, nullptr);
    ASSERT_NE(eight, nullptr) << "round " << round;
    runs_.give(four, 4 * kPage);
    runs_.give(eight, 8 * kPage);
    EXPECT_EQ(runs_.free_bytes(), 14 * kPage);
  }
}

TEST_F(PageRunsTest, BestFitKeepsTheLargeRun) {
  runs_.give(page(0), 8 * kPage);
  runs_.give(page(10), 2 * kPage);
  EXPECT_EQ(runs_.take(2 * kPage), page(10));  // the exact fit, not the front of the large one
  EXPECT_EQ(runs_.take(8 * kPage), page(0));
}

TEST_F(PageRunsTest, SplitLeavesTheRestInPlace) {
  runs_.give(page(0), 8 * kPage);
  runs_.give(page(20), 8 * kPage);
  EXPECT_EQ(runs_.take(3 * kPage), page(0));
  EXPECT_EQ(runs_.free_bytes(), 13 * kPage);
  runs_.give(page(8), 12 * kPage);  // fills the gap: the rest and the far run join it
  EXPECT_EQ(runs_.runs(), 1u);
  EXPECT_EQ(runs_.take(25 * kPage), page(3));
}

TEST_F(PageRunsTest, TakesTheRunEndingAtTheTop) {
  runs_.give(page(0), 2 * kPage);
  runs_.give(page(10), 3 * kPage);
  size_t bytes = 0;
  EXPECT_EQ(runs_.take_ending_at(reinterpret_cast<uintptr_t>(page(12)), bytes), nullptr);
  EXPECT_EQ(runs_.take_ending_at(reinterpret_cast<uintptr_t>(page(13)), bytes), page(10));
  EXPECT_EQ(bytes, 3 * kPage);
  EXPECT_EQ(runs_.free_bytes(), 2 * kPage);
  EXPECT_EQ(runs_.runs(), 1u);
}

}  // namespace
