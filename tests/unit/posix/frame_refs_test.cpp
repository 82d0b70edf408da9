// SPDX-License-Identifier: MIT
// Frame reference counts (fork's copy-on-write): a new frame has one, sharing adds one, the last
// release says the frame can go; chunks are made on first use and bounded by the allocator.
#include "mm/frame_refs.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace posix::mm {
namespace {

// malloc with a budget of allocations, to see what happens when memory runs out.
class CountingAllocator final : public rt::Allocator {
 public:
  explicit CountingAllocator(int budget) : budget_(budget) {}
  ~CountingAllocator() {
    for (int i = 0; i < made_; ++i) std::free(blocks_[i]);
  }
  void* allocate(size_t size, size_t) override {
    if (budget_ == 0 || made_ == kMax) return nullptr;
    --budget_;
    void* block = std::malloc(size);
    blocks_[made_++] = block;
    return block;
  }
  void deallocate(void*, size_t) override {}
  int made() const { return made_; }

 private:
  static constexpr int kMax = 16;
  int budget_;
  int made_ = 0;
  void* blocks_[kMax] = {};
};

TEST(FrameRefs, NewFrameHasOneReference) {
  CountingAllocator allocator(8);
  FrameRefs refs(allocator);
  EXPECT_EQ(refs.count(5), 0u);
  ASSERT_TRUE(refs.start(5));
  EXPECT_EQ(refs.count(5), 1u);
  EXPECT_EQ(refs.release(5), 0u);
  EXPECT_EQ(refs.count(5), 0u);
}

TEST(FrameRefs, SharedFrameGoesWithTheLastRelease) {
  CountingAllocator allocator(8);
  FrameRefs refs(allocator);
  ASSERT_TRUE(refs.start(7));
  refs.retain(7);  // fork: parent and child
  refs.retain(7);  // the child forks again
  EXPECT_EQ(refs.count(7), 3u);
  EXPECT_EQ(refs.release(7), 2u);  // one of them writes (its own copy now)
  EXPECT_EQ(refs.release(7), 1u);  // another exits: the last one writes without a copy
  EXPECT_EQ(refs.release(7), 0u);  // its exit frees the frame
  EXPECT_EQ(refs.release(7), 0u);  // nothing below zero
}

TEST(FrameRefs, RecycledFrameStartsAgainAtOne) {
  CountingAllocator allocator(8);
  FrameRefs refs(allocator);
  ASSERT_TRUE(refs.start(3));
  refs.retain(3);
  EXPECT_EQ(refs.release(3), 1u);
  EXPECT_EQ(refs.release(3), 0u);
  ASSERT_TRUE(refs.start(3));
  EXPECT_EQ(refs.count(3), 1u);
}

TEST(FrameRefs, FramesAreCountedApart) {
  CountingAllocator allocator(8);
  FrameRefs refs(allocator);
  uint64_t far = FrameRefs::kChunkEntries * 3 + 1;
  ASSERT_TRUE(refs.start(0));
  ASSERT_TRUE(refs.start(far));
  refs.retain(far);
  EXPECT_EQ(refs.count(0), 1u);
  EXPECT_EQ(refs.count(far), 2u);
  EXPECT_EQ(refs.count(1), 0u);
  EXPECT_EQ(allocator.made(), 3);  // the table of chunks and two chunks
}

TEST(FrameRefs, NoMemoryNoFrame) {
  CountingAllocator allocator(1);  // the table only
  FrameRefs refs(allocator);
  EXPECT_FALSE(refs.start(0));
  EXPECT_EQ(refs.count(0), 0u);
  refs.retain(0);  // nothing to count: ignored
  EXPECT_EQ(refs.release(0), 0u);
}

TEST(FrameRefs, IndexBeyondTheTableIsRefused) {
  CountingAllocator allocator(8);
  FrameRefs refs(allocator);
  EXPECT_FALSE(refs.start(FrameRefs::kChunks * FrameRefs::kChunkEntries));
  EXPECT_EQ(refs.count(FrameRefs::kChunks * FrameRefs::kChunkEntries), 0u);
}

}  // namespace
}  // namespace posix::mm
