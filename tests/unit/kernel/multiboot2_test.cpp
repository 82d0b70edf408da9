// SPDX-License-Identifier: MIT
// Multiboot2 boot information: tags parsed; truncated or lying tags refused.
#include "kernel/multiboot2.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

class InfoBuilder {
 public:
  InfoBuilder() { bytes_.resize(8, 0); }
  InfoBuilder& command_line(const std::string& text) {
    std::vector<uint8_t> payload(text.begin(), text.end());
    payload.push_back(0);
    return tag(1, payload);
  }
  InfoBuilder& module(uint32_t start, uint32_t end, const std::string& name) {
    std::vector<uint8_t> payload(8);
    std::memcpy(&payload[0], &start, 4);
    std::memcpy(&payload[4], &end, 4);
    payload.insert(payload.end(), name.begin(), name.end());
    payload.push_back(0);
    return tag(3, payload);
  }
  InfoBuilder& memory_map(const std::vector<std::tuple<uint64_t, uint64_t, uint32_t>>& entries) {
    std::vector<uint8_t> payload(8, 0);
    uint32_t entry_size = 24;
    std::memcpy(&payload[0], &entry_size, 4);
    for (auto [start, length, type] : entries) {
      uint8_t e[24] = {};
      std::memcpy(e, &start, 8);
      std::memcpy(e + 8, &length, 8);
      std::memcpy(e + 16, &type, 4);
      payload.insert(payload.end(), e, e + 24);
    }
    return tag(6, payload);
  }
  InfoBuilder& tag(uint32_t type, const std::vector<uint8_t>& payload) {
    uint32_t size = 8 + payload.size();
    size_t at = bytes_.size();
    bytes_.resize(at + ((size + 7) & ~7u), 0);
    std::memcpy(&bytes_[at], &type, 4);
    std::memcpy(&bytes_[at + 4], &size, 4);
    std::memcpy(&bytes_[at + 8], payload.data(), payload.size());
    return *this;
  }
  std::vector<uint8_t> finish() {
    tag(0, {});
    uint32_t total = bytes_.size();
    std::memcpy(&bytes_[0], &total, 4);
    return bytes_;
  }

 private:
  std::vector<uint8_t> bytes_;
};

TEST(Multiboot2, ParsesMemoryMapModulesAndCommandLine) {
  auto info = InfoBuilder()
                  .command_line("sonde.test=kernel_page_fault quiet")
                  .module(0x200000, 0x210000, "root arg")
                  .module(0x300000, 0x310000, "symbols")
                  .memory_map({{0, 0x9fc00, 1}, {0x100000, 0x7f00000, 1}, {0xfffc0000, 0x40000, 2}})
                  .finish();
  kernel::BootInfo boot;
  ASSERT_EQ(kernel::parse_boot_info(info.data(), info.size(), boot), kernel::BootInfoError::kNone);
  EXPECT_STREQ(boot.command_line, "sonde.test=kernel_page_fault quiet");
  ASSERT_EQ(boot.region_count, 3u);
  EXPECT_TRUE(boot.regions[1].usable);
  EXPECT_FALSE(boot.regions[2].usable);
  EXPECT_EQ(boot.regions[1].length, 0x7f00000u);
  ASSERT_EQ(boot.module_count, 2u);
  const kernel::BootModule* root = boot.find_module("root");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->start, 0x200000u);
  EXPECT_EQ(boot.find_module("symbols")->end, 0x310000u);
  EXPECT_EQ(boot.find_module("roo"), nullptr);
  EXPECT_EQ(boot.find_module("root arg x"), nullptr);
  EXPECT_TRUE(kernel::command_line_has(boot.command_line, "quiet"));
  EXPECT_TRUE(kernel::command_line_has(boot.command_line, "sonde.test=kernel_page_fault"));
  EXPECT_FALSE(kernel::command_line_has(boot.command_line, "sonde.test=kernel"));
  EXPECT_FALSE(kernel::command_line_has(boot.command_line, ""));
}

TEST(Multiboot2, RejectsBadTotalSize) {
  auto info = InfoBuilder().memory_map({{0, 0x1000, 1}}).finish();
  kernel::BootInfo boot;
  EXPECT_EQ(kernel::parse_boot_info(info.data(), 4, boot), kernel::BootInfoError::kTooSmall);
  EXPECT_EQ(kernel::parse_boot_info(info.data(), info.size() - 8, boot),
            kernel::BootInfoError::kBadTotalSize);
  uint32_t odd = info.size() - 3;
  std::memcpy(info.data(), &odd, 4);
  EXPECT_EQ(kernel::parse_boot_info(info.data(), info.size(), boot),
            kernel::BootInfoError::kBadTotalSize);
}

TEST(Multiboot2, RejectsTagRunningPastTheEnd) {
  auto info = InfoBuilder().memory_map({{0, 0x1000, 1}}).finish();
  uint32_t huge = 0x10000;
  std::memcpy(&info[12], &huge, 4);  // first tag's size
  kernel::BootInfo boot;
  EXPECT_EQ(kernel::parse_boot_info(info.data(), info.size(), boot),
            kernel::BootInfoError::kTagOutOfBounds);
}

TEST(Multiboot2, RejectsMissingEndTag) {
  auto info = InfoBuilder().memory_map({{0, 0x1000, 1}}).finish();
  info.resize(info.size() - 8);  // drop the end tag
  uint32_t total = info.size();
  std::memcpy(info.data(), &total, 4);
  kernel::BootInfo boot;
  EXPECT_EQ(kernel::parse_boot_info(info.data(), info.size(), boot),
            kernel::BootInfoError::kTagOutOfBounds);
}

TEST(Multiboot2, RejectsUnterminatedStringsAndBadModules) {
  kernel::BootInfo boot;
  auto unterminated = InfoBuilder().tag(1, {'a', 'b', 'c'}).memory_map({{0, 0x1000, 1}}).finish();
  EXPECT_EQ(kernel::parse_boot_info(unterminated.data(), unterminated.size(), boot),
            kernel::BootInfoError::kUnterminatedString);
  auto backwards =
      InfoBuilder().module(0x300000, 0x200000, "root").memory_map({{0, 0x1000, 1}}).finish();
  EXPECT_EQ(kernel::parse_boot_info(backwards.data(), backwards.size(), boot),
            kernel::BootInfoError::kBadTag);
}

TEST(Multiboot2, RequiresAMemoryMap) {
  auto info = InfoBuilder().command_line("x").finish();
  kernel::BootInfo boot;
  EXPECT_EQ(kernel::parse_boot_info(info.data(), info.size(), boot),
            kernel::BootInfoError::kNoMemoryMap);
}

TEST(Multiboot2, RejectsTooManyModules) {
  InfoBuilder builder;
  for (size_t i = 0; i <= kernel::kMaxModules; ++i) builder.module(0x1000 * i, 0x1000 * i + 1, "m");
  auto info = builder.memory_map({{0, 0x1000, 1}}).finish();
  kernel::BootInfo boot;
  EXPECT_EQ(kernel::parse_boot_info(info.data(), info.size(), boot),
            kernel::BootInfoError::kTooManyModules);
}

}  // namespace
