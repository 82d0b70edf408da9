// SPDX-License-Identifier: MIT
// The initramfs: a cpio "newc" archive unpacked into the file tree (file bytes stay in place).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rt/result.hpp"
#include "vfs/inode.hpp"

namespace posix {

// One archive member as parsed; name and data point into the archive.
struct CpioEntry {
  const char* name;    // NUL-terminated inside the archive
  size_t name_length;  // without the NUL
  uint32_t mode;
  uint32_t uid, gid;
  uint32_t links;
  uint64_t mtime;
  uint32_t device_major, device_minor;  // rdev of device nodes
  const uint8_t* data;
  uint64_t size;
};

// Walks the archive, calling `visit(state, entry)` for every member until "TRAILER!!!".
// Every header field, name and size is checked against the archive's bounds: EINVAL for a
// malformed archive.
using CpioVisitor = rt::Result<void> (*)(void* state, const CpioEntry& entry);
rt::Result<void> parse_cpio(const uint8_t* archive, size_t size, CpioVisitor visit, void* state);

// Unpacks the archive into `tree` (regular files keep pointing into `archive`).
rt::Result<size_t> unpack_initramfs(FileTree& tree, const uint8_t* archive, size_t size);

}  // namespace posix
