// SPDX-License-Identifier: MIT
// rt::format_to: the conversions kernel and servers rely on, and truncation.
#include "rt/format.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace {

std::string fmt(const char* format, auto... args) {
  char buffer[128];
  rt::format_to(buffer, sizeof(buffer), format, args...);
  return buffer;
}

TEST(Format, Integers) {
  EXPECT_EQ(fmt("%d %i %u", -42, 7, 4000000000u), "-42 7 4000000000");
  EXPECT_EQ(fmt("%ld", INT64_MIN), "-9223372036854775808");
  EXPECT_EQ(fmt("%lu", UINT64_MAX), "18446744073709551615");
  EXPECT_EQ(fmt("%x %X %lx", 255u, 255u, 0xdeadbeefcafeull), "ff FF deadbeefcafe");
  EXPECT_EQ(fmt("%016lx|%4d|%04u", 0x1234ul, 7, 9u), "0000000000001234|   7|0009");
}

TEST(Format, StringsCharsPointersPercent) {
  EXPECT_EQ(fmt("%s-%c-%%", "abc", 'z'), "abc-z-%");
  EXPECT_EQ(fmt("%s", static_cast<const char*>(nullptr)), "(null)");
  EXPECT_EQ(fmt("%p", reinterpret_cast<void*>(0x1000)), "0x0000000000001000");
}

TEST(Format, TruncatesAndReportsFullLength) {
  char buffer[6];
  EXPECT_EQ(rt::format_to(buffer, sizeof(buffer), "%s", "hello world"), 11u);
  EXPECT_STREQ(buffer, "hello");
}

}  // namespace
