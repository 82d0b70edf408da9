// SPDX-License-Identifier: MIT
// load_executable and copy_from_user over simulated physical memory.
#include "kernel/loader.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "simulated_memory.hpp"

namespace {

using namespace kernel;
using kernel_test::SimulatedMemory;

constexpr uint64_t kStackTop = 0x00007ffffffff000ull;

struct LoaderTest : ::testing::Test {
  SimulatedMemory memory{128};
  PageTable table{memory.source(), SimulatedMemory::allocate(&memory)};
  std::vector<uint8_t> image = std::vector<uint8_t>(0x4000);
  elf::Executable executable{};

  LoaderTest() {
    for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<uint8_t>(i * 7 + 1);
  }
  void add(uint64_t address, uint64_t memory_size, uint64_t offset, uint64_t file_size,
           uint32_t flags) {
    executable.segments[executable.segment_count++] =
        elf::Segment{address, memory_size, offset, file_size, flags};
  }
  uint8_t byte_at(uint64_t address) {
    uint64_t physical = 0;
    EXPECT_TRUE(table.translate(address, &physical, nullptr)) << std::hex << address;
    return *memory.bytes(physical);
  }
  uint64_t flags_at(uint64_t address) {
    uint64_t flags = 0;
    EXPECT_TRUE(table.translate(address, nullptr, &flags)) << std::hex << address;
    return flags;
  }
};

TEST_F(LoaderTest, CopiesFileBytesAndZeroesTheRest) {
  // Data starting mid-page, 0x1800 bytes from the file, 0x3000 in memory (bss after).
  add(0x600100, 0x3000, 0x100, 0x1800, elf::kFlagRead | elf::kFlagWrite);
  ASSERT_EQ(load_executable(table, executable, image.data(), kStackTop, 2, nullptr),
            LoadError::kNone);
  EXPECT_EQ(byte_at(0x600100), image[0x100]);
  EXPECT_EQ(byte_at(0x600fff), image[0xfff]);
  EXPECT_EQ(byte_at(0x601000), image[0x1000]);
  EXPECT_EQ(byte_at(0x6018ff), image[0x18ff]);
  EXPECT_EQ(byte_at(0x601900), 0);  // first bss byte
  EXPECT_EQ(byte_at(0x6030ff), 0);  // last bss byte
  EXPECT_EQ(byte_at(0x600000), 0);  // before the segment, same page
  EXPECT_FALSE(table.translate(0x604000, nullptr, nullptr));
}

TEST_F(LoaderTest, PermissionsFollowSegmentFlags) {
  add(0x400000, 0x1000, 0x0, 0x1000, elf::kFlagRead | elf::kFlagExecute);
  add(0x401000, 0x1000, 0x1000, 0x1000, elf::kFlagRead);
  add(0x402000, 0x1000, 0x2000, 0x1000, elf::kFlagRead | elf::kFlagWrite);
  ASSERT_EQ(load_executable(table, executable, image.data(), kStackTop, 1, nullptr),
            LoadError::kNone);
  uint64_t text = flags_at(0x400000), rodata = flags_at(0x401000), data = flags_at(0x402000);
  EXPECT_TRUE((text & page::kUser) && !(text & page::kWritable) && !(text & page::kNoExecute));
  EXPECT_TRUE((rodata & page::kUser) && !(rodata & page::kWritable) && (rodata & page::kNoExecute));
  EXPECT_TRUE((data & page::kUser) && (data & page::kWritable) && (data & page::kNoExecute));
}

TEST_F(LoaderTest, SegmentsSharingAPageShareItsFrameWithUnitedPermissions) {
  add(0x400000, 0x1800, 0x0, 0x1800, elf::kFlagRead | elf::kFlagExecute);
  add(0x401800, 0x1000, 0x1800, 0x800, elf::kFlagRead | elf::kFlagWrite);
  ASSERT_EQ(load_executable(table, executable, image.data(), kStackTop, 1, nullptr),
            LoadError::kNone);
  uint64_t shared = flags_at(0x401000);
  EXPECT_TRUE(shared & page::kWritable);
  EXPECT_FALSE(shared & page::kNoExecute);
  EXPECT_EQ(byte_at(0x4017ff), image[0x17ff]);  // from the text segment
  EXPECT_EQ(byte_at(0x401800), image[0x1800]);  // from the data segment
  EXPECT_EQ(byte_at(0x402000), 0);              // data's bss, next page
  EXPECT_FALSE(flags_at(0x400000) & page::kWritable);
  EXPECT_TRUE(flags_at(0x402000) & page::kNoExecute);
}

TEST_F(LoaderTest, MapsAWritableNonExecutableStackBelowTheTop) {
  add(0x400000, 0x1000, 0x0, 0x1000, elf::kFlagRead | elf::kFlagExecute);
  ASSERT_EQ(load_executable(table, executable, image.data(), kStackTop, 4, nullptr),
            LoadError::kNone);
  for (uint64_t i = 1; i <= 4; ++i) {
    uint64_t flags = flags_at(kStackTop - i * page::kSize);
    EXPECT_TRUE((flags & page::kUser) && (flags & page::kWritable) && (flags & page::kNoExecute));
  }
  EXPECT_FALSE(table.translate(kStackTop - 5 * page::kSize, nullptr, nullptr));
  EXPECT_FALSE(table.translate(kStackTop, nullptr, nullptr));
}

TEST_F(LoaderTest, ReportsOutOfMemoryWithThePage) {
  SimulatedMemory tiny(8);  // frames 1-7: root, 3 pages and 3 tables, then nothing
  PageTable small(tiny.source(), SimulatedMemory::allocate(&tiny));
  add(0x400000, 0x10000, 0x0, 0x1000, elf::kFlagRead | elf::kFlagWrite);
  uint64_t failed = 0;
  EXPECT_EQ(load_executable(small, executable, image.data(), kStackTop, 1, &failed),
            LoadError::kNoMemory);
  EXPECT_EQ(failed, 0x403000u);
  EXPECT_STREQ(load_error_message(LoadError::kNoMemory), "out of memory");
}

TEST_F(LoaderTest, CopyFromUserCrossesPagesAndChecksEveryOne) {
  add(0x400000, 0x2000, 0x0, 0x2000, elf::kFlagRead | elf::kFlagWrite);
  ASSERT_EQ(load_executable(table, executable, image.data(), kStackTop, 1, nullptr),
            LoadError::kNone);
  uint8_t buffer[0x200];
  ASSERT_TRUE(copy_from_user(table, buffer, 0x400f00, sizeof(buffer)));
  EXPECT_EQ(std::memcmp(buffer, &image[0xf00], sizeof(buffer)), 0);
  EXPECT_TRUE(copy_from_user(table, buffer, 0x401f00, 0x100));   // ends exactly at the end
  EXPECT_FALSE(copy_from_user(table, buffer, 0x401f00, 0x101));  // one byte past the end
  EXPECT_FALSE(copy_from_user(table, buffer, 0x3fffff, 2));      // starts before
  EXPECT_TRUE(copy_from_user(table, buffer, 0x1000, 0));         // nothing to read
}

TEST_F(LoaderTest, CopyFromUserRefusesKernelPagesAndWrappingRanges) {
  ASSERT_EQ(table.map(0xffff800000001000ull, 0x9000, page::kWritable), MapError::kNone);
  ASSERT_EQ(table.map(0x7ffffffff000ull, 0xa000, page::kWritable | page::kUser), MapError::kNone);
  // A kernel page at a user address (no user bit) is refused as well.
  ASSERT_EQ(table.map(0x500000, 0xb000, page::kWritable), MapError::kNone);
  uint8_t buffer[16];
  EXPECT_FALSE(copy_from_user(table, buffer, 0xffff800000001000ull, 8));
  EXPECT_FALSE(copy_from_user(table, buffer, 0x500000, 8));
  EXPECT_TRUE(copy_from_user(table, buffer, 0x7ffffffffff0ull, 16));
  EXPECT_FALSE(copy_from_user(table, buffer, 0x7ffffffffff0ull, 17));  // past user space
  EXPECT_FALSE(copy_from_user(table, buffer, 0x7ffffffffff0ull, ~size_t{0}));
}

}  // namespace

