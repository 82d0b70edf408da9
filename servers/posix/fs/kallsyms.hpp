// SPDX-License-Identifier: MIT
// /proc/kallsyms from the POSIX server's own ELF and the kernel's (mapped by the root task).
#pragma once

#include "rt/result.hpp"
#include "sys/server_start.hpp"
#include "vfs/inode.hpp"

namespace posix {

// Writes /proc/kallsyms once, at start (the symbols never change).
rt::Result<void> make_kallsyms(FileTree& tree, const sys::ServerStartInfo& info);

}  // namespace posix
