// SPDX-License-Identifier: MIT
// load_program: ELF segments into a new VSpace, every page filled through a window mapping.
#include "sys/loader.hpp"

#include "elf/elf64.hpp"
#include "sys/ipc.hpp"

namespace sys {
namespace {

namespace abi = sonde::abi;
using abi::Error;
using abi::Label;
using abi::ObjectType;

constexpr uint64_t kPage = 4096;
constexpr uint64_t kStackTop = 0x00007fffffff0000ull;
constexpr size_t kMaxPages = 1024;

struct Loader {
  const LoaderResources* resources = nullptr;
  uint64_t vspace = 0;
  // Pages already placed in the new VSpace, so segments sharing a page share its frame.
  uint64_t page_address[kMaxPages];
  uint64_t page_frame[kMaxPages];
  uint64_t page_rights[kMaxPages];
  size_t pages = 0;

  void reset(const LoaderResources* with) {
    resources = with;
    vspace = 0;
    pages = 0;
  }
  const LoaderResources& r() const { return *resources; }
  uint64_t slot() { return (*r().next_slot)++; }

  Error make(ObjectType type, uint64_t size_bits, uint64_t& out) {
    out = slot();
    return retype(r().untyped, type, size_bits, r().root, out);
  }

  Error map_frame(uint64_t frame, uint64_t space, uint64_t address, uint64_t rights) {
    uint64_t words[] = {space, address, rights};
    Error e = invoke(frame, Label::kFrameMap, words);
    // Missing paging structures are made on the way (at most three levels).
    for (int level = 0; level < 3 && e == Error::kMissingPageTable; ++level) {
      uint64_t table = 0;
      if (Error made = make(ObjectType::kPageTable, 0, table); made != Error::kNone) return made;
      uint64_t table_words[] = {space, address};
      if (Error mapped = invoke(table, Label::kPageTableMap, table_words); mapped != Error::kNone) {
        return mapped;
      }
      e = invoke(frame, Label::kFrameMap, words);
    }
    return e;
  }

  // The frame at `address` in the new VSpace (made and mapped on first use), with `rights`
  // added; `contents` (if any) copied to `offset` in it.
  Error place(uint64_t address, uint64_t rights, const uint8_t* contents, uint64_t offset,
              uint64_t length) {
    size_t index = 0;
    while (index < pages && page_address[index] != address) ++index;
    if (index == pages) {
      if (pages == kMaxPages) return Error::kRangeError;
      uint64_t frame = 0;
      if (Error e = make(ObjectType::kFrame, 12, frame); e != Error::kNone) return e;
      page_address[index] = address;
      page_frame[index] = frame;
      page_rights[index] = 0x100;  // not mapped yet
      ++pages;
    }
    if (length > 0) {
      uint64_t alias = slot();
      if (Error e = cnode_copy(r().root, alias, page_frame[index]); e != Error::kNone) return e;
      if (Error e = map_frame(alias, r().own_vspace, r().window, abi::kMapWrite);
          e != Error::kNone) {
        return e;
      }
      auto* bytes = reinterpret_cast<volatile uint8_t*>(r().window);
      for (uint64_t i = 0; i < length; ++i) bytes[offset + i] = contents[i];
      if (Error e = cnode_delete(r().root, alias); e != Error::kNone) return e;  // unmaps it
    }
    uint64_t wanted = page_rights[index] == 0x100 ? rights : (page_rights[index] | rights);
    if (page_rights[index] == 0x100) {
      if (Error e = map_frame(page_frame[index], vspace, address, wanted); e != Error::kNone)
        return e;
    } else if (wanted != page_rights[index]) {
      uint64_t words[] = {wanted};
      if (Error e = invoke(page_frame[index], Label::kFrameRemap, words); e != Error::kNone)
        return e;
    }
    page_rights[index] = wanted;
    return Error::kNone;
  }
};

}  // namespace

Error load_program(const uint8_t* image, size_t size, uint64_t stack_pages,
                   const LoaderResources& resources, LoadedProgram& program) {
  elf::Executable executable;
  const uint64_t stack_top = resources.stack_top != 0 ? resources.stack_top : kStackTop;
  elf::Limits limits{kPage, stack_top - (stack_pages + 1) * kPage};
  if (elf::parse_executable(image, size, limits, executable) != elf::ElfError::kNone) {
    return Error::kInvalidArgument;
  }
  static Loader loader;  // large: kept off the stack (one load at a time)
  loader.reset(&resources);
  if (Error e = loader.make(ObjectType::kVSpace, 0, loader.vspace); e != Error::kNone) return e;
  for (size_t s = 0; s < executable.segment_count; ++s) {
    const elf::Segment& segment = executable.segments[s];
    uint64_t rights = 0;
    if ((segment.flags & elf::kFlagWrite) != 0) rights |= abi::kMapWrite;
    if ((segment.flags & elf::kFlagExecute) != 0) rights |= abi::kMapExecute;
    uint64_t first = segment.virtual_address & ~(kPage - 1);
    uint64_t end = segment.virtual_address + segment.memory_size;
    for (uint64_t page = first; page < end; page += kPage) {
      // The file bytes that land on this page.
      uint64_t file_start = segment.virtual_address;
      uint64_t file_end = segment.virtual_address + segment.file_size;
      uint64_t from = page > file_start ? page : file_start;
      uint64_t to = page + kPage < file_end ? page + kPage : file_end;
      const uint8_t* contents = nullptr;
      uint64_t length = 0;
      if (from < to) {
        contents = image + segment.file_offset + (from - segment.virtual_address);
        length = to - from;
      }
      if (Error e = loader.place(page, rights, contents, from - page, length); e != Error::kNone) {
        return e;
      }
    }
  }
  for (uint64_t i = 1; i <= stack_pages; ++i) {
    if (Error e = loader.place(stack_top - i * kPage, abi::kMapWrite, nullptr, 0, 0);
        e != Error::kNone) {
      return e;
    }
  }
  program.vspace = loader.vspace;
  program.kept_frame = 0;
  for (size_t i = 0; resources.keep_page != 0 && i < loader.pages; ++i) {
    if (loader.page_address[i] == resources.keep_page) program.kept_frame = loader.page_frame[i];
  }
  program.entry = executable.entry;
  program.stack_top = stack_top - 8;
  return Error::kNone;
}

}  // namespace sys