namespace {

TEST_F(LoaderTest, CopyToUserNeedsWritableUserPagesAndWritesNothingOnFailure) {
  ASSERT_EQ(table.map(0x600000, 0xc000, page::kWritable | page::kUser), MapError::kNone);
  ASSERT_EQ(table.map(0x601000, 0xd000, page::kUser), MapError::kNone);      // read-only
  ASSERT_EQ(table.map(0x602000, 0xe000, page::kWritable), MapError::kNone);  // kernel only
  uint8_t data[32];
  for (size_t i = 0; i < sizeof(data); ++i) data[i] = static_cast<uint8_t>(i + 1);
  ASSERT_TRUE(copy_to_user(table, 0x600ff0, data, 16));
  uint8_t back[16] = {};
  ASSERT_TRUE(copy_from_user(table, back, 0x600ff0, 16));
  EXPECT_EQ(std::memcmp(back, data, 16), 0);
  // Crossing into the read-only page fails, and the writable part stays as it was.
  EXPECT_FALSE(copy_to_user(table, 0x600ff0, data + 16, 32));
  ASSERT_TRUE(copy_from_user(table, back, 0x600ff0, 16));
  EXPECT_EQ(std::memcmp(back, data, 16), 0);
  EXPECT_FALSE(copy_to_user(table, 0x602000, data, 8));
  EXPECT_FALSE(copy_to_user(table, 0x700000, data, 8));               // unmapped
  EXPECT_FALSE(copy_to_user(table, 0xffff800000000000ull, data, 8));  // kernel half
  EXPECT_FALSE(copy_to_user(table, 0x7ffffffffff8ull, data, 16));     // past user space
}

}  // namespace
