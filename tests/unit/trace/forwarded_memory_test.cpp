// SPDX-License-Identifier: MIT
// ForwardedMemory: reads from forwarded ranges, misses, faulted tails and the write log.
#include "trace/forwarded_memory.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "rt/errno.hpp"

namespace {

using trace::ForwardedMemory;

struct Log {
  struct Entry {
    uint64_t address;
    std::vector<uint8_t> bytes;
  };
  static std::vector<Entry> parse(const uint8_t* log, uint64_t size) {
    std::vector<Entry> entries;
    uint64_t at = 0;
    while (at < size) {
      ForwardedMemory::WriteHeader header;
      std::memcpy(&header, log + at, sizeof header);
      at += sizeof header;
      entries.push_back({header.address, std::vector<uint8_t>(log + at, log + at + header.length)});
      at += (header.length + 7) & ~uint64_t{7};
    }
    return entries;
  }
};

TEST(ForwardedMemory, ReadsInsideARangeAndMissesOutside) {
  const uint8_t bytes[] = {1, 2, 3, 4, 5, 6, 7, 8};
  ForwardedMemory::Range ranges[] = {{0x1000, 8, bytes, 8}};
  uint8_t log[64];
  ForwardedMemory memory(ranges, 1, 0x9000, log, sizeof log);
  uint8_t out[4] = {};
  ASSERT_TRUE(memory.read(out, 0x1002, 4).ok());
  EXPECT_EQ(out[0], 3);
  EXPECT_EQ(out[3], 6);
  EXPECT_FALSE(memory.missed());
  // Crossing the end of the range is a miss of the whole read, not a partial copy.
  auto crossing = memory.read(out, 0x1006, 4);
  ASSERT_FALSE(crossing.ok());
  EXPECT_EQ(crossing.error().code, rt::kEFAULT);
  ASSERT_TRUE(memory.missed());
  EXPECT_EQ(memory.miss().address, 0x1006u);
  EXPECT_EQ(memory.miss().length, 4u);
  // Only the first miss is kept.
  (void)memory.read(out, 0x5000, 2);
  EXPECT_EQ(memory.miss().address, 0x1006u);
}

TEST(ForwardedMemory, TheFaultedTailOfARangeIsEfaultWithoutAMiss) {
  const uint8_t bytes[] = {9, 9};
  ForwardedMemory::Range ranges[] = {{0x2000, 16, bytes, 2}};
  uint8_t log[64];
  ForwardedMemory memory(ranges, 1, 0, log, sizeof log);
  uint8_t out[4];
  ASSERT_TRUE(memory.read(out, 0x2000, 2).ok());
  auto tail = memory.read(out, 0x2001, 2);
  ASSERT_FALSE(tail.ok());
  EXPECT_EQ(tail.error().code, rt::kEFAULT);
  EXPECT_FALSE(memory.missed());
  EXPECT_TRUE(memory.prefetch(0x2000, 16).ok());  // covered, even if partly unreadable
}

TEST(ForwardedMemory, TheLatestRangeWins) {
  const uint8_t small[] = {1};
  const uint8_t large[] = {2, 3, 4, 5};
  ForwardedMemory::Range ranges[] = {{0x3000, 1, small, 1}, {0x3000, 4, large, 4}};
  uint8_t log[64];
  ForwardedMemory memory(ranges, 2, 0, log, sizeof log);
  uint8_t out[4];
  ASSERT_TRUE(memory.read(out, 0x3000, 4).ok());
  EXPECT_EQ(out[3], 5);
}

TEST(ForwardedMemory, StringsAreAskedForWholeAndStopAtTheirNul) {
  uint8_t log[64];
  ForwardedMemory empty(nullptr, 0, 0, log, sizeof log);
  char name[16];
  ASSERT_FALSE(empty.read_string(name, 0x4000, 16).ok());
  ASSERT_TRUE(empty.missed());
  EXPECT_EQ(empty.miss().length, 16u);

  const uint8_t text[] = {'G', 'P', 'L', 0, 'x'};
  ForwardedMemory::Range ranges[] = {{0x4000, 16, text, 5}};
  ForwardedMemory memory(ranges, 1, 0, log, sizeof log);
  auto length = memory.read_string(name, 0x4000, 16);
  ASSERT_TRUE(length.ok());
  EXPECT_EQ(*length, 3u);
  EXPECT_STREQ(name, "GPL");
  // A string running into the faulted part is EFAULT, as strncpy_from_user.
  const uint8_t unterminated[] = {'a', 'b'};
  ForwardedMemory::Range cut[] = {{0x4000, 16, unterminated, 2}};
  ForwardedMemory faulting(cut, 1, 0, log, sizeof log);
  auto faulted = faulting.read_string(name, 0x4000, 16);
  ASSERT_FALSE(faulted.ok());
  EXPECT_FALSE(faulting.missed());
}

TEST(ForwardedMemory, WritesAndAttrFieldsGoToTheLogInOrder) {
  uint8_t log[128];
  ForwardedMemory memory(nullptr, 0, 0x7000, log, sizeof log);
  const uint8_t value[] = {0xaa, 0xbb, 0xcc};
  ASSERT_TRUE(memory.write(0x6000, value, 3).ok());
  uint32_t count = 5;
  ASSERT_TRUE(memory.write_attr(48, &count, sizeof count).ok());
  auto entries = Log::parse(log, memory.log_size());
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].address, 0x6000u);
  EXPECT_EQ(entries[0].bytes, std::vector<uint8_t>({0xaa, 0xbb, 0xcc}));
  EXPECT_EQ(entries[1].address, 0x7000u + 48);
  EXPECT_EQ(entries[1].bytes.size(), 4u);
}

TEST(ForwardedMemory, AWriteThatDoesNotFitOverflows) {
  uint8_t log[32];
  ForwardedMemory memory(nullptr, 0, 0, log, sizeof log);
  uint8_t big[40] = {};
  auto r = memory.write(0x1000, big, sizeof big);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, rt::kEFAULT);
  EXPECT_TRUE(memory.overflowed());
  EXPECT_EQ(memory.log_size(), 0u);
}

TEST(ForwardedMemory, WriteRoomIsWhatOneMoreWriteMayCarry) {
  uint8_t log[64];
  ForwardedMemory memory(nullptr, 0, 0, log, sizeof log);
  EXPECT_EQ(memory.write_room(), 64u - sizeof(ForwardedMemory::WriteHeader));
  uint8_t bytes[8] = {};
  ASSERT_TRUE(memory.write(0x1000, bytes, 3).ok());  // a header and 8 padded bytes
  EXPECT_EQ(memory.write_room(), 64u - 24 - sizeof(ForwardedMemory::WriteHeader));
  ASSERT_TRUE(memory.write(0x2000, bytes, memory.write_room()).ok());
  EXPECT_EQ(memory.write_room(), 0u);
  EXPECT_FALSE(memory.overflowed());
}

TEST(ForwardedMemory, AWrappingAddressIsAFaultNotAMiss) {
  uint8_t log[32];
  ForwardedMemory memory(nullptr, 0, 0, log, sizeof log);
  uint8_t out[8];
  ASSERT_FALSE(memory.read(out, UINT64_MAX - 2, 8).ok());
  EXPECT_FALSE(memory.missed());
}

}  // namespace
