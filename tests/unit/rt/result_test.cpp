// SPDX-License-Identifier: MIT
// rt::Result and TRY: values and errors propagate, for Result<T> and Result<void> alike.
#include "rt/result.hpp"

#include <gtest/gtest.h>

namespace {

rt::Result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return rt::err(EINVAL, "not a digit");
  return c - '0';
}

rt::Result<void> check_even(int value) {
  if (value % 2 != 0) return rt::err(EDOM);
  return {};
}

int steps_done = 0;

rt::Result<int> twice_if_even(char c) {
  steps_done = 0;
  int value = TRY(parse_digit(c));
  steps_done = 1;
  TRY(check_even(value));
  steps_done = 2;
  return value * 2;
}

TEST(Result, TryPassesValuesOn) {
  auto result = twice_if_even('4');
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, 8);
  EXPECT_EQ(steps_done, 2);
}

TEST(Result, TryReturnsTheFirstErrorOfAValueResult) {
  auto result = twice_if_even('x');
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, EINVAL);
  EXPECT_STREQ(result.error().message, "not a digit");
  EXPECT_EQ(steps_done, 0);
}

TEST(Result, TryReturnsTheErrorOfAVoidResult) {
  auto result = twice_if_even('3');
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, EDOM);
  EXPECT_EQ(steps_done, 1);
}

}  // namespace
