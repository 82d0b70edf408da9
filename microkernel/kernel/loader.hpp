// SPDX-License-Identifier: MIT
// Loading an ELF executable into an address space, and reading user memory, over any FrameSource.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "elf/elf64.hpp"
#include "kernel/page_table.hpp"

namespace kernel {

enum class LoadError : uint8_t { kNone, kNoMemory, kMapFailed };
const char* load_error_message(LoadError error);

// The bytes of a whole frame, through the FrameSource's view of physical memory.
inline uint8_t* frame_bytes(const FrameSource& source, uint64_t frame) {
  return reinterpret_cast<uint8_t*>(source.table_at(source.state, frame));
}

// Maps every loadable segment of `executable` (already validated by elf::parse_executable
// against `image`) into `table` as user pages, copies the file bytes and leaves the rest
// zero, then maps `stack_pages` writable pages ending at `stack_top`. Segments sharing a page
// share its frame, with the union of their permissions. Text stays read-only, everything but
// code is no-execute. On error `*failed_address` says which page.
LoadError load_executable(PageTable& table, const elf::Executable& executable, const uint8_t* image,
                          uint64_t stack_top, uint64_t stack_pages, uint64_t* failed_address);

// Copies `length` bytes at `user_address` out of the address space `table`, checking that
// every page is present and user-accessible and that the range stays below user space's end.
bool copy_from_user(const PageTable& table, void* buffer, uint64_t user_address, size_t length);

// Copies `length` bytes into the address space `table` at `user_address`, after checking that
// every page is present, user-accessible and writable (nothing is written if one is not).
bool copy_to_user(const PageTable& table, uint64_t user_address, const void* buffer, size_t length);

}  // namespace kernel
