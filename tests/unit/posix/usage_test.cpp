// SPDX-License-Identifier: MIT
// What a task used (servers/posix/task/usage.hpp): the user/system split of its CPU time and
// the rusage it fills, as Linux's cputime_adjust and getrusage make them.
#include "task/usage.hpp"

#include <gtest/gtest.h>

namespace posix {
namespace {

TEST(CpuTimeSplit, WithoutSystemTicksAllIsUserTime) {
  CpuSplit split = split_cpu_time({123456789, 7, 0});
  EXPECT_EQ(split.user_ns, 123456789u);
  EXPECT_EQ(split.system_ns, 0u);
  split = split_cpu_time({5000, 0, 0});  // no tick at all: user, as cputime_adjust
  EXPECT_EQ(split.user_ns, 5000u);
}

TEST(CpuTimeSplit, WithoutUserTicksAllIsSystemTime) {
  CpuSplit split = split_cpu_time({987654321, 0, 3});
  EXPECT_EQ(split.user_ns, 0u);
  EXPECT_EQ(split.system_ns, 987654321u);
}

TEST(CpuTimeSplit, TheTicksRatioScalesTheNanoseconds) {
  CpuSplit split = split_cpu_time({1000000000, 3, 1});
  EXPECT_EQ(split.system_ns, 250000000u);
  EXPECT_EQ(split.user_ns, 750000000u);
  // Parts always add up to the whole, rounding down the system part.
  split = split_cpu_time({1000, 1, 2});
  EXPECT_EQ(split.system_ns, 666u);
  EXPECT_EQ(split.user_ns + split.system_ns, 1000u);
}

TEST(CpuTimeSplit, LargeTimesDoNotOverflow) {
  // A year of CPU time in ns (about 2^55) over a million ticks.
  uint64_t ns = 31536000ull * 1000000000ull;
  CpuSplit split = split_cpu_time({ns, 600000, 400000});
  EXPECT_EQ(split.system_ns, ns / 1000000 * 400000);
  EXPECT_EQ(split.user_ns + split.system_ns, ns);
  // Past 2^31 ticks the ratio could overflow: all is user time.
  split = split_cpu_time({ns, uint64_t{1} << 31, 5});
  EXPECT_EQ(split.user_ns, ns);
}

TEST(CpuTimeRusage, TimevalsTruncateToMicroseconds) {
  Rusage usage = rusage_of({2345678999, 1, 1});
  EXPECT_EQ(usage.utime_sec + usage.stime_sec, 2);
  EXPECT_EQ(usage.stime_sec, 1);
  EXPECT_EQ(usage.stime_usec, 172839);  // 1172839499 ns
  EXPECT_EQ(usage.utime_sec, 1);
  EXPECT_EQ(usage.utime_usec, 172839);  // 1172839500 ns
  EXPECT_EQ(usage.maxrss, 0);
  EXPECT_EQ(clock_ticks(1999999999), 199u);
}

TEST(TaskUsageSum, AddsEveryPart) {
  TaskUsage a{10, 1, 2, 7, 8};
  a += TaskUsage{5, 3, 4, 1, 2};
  EXPECT_EQ(a.ns, 15u);
  EXPECT_EQ(a.user_ticks, 4u);
  EXPECT_EQ(a.system_ticks, 6u);
  EXPECT_EQ(a.minor_faults, 8u);
  EXPECT_EQ(a.voluntary_switches, 10u);
}

TEST(TaskUsageRusage, CarriesTheFaultAndSwitchCounts) {
  Rusage usage = rusage_of({0, 0, 0, 43, 5});
  EXPECT_EQ(usage.minflt, 43);
  EXPECT_EQ(usage.majflt, 0);
  EXPECT_EQ(usage.nvcsw, 5);
  EXPECT_EQ(usage.nivcsw, 0);
}

}  // namespace
}  // namespace posix
