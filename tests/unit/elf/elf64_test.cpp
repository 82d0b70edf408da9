// SPDX-License-Identifier: MIT
// ELF64 parser: valid executables load; every malformed header or segment is refused.
#include "elf/elf64.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace {

constexpr elf::Limits kUser{0x1000, 0x00007fffffff0000ull};

// Builds a minimal x86-64 ET_EXEC image with the given program headers.
struct Phdr {
  uint32_t type = 1, flags = 5;
  uint64_t offset = 0, vaddr = 0x400000, paddr = 0, filesz = 0x100, memsz = 0x100, align = 0x1000;
};

std::vector<uint8_t> make_image(const std::vector<Phdr>& phdrs, uint64_t entry = 0x400010,
                                size_t size = 0x2000) {
  std::vector<uint8_t> image(size, 0);
  uint8_t ident[16] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
  std::memcpy(image.data(), ident, 16);
  auto put16 = [&](size_t at, uint16_t v) { std::memcpy(&image[at], &v, 2); };
  auto put32 = [&](size_t at, uint32_t v) { std::memcpy(&image[at], &v, 4); };
  auto put64 = [&](size_t at, uint64_t v) { std::memcpy(&image[at], &v, 8); };
  put16(16, 2);   // ET_EXEC
  put16(18, 62);  // x86-64
  put32(20, 1);
  put64(24, entry);
  put64(32, 64);  // program headers right after the header
  put16(52, 64);
  put16(54, 56);
  put16(56, static_cast<uint16_t>(phdrs.size()));
  for (size_t i = 0; i < phdrs.size(); ++i) {
    size_t at = 64 + i * 56;
    put32(at, phdrs[i].type);
    put32(at + 4, phdrs[i].flags);
    put64(at + 8, phdrs[i].offset);
    put64(at + 16, phdrs[i].vaddr);
    put64(at + 24, phdrs[i].paddr);
    put64(at + 32, phdrs[i].filesz);
    put64(at + 40, phdrs[i].memsz);
    put64(at + 48, phdrs[i].align);
  }
  return image;
}

elf::ElfError parse(const std::vector<uint8_t>& image, elf::Executable* out = nullptr) {
  elf::Executable executable{};
  elf::ElfError e = elf::parse_executable(image.data(), image.size(), kUser, executable);
  if (out) *out = executable;
  return e;
}

TEST(Elf64, AcceptsMinimalExecutable) {
  elf::Executable exe{};
  ASSERT_EQ(parse(make_image({Phdr{}}), &exe), elf::ElfError::kNone);
  EXPECT_EQ(exe.entry, 0x400010u);
  ASSERT_EQ(exe.segment_count, 1u);
  EXPECT_EQ(exe.segments[0].virtual_address, 0x400000u);
  EXPECT_EQ(exe.segments[0].flags, elf::kFlagRead | elf::kFlagExecute);
}

TEST(Elf64, RejectsTruncatedHeader) {
  auto image = make_image({Phdr{}});
  image.resize(40);
  EXPECT_EQ(parse(image), elf::ElfError::kTooSmall);
  EXPECT_EQ(elf::parse_executable(nullptr, 0, kUser, *new elf::Executable{}),
            elf::ElfError::kTooSmall);
}

TEST(Elf64, RejectsBadMagicClassEndianVersionMachineType) {
  auto image = make_image({Phdr{}});
  auto bad = image;
  bad[1] = 'X';
  EXPECT_EQ(parse(bad), elf::ElfError::kBadMagic);
  bad = image;
  bad[4] = 1;
  EXPECT_EQ(parse(bad), elf::ElfError::kNotElf64);
  bad = image;
  bad[5] = 2;
  EXPECT_EQ(parse(bad), elf::ElfError::kNotLittleEndian);
  bad = image;
  bad[6] = 0;
  EXPECT_EQ(parse(bad), elf::ElfError::kBadVersion);
  bad = image;
  bad[18] = 3;  // EM_386
  EXPECT_EQ(parse(bad), elf::ElfError::kWrongMachine);
  bad = image;
  bad[16] = 3;  // ET_DYN
  EXPECT_EQ(parse(bad), elf::ElfError::kNotExecutable);
  bad = image;
  bad[54] = 32;  // program header size
  EXPECT_EQ(parse(bad), elf::ElfError::kBadHeaderSize);
}

TEST(Elf64, RejectsProgramHeadersOutsideTheFile) {
  auto image = make_image({Phdr{}});
  uint64_t far = image.size() + 0x100000;
  std::memcpy(&image[32], &far, 8);
  EXPECT_EQ(parse(image), elf::ElfError::kProgramHeadersOutOfBounds);
  // An offset that overflows when the table size is added.
  uint64_t wrap = ~0ull - 10;
  std::memcpy(&image[32], &wrap, 8);
  EXPECT_EQ(parse(image), elf::ElfError::kProgramHeadersOutOfBounds);
}

