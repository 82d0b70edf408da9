// SPDX-License-Identifier: MIT
// Multiboot2 boot information parsing with bounds checks on every tag.
#include "kernel/multiboot2.hpp"

namespace kernel {
namespace {

constexpr uint32_t kTagEnd = 0;
constexpr uint32_t kTagCommandLine = 1;
constexpr uint32_t kTagModule = 3;
constexpr uint32_t kTagMemoryMap = 6;

uint32_t read32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}
uint64_t read64(const uint8_t* p) { return uint64_t{read32(p)} | (uint64_t{read32(p + 4)} << 32); }

bool terminated(const uint8_t* text, size_t length) {
  for (size_t i = 0; i < length; ++i) {
    if (text[i] == 0) return true;
  }
  return false;
}

}  // namespace

const char* boot_info_error_message(BootInfoError error) {
  switch (error) {
    case BootInfoError::kNone: return "no error";
    case BootInfoError::kTooSmall: return "boot information is too small";
    case BootInfoError::kBadTotalSize: return "boot information total size is invalid";
    case BootInfoError::kTagOutOfBounds: return "a boot information tag runs past its end";
    case BootInfoError::kBadTag: return "a boot information tag is malformed";
    case BootInfoError::kUnterminatedString: return "a boot information string is not terminated";
    case BootInfoError::kTooManyRegions: return "too many memory map entries";
    case BootInfoError::kTooManyModules: return "too many boot modules";
    case BootInfoError::kNoMemoryMap: return "no memory map in the boot information";
  }
  return "unknown boot information error";
}

BootInfoError parse_boot_info(const uint8_t* data, size_t available, BootInfo& out) {
  if (available < 8) return BootInfoError::kTooSmall;
  uint32_t total = read32(data);
  if (total < 16 || total > available || total % 8 != 0) return BootInfoError::kBadTotalSize;
  out.region_count = 0;
  out.module_count = 0;
  out.command_line = "";
  bool memory_map_seen = false;

  size_t offset = 8;
  for (;;) {
    if (total - offset < 8) return BootInfoError::kTagOutOfBounds;
    const uint8_t* tag = data + offset;
    uint32_t type = read32(tag);
    uint32_t size = read32(tag + 4);
    if (size < 8 || size > total - offset) return BootInfoError::kTagOutOfBounds;
    if (type == kTagEnd) break;
    if (type == kTagCommandLine) {
      if (!terminated(tag + 8, size - 8)) return BootInfoError::kUnterminatedString;
      out.command_line = reinterpret_cast<const char*>(tag + 8);
    } else if (type == kTagModule) {
      if (size < 17) return BootInfoError::kBadTag;
      if (!terminated(tag + 16, size - 16)) return BootInfoError::kUnterminatedString;
      if (out.module_count == kMaxModules) return BootInfoError::kTooManyModules;
      BootModule& module = out.modules[out.module_count++];
      module.start = read32(tag + 8);
      module.end = read32(tag + 12);
      module.command_line = reinterpret_cast<const char*>(tag + 16);
      if (module.end < module.start) return BootInfoError::kBadTag;
    } else if (type == kTagMemoryMap) {
      if (size < 16) return BootInfoError::kBadTag;
      uint32_t entry_size = read32(tag + 8);
      if (entry_size < 24 || entry_size % 8 != 0) return BootInfoError::kBadTag;
      for (size_t at = 16; at + entry_size <= size; at += entry_size) {
        if (out.region_count == kMaxMemoryRegions) return BootInfoError::kTooManyRegions;
        MemoryRegion& region = out.regions[out.region_count++];
        region.start = read64(tag + at);
        region.length = read64(tag + at + 8);
        region.usable = read32(tag + at + 16) == 1;
      }
      memory_map_seen = true;
    }
    offset += (size + 7) & ~size_t{7};
    if (offset > total) return BootInfoError::kTagOutOfBounds;
  }
  if (!memory_map_seen) return BootInfoError::kNoMemoryMap;
  return BootInfoError::kNone;
}

bool command_line_has(const char* line, const char* word) {
  if (line == nullptr || word == nullptr || word[0] == 0) return false;
  const char* p = line;
  while (*p != 0) {
    while (*p == ' ') ++p;
    const char* w = word;
    const char* q = p;
    while (*w != 0 && *q == *w) {
      ++q;
      ++w;
    }
    if (*w == 0 && (*q == ' ' || *q == 0)) return true;
    while (*p != ' ' && *p != 0) ++p;
  }
  return false;
}

const BootModule* BootInfo::find_module(const char* name) const {
  for (size_t i = 0; i < module_count; ++i) {
    const char* line = modules[i].command_line;
    // Compare the first word only; the rest are the module's own arguments.
    size_t k = 0;
    while (name[k] != 0 && line[k] == name[k]) ++k;
    if (name[k] == 0 && (line[k] == 0 || line[k] == ' ')) return &modules[i];
  }
  return nullptr;
}

}  // namespace kernel
