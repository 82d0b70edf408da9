// SPDX-License-Identifier: MIT
// Multiboot2 boot information: validated memory map, modules and command line.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace kernel {

inline constexpr uint32_t kMultiboot2Magic = 0x36d76289;
inline constexpr size_t kMaxMemoryRegions = 64;
inline constexpr size_t kMaxModules = 16;

struct MemoryRegion {
  uint64_t start;
  uint64_t length;
  bool usable;  // type 1 (available RAM)
};

struct BootModule {
  uint64_t start;            // physical
  uint64_t end;              // physical, exclusive
  const char* command_line;  // points into the boot information
};

struct BootInfo {
  const char* command_line = "";
  MemoryRegion regions[kMaxMemoryRegions];
  size_t region_count = 0;
  BootModule modules[kMaxModules];
  size_t module_count = 0;

  // The module whose command line's first word is `name`, or nullptr.
  const BootModule* find_module(const char* name) const;
};

enum class BootInfoError : uint8_t {
  kNone,
  kTooSmall,
  kBadTotalSize,
  kTagOutOfBounds,
  kBadTag,
  kUnterminatedString,
  kTooManyRegions,
  kTooManyModules,
  kNoMemoryMap,
};

const char* boot_info_error_message(BootInfoError error);

// Parses the boot information at `data` (already mapped), which is at most `available` bytes.
BootInfoError parse_boot_info(const uint8_t* data, size_t available, BootInfo& out);

// True when the command line contains the word `word` (space-separated).
bool command_line_has(const char* command_line, const char* word);

}  // namespace kernel
