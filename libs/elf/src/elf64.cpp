// SPDX-License-Identifier: MIT
// ELF64 validation and symbol lookup; every field is bounds-checked before it is trusted.
#include "elf/elf64.hpp"

namespace elf {
namespace {

// On-disk layouts (System V ABI). Read with copy_in so unaligned images are fine.
struct FileHeader {
  uint8_t ident[16];
  uint16_t type;
  uint16_t machine;
  uint32_t version;
  uint64_t entry;
  uint64_t program_header_offset;
  uint64_t section_header_offset;
  uint32_t flags;
  uint16_t header_size;
  uint16_t program_header_size;
  uint16_t program_header_count;
  uint16_t section_header_size;
  uint16_t section_header_count;
  uint16_t section_names_index;
};
static_assert(sizeof(FileHeader) == 64);

struct ProgramHeader {
  uint32_t type;
  uint32_t flags;
  uint64_t offset;
  uint64_t virtual_address;
  uint64_t physical_address;
  uint64_t file_size;
  uint64_t memory_size;
  uint64_t alignment;
};
static_assert(sizeof(ProgramHeader) == 56);

struct SectionHeader {
  uint32_t name;
  uint32_t type;
  uint64_t flags;
  uint64_t address;
  uint64_t offset;
  uint64_t size;
  uint32_t link;
  uint32_t info;
  uint64_t alignment;
  uint64_t entry_size;
};
static_assert(sizeof(SectionHeader) == 64);

struct Symbol {
  uint32_t name;
  uint8_t info;
  uint8_t other;
  uint16_t section;
  uint64_t value;
  uint64_t size;
};
static_assert(sizeof(Symbol) == 24);

constexpr uint16_t kTypeExecutable = 2;
constexpr uint16_t kMachineX86_64 = 62;
constexpr uint32_t kSectionSymbolTable = 2;
constexpr uint8_t kSymbolObject = 1;
constexpr uint8_t kSymbolFunction = 2;

template <typename T>
void copy_in(T& out, const uint8_t* from) {
  auto* to = reinterpret_cast<uint8_t*>(&out);
  for (size_t i = 0; i < sizeof(T); ++i) to[i] = from[i];
}

// True when [offset, offset + length) lies inside an image of `size` bytes, without overflow.
bool in_bounds(uint64_t offset, uint64_t length, size_t size) {
  return offset <= size && length <= size - offset;
}

ElfError check_file_header(const uint8_t* image, size_t size, FileHeader& header) {
  if (image == nullptr || size < sizeof(FileHeader)) return ElfError::kTooSmall;
  copy_in(header, image);
  if (header.ident[0] != 0x7f || header.ident[1] != 'E' || header.ident[2] != 'L' ||
      header.ident[3] != 'F') {
    return ElfError::kBadMagic;
  }
  if (header.ident[4] != 2) return ElfError::kNotElf64;
  if (header.ident[5] != 1) return ElfError::kNotLittleEndian;
  if (header.ident[6] != 1 || header.version != 1) return ElfError::kBadVersion;
  if (header.machine != kMachineX86_64) return ElfError::kWrongMachine;
  if (header.header_size != sizeof(FileHeader)) return ElfError::kBadHeaderSize;
  return ElfError::kNone;
}

}  // namespace

const char* error_message(ElfError error) {
  switch (error) {
    case ElfError::kNone: return "no error";
    case ElfError::kTooSmall: return "file is smaller than an ELF header";
    case ElfError::kBadMagic: return "not an ELF file (bad magic)";
    case ElfError::kNotElf64: return "not a 64-bit ELF file";
    case ElfError::kNotLittleEndian: return "not little-endian";
    case ElfError::kBadVersion: return "unknown ELF version";
    case ElfError::kNotExecutable: return "not an executable (ET_EXEC)";
    case ElfError::kWrongMachine: return "not an x86-64 ELF file";
    case ElfError::kBadHeaderSize: return "bad ELF header or program header size";
    case ElfError::kProgramHeadersOutOfBounds: return "program headers lie outside the file";
    case ElfError::kTooManyProgramHeaders: return "too many loadable segments";
    case ElfError::kSegmentOutOfBounds: return "a segment's bytes lie outside the file";
    case ElfError::kSegmentFileLargerThanMemory:
      return "a segment's file size exceeds its memory size";
    case ElfError::kSegmentAddressOverflow: return "a segment's address range overflows";
    case ElfError::kSegmentNotInUserSpace:
      return "a segment lies outside the allowed address range";
    case ElfError::kSegmentsOverlap: return "segments overlap";
    case ElfError::kBadSegmentAlignment:
      return "a segment's address and file offset disagree modulo its alignment";
    case ElfError::kNoLoadableSegment: return "no loadable segment";
    case ElfError::kEntryNotInSegment: return "entry point is not inside an executable segment";
    case ElfError::kSectionHeadersOutOfBounds: return "section headers lie outside the file";
    case ElfError::kNoSymbolTable: return "no symbol table";
    case ElfError::kNoSuchSection: return "no section of that name";
  }
  return "unknown ELF error";
}

ElfError parse_executable(const uint8_t* image, size_t size, const Limits& limits,
                          Executable& out) {
  FileHeader header;
  if (ElfError e = check_file_header(image, size, header); e != ElfError::kNone) return e;
  if (header.type != kTypeExecutable) return ElfError::kNotExecutable;
  if (header.program_header_size != sizeof(ProgramHeader)) return ElfError::kBadHeaderSize;
  if (!in_bounds(header.program_header_offset,
                 uint64_t{header.program_header_count} * sizeof(ProgramHeader), size)) {
    return ElfError::kProgramHeadersOutOfBounds;
  }

  out.entry = header.entry;
  out.segment_count = 0;
  bool entry_found = false;
  for (uint16_t i = 0; i < header.program_header_count; ++i) {
    ProgramHeader ph;
    copy_in(ph, image + header.program_header_offset + i * sizeof(ProgramHeader));
    if (ph.type != kSegmentLoad || ph.memory_size == 0) continue;
    if (out.segment_count == kMaxSegments) return ElfError::kTooManyProgramHeaders;
    if (!in_bounds(ph.offset, ph.file_size, size)) return ElfError::kSegmentOutOfBounds;
    if (ph.file_size > ph.memory_size) return ElfError::kSegmentFileLargerThanMemory;
    uint64_t end = ph.virtual_address + ph.memory_size;
    if (end < ph.virtual_address) return ElfError::kSegmentAddressOverflow;
    if (ph.virtual_address < limits.lowest_address || end > limits.highest_address) {
      return ElfError::kSegmentNotInUserSpace;
    }
    if (ph.alignment > 1 && ((ph.alignment & (ph.alignment - 1)) != 0 ||
                             (ph.virtual_address - ph.offset) % ph.alignment != 0)) {
      return ElfError::kBadSegmentAlignment;
    }
    // Two segments may share a page (the linker does that) but not bytes.
    for (size_t j = 0; j < out.segment_count; ++j) {
      const Segment& other = out.segments[j];
      if (ph.virtual_address < other.virtual_address + other.memory_size &&
          other.virtual_address < end) {
        return ElfError::kSegmentsOverlap;
      }
    }
    out.segments[out.segment_count++] =
        Segment{ph.virtual_address, ph.memory_size, ph.offset, ph.file_size, ph.flags & 7};
    if ((ph.flags & kFlagExecute) != 0 && header.entry >= ph.virtual_address &&
        header.entry < end) {
      entry_found = true;
    }
  }
  if (out.segment_count == 0) return ElfError::kNoLoadableSegment;
  if (!entry_found) return ElfError::kEntryNotInSegment;
  return ElfError::kNone;
}

ElfError find_section(const uint8_t* image, size_t size, const char* name, Section& out) {
  FileHeader header;
  if (ElfError e = check_file_header(image, size, header); e != ElfError::kNone) return e;
  if (header.section_header_count != 0 && header.section_header_size != sizeof(SectionHeader)) {
    return ElfError::kBadHeaderSize;
  }
  if (!in_bounds(header.section_header_offset,
                 uint64_t{header.section_header_count} * sizeof(SectionHeader), size) ||
      (header.section_header_count != 0 &&
       header.section_names_index >= header.section_header_count)) {
    return ElfError::kSectionHeadersOutOfBounds;
  }
  if (header.section_header_count == 0) return ElfError::kNoSuchSection;
  SectionHeader names;
  copy_in(names, image + header.section_header_offset +
                     header.section_names_index * sizeof(SectionHeader));
  if (!in_bounds(names.offset, names.size, size)) return ElfError::kSectionHeadersOutOfBounds;
  size_t length = 0;
  while (name[length] != 0) ++length;
  for (uint16_t i = 0; i < header.section_header_count; ++i) {
    SectionHeader section;
    copy_in(section, image + header.section_header_offset + i * sizeof(SectionHeader));
    if (section.name >= names.size || names.size - section.name <= length) continue;
    const uint8_t* at = image + names.offset + section.name;
    bool same = at[length] == 0;
    for (size_t k = 0; same && k < length; ++k) same = at[k] == static_cast<uint8_t>(name[k]);
    if (!same) continue;
    constexpr uint32_t kNoBits = 8;
    uint64_t bytes = section.type == kNoBits ? 0 : section.size;
    if (!in_bounds(section.offset, bytes, size)) return ElfError::kSectionHeadersOutOfBounds;
    out = Section{section.address, section.offset, bytes};
    return ElfError::kNone;
  }
  return ElfError::kNoSuchSection;
}

ElfError SymbolTable::open(const uint8_t* image, size_t size) {
  FileHeader header;
  if (ElfError e = check_file_header(image, size, header); e != ElfError::kNone) return e;
  if (header.section_header_count != 0 && header.section_header_size != sizeof(SectionHeader)) {
    return ElfError::kBadHeaderSize;
  }
  if (!in_bounds(header.section_header_offset,
                 uint64_t{header.section_header_count} * sizeof(SectionHeader), size)) {
    return ElfError::kSectionHeadersOutOfBounds;
  }
  for (uint16_t i = 0; i < header.section_header_count; ++i) {
    SectionHeader section;
    copy_in(section, image + header.section_header_offset + i * sizeof(SectionHeader));
    if (section.type != kSectionSymbolTable) continue;
    if (section.link >= header.section_header_count) return ElfError::kSectionHeadersOutOfBounds;
    SectionHeader strings;
    copy_in(strings, image + header.section_header_offset + section.link * sizeof(SectionHeader));
    if (!in_bounds(section.offset, section.size, size) ||
        !in_bounds(strings.offset, strings.size, size)) {
      return ElfError::kSectionHeadersOutOfBounds;
    }
    image_ = image;
    size_ = size;
    symbols_offset_ = section.offset;
    symbol_count_ = section.size / sizeof(Symbol);
    strings_offset_ = strings.offset;
    strings_size_ = strings.size;
    return ElfError::kNone;
  }
  return ElfError::kNoSymbolTable;
}

bool SymbolTable::entry(size_t index, SymbolEntry& out) const {
  if (index >= symbol_count_) return false;
  Symbol symbol;
  copy_in(symbol, image_ + symbols_offset_ + index * sizeof(Symbol));
  out = SymbolEntry{};
  uint8_t type = symbol.info & 0xf;
  if ((type != kSymbolFunction && type != kSymbolObject) || symbol.name >= strings_size_ ||
      symbol.section == 0) {
    return true;  // not a named function or object: out.name stays nullptr
  }
  for (uint64_t k = symbol.name; k < strings_size_; ++k) {
    if (image_[strings_offset_ + k] != 0) continue;
    out.name = reinterpret_cast<const char*>(image_ + strings_offset_ + symbol.name);
    break;
  }
  out.value = symbol.value;
  out.size = symbol.size;
  out.function = type == kSymbolFunction;
  out.global = (symbol.info >> 4) != 0;  // STB_GLOBAL or STB_WEAK
  return true;
}

bool SymbolTable::find(const char* name, uint64_t& value) const {
  for (size_t i = 0; i < symbol_count_; ++i) {
    Symbol symbol;
    copy_in(symbol, image_ + symbols_offset_ + i * sizeof(Symbol));
    uint8_t type = symbol.info & 0xf;
    if ((type != kSymbolFunction && type != kSymbolObject) || symbol.name >= strings_size_)
      continue;
    // Compare inside the string table only: a name running off its end never matches.
    uint64_t k = symbol.name;
    size_t j = 0;
    while (k < strings_size_ && name[j] != '\0' &&
           image_[strings_offset_ + k] == static_cast<uint8_t>(name[j])) {
      ++k;
      ++j;
    }
    if (name[j] == '\0' && k < strings_size_ && image_[strings_offset_ + k] == 0) {
      value = symbol.value;
      return true;
    }
  }
  return false;
}

const char* SymbolTable::nearest(uint64_t address, uint64_t* offset, uint64_t* size) const {
  const char* best_name = nullptr;
  uint64_t best_value = 0;
  uint64_t best_size = 0;
  for (size_t i = 0; i < symbol_count_; ++i) {
    Symbol symbol;
    copy_in(symbol, image_ + symbols_offset_ + i * sizeof(Symbol));
    uint8_t type = symbol.info & 0xf;
    if ((type != kSymbolFunction && type != kSymbolObject) || symbol.value > address) continue;
    if (symbol.name >= strings_size_) continue;
    if (best_name == nullptr || symbol.value > best_value) {
      // The name must be NUL-terminated inside the string table.
      const char* name = reinterpret_cast<const char*>(image_ + strings_offset_ + symbol.name);
      bool terminated = false;
      for (uint64_t k = symbol.name; k < strings_size_; ++k) {
        if (image_[strings_offset_ + k] == 0) {
          terminated = true;
          break;
        }
      }
      if (!terminated) continue;
      best_name = name;
      best_value = symbol.value;
      best_size = symbol.size;
    }
  }
  if (best_name != nullptr && offset != nullptr) *offset = address - best_value;
  if (best_name != nullptr && size != nullptr) *size = best_size;
  return best_name;
}

bool SymbolTable::is_function_start(uint64_t address) const {
  for (size_t i = 0; i < symbol_count_; ++i) {
    Symbol symbol;
    copy_in(symbol, image_ + symbols_offset_ + i * sizeof(Symbol));
    if ((symbol.info & 0xf) == kSymbolFunction && symbol.value == address) return true;
  }
  return false;
}

}  // namespace elf
