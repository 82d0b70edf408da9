// SPDX-License-Identifier: MIT
// The check macros the Linux test programs share: each check counts as passed or failed and a
// failure prints its name, line and errno.
#ifndef SONDE_LINUX_TESTS_CHECKS_H
#define SONDE_LINUX_TESTS_CHECKS_H

#include <errno.h>
#include <stdio.h>

static int passed, failed;

#define CHECK(name, condition)                                        \
  do {                                                                \
    if (condition) {                                                  \
      ++passed;                                                       \
    } else {                                                          \
      ++failed;                                                       \
      printf("FAIL %s (line %d, errno %d)\n", name, __LINE__, errno); \
    }                                                                 \
  } while (0)

#define CHECK_ERRNO(name, call, expected)              \
  do {                                                 \
    errno = 0;                                         \
    long result_ = (long)(call);                       \
    CHECK(name, result_ == -1 && errno == (expected)); \
  } while (0)

#endif