TEST(Elf64, RejectsSegmentBytesOutsideTheFile) {
  Phdr p;
  p.offset = 0x1f00;
  p.vaddr = 0x401f00;
  p.filesz = 0x200;
  p.memsz = 0x200;
  EXPECT_EQ(parse(make_image({Phdr{}, p})), elf::ElfError::kSegmentOutOfBounds);
}

TEST(Elf64, RejectsFileSizeLargerThanMemorySize) {
  Phdr p;
  p.filesz = 0x200;
  p.memsz = 0x100;
  EXPECT_EQ(parse(make_image({p})), elf::ElfError::kSegmentFileLargerThanMemory);
}

TEST(Elf64, RejectsAddressOverflowAndKernelAddresses) {
  Phdr wrap;
  wrap.vaddr = ~0ull - 0x10;
  wrap.offset = (~0ull - 0x10) % 0x1000;
  EXPECT_EQ(parse(make_image({wrap})), elf::ElfError::kSegmentAddressOverflow);
  Phdr kernel;
  kernel.vaddr = 0xffffffff80000000ull;
  EXPECT_EQ(parse(make_image({kernel}, 0xffffffff80000010ull)),
            elf::ElfError::kSegmentNotInUserSpace);
  Phdr null_page;
  null_page.vaddr = 0;
  EXPECT_EQ(parse(make_image({null_page}, 0x10)), elf::ElfError::kSegmentNotInUserSpace);
}

TEST(Elf64, RejectsOverlappingSegments) {
  Phdr a, b;
  b.vaddr = 0x400080;
  b.offset = 0x80;
  EXPECT_EQ(parse(make_image({a, b})), elf::ElfError::kSegmentsOverlap);
}

TEST(Elf64, RejectsMisalignedSegment) {
  Phdr p;
  p.offset = 0x10;  // vaddr - offset not a multiple of the alignment
  EXPECT_EQ(parse(make_image({p})), elf::ElfError::kBadSegmentAlignment);
  p.offset = 0;
  p.align = 0x300;  // not a power of two
  EXPECT_EQ(parse(make_image({p})), elf::ElfError::kBadSegmentAlignment);
}

TEST(Elf64, RejectsTooManySegments) {
  std::vector<Phdr> many;
  for (size_t i = 0; i <= elf::kMaxSegments; ++i) {
    Phdr p;
    p.vaddr = 0x400000 + i * 0x1000;
    p.filesz = 0;
    many.push_back(p);
  }
  EXPECT_EQ(parse(make_image(many)), elf::ElfError::kTooManyProgramHeaders);
}

TEST(Elf64, RejectsMissingLoadableSegmentAndBadEntry) {
  Phdr note;
  note.type = 4;
  EXPECT_EQ(parse(make_image({note})), elf::ElfError::kNoLoadableSegment);
  EXPECT_EQ(parse(make_image({Phdr{}}, 0x500000)), elf::ElfError::kEntryNotInSegment);
  Phdr data;
  data.flags = 6;  // read/write, not executable
  EXPECT_EQ(parse(make_image({data})), elf::ElfError::kEntryNotInSegment);
}

TEST(Elf64, EveryErrorHasAMessage) {
  for (int e = 0; e <= static_cast<int>(elf::ElfError::kNoSymbolTable); ++e) {
    const char* m = elf::error_message(static_cast<elf::ElfError>(e));
    ASSERT_NE(m, nullptr);
    EXPECT_STRNE(m, "unknown ELF error") << e;
  }
}

TEST(Elf64, SymbolTableOfRealBinaryFindsThisFunction) {
  // The test binary itself is an ELF with a symbol table.
  FILE* self = std::fopen("/proc/self/exe", "rb");
  ASSERT_NE(self, nullptr);
  std::vector<uint8_t> image;
  uint8_t chunk[65536];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof(chunk), self)) > 0)
    image.insert(image.end(), chunk, chunk + n);
  std::fclose(self);
  elf::SymbolTable symbols;
  ASSERT_EQ(symbols.open(image.data(), image.size()), elf::ElfError::kNone);
  EXPECT_GT(symbols.count(), 10u);
}

TEST(Elf64, SymbolTableRejectsGarbage) {
  std::vector<uint8_t> junk(256, 0xab);
  elf::SymbolTable symbols;
  EXPECT_EQ(symbols.open(junk.data(), junk.size()), elf::ElfError::kBadMagic);
  auto image = make_image({Phdr{}});
  uint64_t far = ~0ull - 5;
  std::memcpy(&image[40], &far, 8);  // section headers offset
  uint16_t count = 3, size = 64;
  std::memcpy(&image[60], &count, 2);
  std::memcpy(&image[58], &size, 2);
  EXPECT_EQ(symbols.open(image.data(), image.size()), elf::ElfError::kSectionHeadersOutOfBounds);
  auto no_sections = make_image({Phdr{}});
  EXPECT_EQ(symbols.open(no_sections.data(), no_sections.size()), elf::ElfError::kNoSymbolTable);
}

}  // namespace
