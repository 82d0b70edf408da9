// SPDX-License-Identifier: MIT
// Linux's AT_* values of the *at system calls (dfd and flags arguments), as the VFS's system
// calls read them.
#pragma once

#include <stdint.h>

namespace posix {

inline constexpr int kAtFdCwd = -100;
inline constexpr uint64_t kAtSymlinkNoFollow = 0x100, kAtRemoveDir = 0x200, kAtEmptyPath = 0x1000;
inline constexpr uint64_t kAtEaccess = 0x200;  // faccessat2 (the same bit as AT_REMOVEDIR)

}  // namespace posix
