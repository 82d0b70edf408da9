// SPDX-License-Identifier: MIT
// The check macros the Linux test programs share: each check counts as passed or failed and a
// failure prints its name, line and errno.
#ifndef SONDE_LINUX_TESTS_CHECKS_H
#define SONDE_LINUX_TESTS_CHECKS_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#ifdef CHECKS_SHARED
extern int passed, failed;  // defined by one file of a program made of several
#else
static int passed, failed;
#endif

// CLOCK_MONOTONIC in nanoseconds, for the programs' --bench modes.
static inline uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

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
