// SPDX-License-Identifier: MIT
// The mount table as /proc/mounts shows it.
#pragma once

#include <stddef.h>

namespace posix {

struct Mount {
  char source[64];
  char target[128];
  char type[16];
};
inline constexpr size_t kMaxMounts = 32;

const Mount* mount_table(size_t& count);

}  // namespace posix
