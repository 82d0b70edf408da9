// SPDX-License-Identifier: MIT
// The record of what mappings map (/proc/<pid>/maps): cuts by munmap and MAP_FIXED keep the
// file offsets right; the boundaries the maps renderer splits areas at.
#include "mm/file_maps.hpp"

#include <gtest/gtest.h>

namespace posix::mm {
namespace {

constexpr uint64_t kPage = 4096;
const Inode* const kFile = reinterpret_cast<const Inode*>(0x1000);
const Inode* const kOther = reinterpret_cast<const Inode*>(0x2000);

TEST(FileMaps, FindsWhatWasAdded) {
  FileMaps maps;
  maps.add(0x400000, 0x403000, kFile, 0x1000, false);
  const FileMapping* m = maps.find(0x401234);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->inode, kFile);
  EXPECT_EQ(m->offset, 0x1000u);
  EXPECT_FALSE(m->shared);
  EXPECT_EQ(maps.find(0x403000), nullptr);
  EXPECT_EQ(maps.find(0x3ff000), nullptr);
}

TEST(FileMaps, RemovingTheMiddleLeavesTwoPiecesWithTheirOffsets) {
  FileMaps maps;
  maps.add(0x10000, 0x10000 + 4 * kPage, kFile, 0x2000, false);
  maps.remove(0x10000 + kPage, 0x10000 + 2 * kPage);
  const FileMapping* before = maps.find(0x10000);
  const FileMapping* after = maps.find(0x10000 + 2 * kPage);
  ASSERT_NE(before, nullptr);
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(before->end, 0x10000 + kPage);
  EXPECT_EQ(before->offset, 0x2000u);
  EXPECT_EQ(after->start, 0x10000 + 2 * kPage);
  EXPECT_EQ(after->offset, 0x2000 + 2 * kPage);
  EXPECT_EQ(maps.find(0x10000 + kPage), nullptr);
}

TEST(FileMaps, AddingOverARecordReplacesThatPart) {
  FileMaps maps;
  maps.add(0x10000, 0x10000 + 3 * kPage, kFile, 0, false);
  maps.add(0x10000 + kPage, 0x10000 + 2 * kPage, kOther, 0x5000, true);
  EXPECT_EQ(maps.find(0x10000)->inode, kFile);
  EXPECT_EQ(maps.find(0x10000 + kPage)->inode, kOther);
  EXPECT_EQ(maps.find(0x10000 + kPage)->offset, 0x5000u);
  EXPECT_TRUE(maps.find(0x10000 + kPage)->shared);
  EXPECT_EQ(maps.find(0x10000 + 2 * kPage)->inode, kFile);
  EXPECT_EQ(maps.find(0x10000 + 2 * kPage)->offset, 2 * kPage);
}

TEST(FileMaps, NamedAnonymousMappingsKeepTheirName) {
  FileMaps maps;
  maps.add(0x20000, 0x22000, nullptr, 0, true, "anon_inode:bpf-map");
  maps.remove(0x20000, 0x21000);
  const FileMapping* m = maps.find(0x21000);
  ASSERT_NE(m, nullptr);
  EXPECT_STREQ(m->name, "anon_inode:bpf-map");
  EXPECT_EQ(m->offset, kPage);
}

TEST(FileMaps, BoundariesInsideARange) {
  FileMaps maps;
  maps.add(0x10000, 0x12000, kFile, 0, false);
  maps.add(0x14000, 0x15000, kOther, 0, false);
  EXPECT_EQ(maps.next_boundary(0x8000, 0x20000), 0x10000u);
  EXPECT_EQ(maps.next_boundary(0x10000, 0x20000), 0x12000u);
  EXPECT_EQ(maps.next_boundary(0x12000, 0x20000), 0x14000u);
  EXPECT_EQ(maps.next_boundary(0x15000, 0x20000), 0x20000u);
  EXPECT_EQ(maps.next_boundary(0x10000, 0x11000), 0x11000u);
}

TEST(FileMaps, AFullTableDropsNewRecordsAndClearEmptiesIt) {
  FileMaps maps;
  for (uint64_t i = 0; i < FileMaps::kMax; ++i) {
    maps.add(0x100000 + 2 * i * kPage, 0x100000 + (2 * i + 1) * kPage, kFile, i * kPage, false);
  }
  maps.add(0x900000, 0x901000, kOther, 0, false);
  EXPECT_EQ(maps.find(0x900000), nullptr);
  EXPECT_NE(maps.find(0x100000), nullptr);
  // Cutting a record in two at the limit keeps the first piece.
  maps.remove(0x100000 + kPage / 2, 0x100000 + kPage / 2 + 1);
  EXPECT_NE(maps.find(0x100000), nullptr);
  maps.clear();
  EXPECT_EQ(maps.find(0x100000), nullptr);
}

}  // namespace
}  // namespace posix::mm
