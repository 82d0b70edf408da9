// SPDX-License-Identifier: MIT
// ELF64 parsing for x86-64 executables: validated headers, loadable segments and symbols.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace elf {

// Why an image was refused; every value has a message from error_message().
enum class ElfError : uint8_t {
  kNone = 0,
  kTooSmall,
  kBadMagic,
  kNotElf64,
  kNotLittleEndian,
  kBadVersion,
  kNotExecutable,
  kWrongMachine,
  kBadHeaderSize,
  kProgramHeadersOutOfBounds,
  kTooManyProgramHeaders,
  kSegmentOutOfBounds,
  kSegmentFileLargerThanMemory,
  kSegmentAddressOverflow,
  kSegmentNotInUserSpace,
  kSegmentsOverlap,
  kBadSegmentAlignment,
  kNoLoadableSegment,
  kEntryNotInSegment,
  kSectionHeadersOutOfBounds,
  kNoSymbolTable,
  kNoSuchSection,
};

const char* error_message(ElfError error);

inline constexpr uint32_t kSegmentLoad = 1;
inline constexpr uint32_t kFlagExecute = 1;
inline constexpr uint32_t kFlagWrite = 2;
inline constexpr uint32_t kFlagRead = 4;
inline constexpr size_t kMaxSegments = 16;

struct Segment {
  uint64_t virtual_address;
  uint64_t memory_size;
  uint64_t file_offset;
  uint64_t file_size;
  uint32_t flags;  // kFlagRead | kFlagWrite | kFlagExecute
};

struct Executable {
  uint64_t entry;
  size_t segment_count;
  Segment segments[kMaxSegments];
};

struct Limits {
  uint64_t lowest_address;  // segments must lie in [lowest_address, highest_address)
  uint64_t highest_address;
};

// Validates an x86-64 ELF64 executable held in `image` and describes its loadable segments.
// Every offset, size and address is checked against the image and `limits` before use.
ElfError parse_executable(const uint8_t* image, size_t size, const Limits& limits, Executable& out);

// A section's place in memory and in the image.
struct Section {
  uint64_t address = 0;
  uint64_t offset = 0;  // its bytes are image[offset, offset + size) (checked; none for NOBITS)
  uint64_t size = 0;
};

// The section named `name` (by the section-name string table), its bytes inside the image:
// kNoSuchSection when there is none, kSectionHeadersOutOfBounds when a header, the name table
// or the section's bytes lie outside `image`.
ElfError find_section(const uint8_t* image, size_t size, const char* name, Section& out);

// Symbol lookup over an ELF image's .symtab (functions and objects), for panic reports and
// /proc/kallsyms-style listings.
// One symbol of a SymbolTable, for listing them (kallsyms).
struct SymbolEntry {
  const char* name = nullptr;  // nullptr: not a named, defined function or object
  uint64_t value = 0;
  uint64_t size = 0;
  bool function = false;
  bool global = false;
};

class SymbolTable {
 public:
  ElfError open(const uint8_t* image, size_t size);
  // Finds the function or data symbol with the highest start at or below `address` (so a
  // rip in a data page names that data); returns its name and the offset from its start, or
  // nullptr when none is below it. Symbols whose names are not NUL-terminated inside the
  // string table are skipped. `size` (if given) receives the symbol's st_size.
  const char* nearest(uint64_t address, uint64_t* offset, uint64_t* size = nullptr) const;
  // The value of the function or data symbol named exactly `name` (its raw, mangled name);
  // false when there is none.
  bool find(const char* name, uint64_t& value) const;
  // True when a function symbol (STT_FUNC) starts exactly at `address`.
  bool is_function_start(uint64_t address) const;
  size_t count() const { return symbol_count_; }
  // Symbol `index` (below count()); false past the end.
  bool entry(size_t index, SymbolEntry& out) const;

 private:
  const uint8_t* image_ = nullptr;
  size_t size_ = 0;
  uint64_t symbols_offset_ = 0;
  size_t symbol_count_ = 0;
  uint64_t strings_offset_ = 0;
  uint64_t strings_size_ = 0;
};

}  // namespace elf
