// SPDX-License-Identifier: MIT
// elf::SymbolTable over synthetic images: nearest-symbol lookup and malformed tables.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "elf/elf64.hpp"

namespace {

struct Sym {
  std::string name;
  uint64_t value;
  uint8_t type;                       // 1 object, 2 function, 0 none
  uint32_t name_offset_override = 0;  // when nonzero, used instead of the real offset
};

// Little-endian stores into an image being built.
struct ImageBytes {
  std::vector<uint8_t> bytes;
  // An ELF64 x86-64 ET_EXEC header (its section fields filled in later).
  void elf_header() {
    bytes.assign(64, 0);
    uint8_t ident[16] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
    std::memcpy(bytes.data(), ident, 16);
    put16(16, 2);
    put16(18, 62);
    put32(20, 1);
    put16(52, 64);
  }
  void put16(size_t at, uint16_t v) { std::memcpy(&bytes[at], &v, 2); }
  void put32(size_t at, uint32_t v) { std::memcpy(&bytes[at], &v, 4); }
  void put64(size_t at, uint64_t v) { std::memcpy(&bytes[at], &v, 8); }
};

// An ELF header, then the string table, the symbol table and three section headers
// (null, .symtab linked to section 2, .strtab).
struct SymbolImage : ImageBytes {
  size_t section_headers = 0;

  explicit SymbolImage(const std::vector<Sym>& symbols, bool terminate_last_name = true) {
    std::string strings(1, '\0');
    std::vector<uint32_t> offsets;
    for (const Sym& s : symbols) {
      offsets.push_back(s.name_offset_override ? s.name_offset_override
                                               : static_cast<uint32_t>(strings.size()));
      strings += s.name;
      strings += '\0';
    }
    if (!terminate_last_name) strings.pop_back();
    elf_header();
    size_t strings_at = bytes.size();
    bytes.insert(bytes.end(), strings.begin(), strings.end());
    while (bytes.size() % 8) bytes.push_back(0);
    size_t symbols_at = bytes.size();
    bytes.resize(symbols_at + 24 * (symbols.size() + 1), 0);  // entry 0 is the null symbol
    for (size_t i = 0; i < symbols.size(); ++i) {
      size_t at = symbols_at + 24 * (i + 1);
      put32(at, offsets[i]);
      bytes[at + 4] = symbols[i].type;
      put64(at + 8, symbols[i].value);
    }
    section_headers = bytes.size();
    bytes.resize(section_headers + 3 * 64, 0);
    section(1, 2, symbols_at, 24 * (symbols.size() + 1), 2);
    section(2, 3, strings_at, strings.size(), 0);
    put64(40, section_headers);
    put16(58, 64);
    put16(60, 3);
  }
  void section(size_t index, uint32_t type, uint64_t offset, uint64_t size, uint32_t link) {
    size_t at = section_headers + index * 64;
    put32(at + 4, type);
    put64(at + 24, offset);
    put64(at + 32, size);
    put32(at + 40, link);
  }
};

std::string lookup(const elf::SymbolTable& table, uint64_t address, uint64_t* offset) {
  const char* name = table.nearest(address, offset);
  return name ? name : "(none)";
}

TEST(SymbolTable, FindsTheNearestFunctionOrObjectBelow) {
  SymbolImage image({{"alpha", 0x1000, 2},
                     {"beta", 0x1100, 2},
                     {"gamma", 0x2000, 1},
                     {"section_marker", 0x1080, 0}});
  elf::SymbolTable table;
  ASSERT_EQ(table.open(image.bytes.data(), image.bytes.size()), elf::ElfError::kNone);
  EXPECT_EQ(table.count(), 5u);
  uint64_t offset = 0;
  EXPECT_EQ(lookup(table, 0x1005, &offset), "alpha");
  EXPECT_EQ(offset, 5u);
  EXPECT_EQ(lookup(table, 0x1090, &offset), "alpha");  // untyped symbols are not names
  EXPECT_EQ(offset, 0x90u);
  EXPECT_EQ(lookup(table, 0x1100, &offset), "beta");
  EXPECT_EQ(offset, 0u);
  EXPECT_EQ(lookup(table, 0x2004, &offset), "gamma");
  EXPECT_EQ(offset, 4u);
  EXPECT_EQ(lookup(table, 0xfff, &offset), "(none)");
}

TEST(SymbolTable, SkipsNamesOutsideOrUnterminatedInTheStringTable) {
  SymbolImage image(
      {{"good", 0x1000, 2}, {"outside", 0x1100, 2, 0x7fffffff}, {"unterminated", 0x1200, 2}},
      /*terminate_last_name=*/false);
  elf::SymbolTable table;
  ASSERT_EQ(table.open(image.bytes.data(), image.bytes.size()), elf::ElfError::kNone);
  uint64_t offset = 0;
  EXPECT_EQ(lookup(table, 0x1150, &offset), "good");
  EXPECT_EQ(lookup(table, 0x1250, &offset), "good");
  EXPECT_EQ(offset, 0x250u);
}

TEST(SymbolTable, RefusesTablesOutsideTheFileOrBadLinks) {
  elf::SymbolTable table;
  {
    SymbolImage image({{"a", 0x1000, 2}});
    image.section(1, 2, image.bytes.size() - 8, 48, 2);  // symbols run past the end
    EXPECT_EQ(table.open(image.bytes.data(), image.bytes.size()),
              elf::ElfError::kSectionHeadersOutOfBounds);
  }
  {
    SymbolImage image({{"a", 0x1000, 2}});
    image.section(2, 3, ~uint64_t{0} - 4, 16, 0);  // strings offset wraps
    EXPECT_EQ(table.open(image.bytes.data(), image.bytes.size()),
              elf::ElfError::kSectionHeadersOutOfBounds);
  }
  {
    SymbolImage image({{"a", 0x1000, 2}});
    image.section(1, 2, 0, 0, 9);  // link to a section that does not exist
    EXPECT_EQ(table.open(image.bytes.data(), image.bytes.size()),
              elf::ElfError::kSectionHeadersOutOfBounds);
  }
  {
    SymbolImage image({{"a", 0x1000, 2}});
    image.put16(58, 40);  // wrong section header size
    EXPECT_EQ(table.open(image.bytes.data(), image.bytes.size()), elf::ElfError::kBadHeaderSize);
  }
  {
    SymbolImage image({{"a", 0x1000, 2}});
    image.bytes.resize(image.bytes.size() - 1);  // section headers cut short
    EXPECT_EQ(table.open(image.bytes.data(), image.bytes.size()),
              elf::ElfError::kSectionHeadersOutOfBounds);
  }
}

TEST(SymbolTable, AnEmptyTableFindsNothing) {
  elf::SymbolTable unopened;
  uint64_t offset = 0;
  EXPECT_EQ(unopened.nearest(0x1000, &offset), nullptr);
  SymbolImage image({});
  elf::SymbolTable table;
  ASSERT_EQ(table.open(image.bytes.data(), image.bytes.size()), elf::ElfError::kNone);
  EXPECT_EQ(table.nearest(0x1000, &offset), nullptr);
}

}  // namespace

namespace {

TEST(SymbolTable, FindLooksUpExactNamesOfFunctionsAndObjects) {
  SymbolImage image(
      {{"alpha", 0x1000, 2}, {"alphabet", 0x1100, 2}, {"gamma", 0x2000, 1}, {"marker", 0x3000, 0}});
  elf::SymbolTable table;
  ASSERT_EQ(table.open(image.bytes.data(), image.bytes.size()), elf::ElfError::kNone);
  uint64_t value = 0;
  EXPECT_TRUE(table.find("alphabet", value));
  EXPECT_EQ(value, 0x1100u);
  EXPECT_TRUE(table.find("alpha", value));  // not a prefix match of "alphabet"
  EXPECT_EQ(value, 0x1000u);
  EXPECT_TRUE(table.find("gamma", value));
  EXPECT_EQ(value, 0x2000u);
  EXPECT_FALSE(table.find("alph", value));
  EXPECT_FALSE(table.find("marker", value));  // not a function or object
  EXPECT_FALSE(table.find("", value));
}

TEST(SymbolTable, FindStopsAtTheEndOfAnUnterminatedStringTable) {
  SymbolImage image({{"alpha", 0x1000, 2}, {"omega", 0x2000, 2}}, /*terminate_last_name=*/false);
  elf::SymbolTable table;
  ASSERT_EQ(table.open(image.bytes.data(), image.bytes.size()), elf::ElfError::kNone);
  uint64_t value = 0;
  EXPECT_TRUE(table.find("alpha", value));
  EXPECT_FALSE(table.find("omega", value));
}

// An ELF header, a section-name table and sections named `names` (each 16 bytes of data at
// address 0x400000 + 0x100 * index), for find_section.
struct SectionImage : ImageBytes {
  size_t headers = 0;

  explicit SectionImage(const std::vector<std::string>& names) {
    elf_header();
    std::string table(1, '\0');
    std::vector<uint32_t> offsets;
    for (const std::string& name : names) {
      offsets.push_back(static_cast<uint32_t>(table.size()));
      table += name + '\0';
    }
    size_t table_at = bytes.size();
    bytes.insert(bytes.end(), table.begin(), table.end());
    while (bytes.size() % 8) bytes.push_back(0);
    size_t data_at = bytes.size();
    bytes.resize(data_at + 16 * names.size(), 0xab);
    headers = bytes.size();
    bytes.resize(headers + 64 * (names.size() + 2), 0);  // null, the sections, the name table
    for (size_t i = 0; i < names.size(); ++i) {
      size_t at = headers + 64 * (i + 1);
      put32(at, offsets[i]);
      put32(at + 4, 1);  // PROGBITS
      put64(at + 16, 0x400000 + 0x100 * i);
      put64(at + 24, data_at + 16 * i);
      put64(at + 32, 16);
    }
    size_t names_header = headers + 64 * (names.size() + 1);
    put32(names_header + 4, 3);
    put64(names_header + 24, table_at);
    put64(names_header + 32, table.size());
    put64(40, headers);
    put16(58, 64);
    put16(60, static_cast<uint16_t>(names.size() + 2));
    put16(62, static_cast<uint16_t>(names.size() + 1));
  }
  size_t header(size_t index) const { return headers + 64 * index; }
};

TEST(FindSection, FindsASectionByItsWholeName) {
  SectionImage image({".text", "__patchable_function_entries", ".data"});
  elf::Section section;
  ASSERT_EQ(elf::find_section(image.bytes.data(), image.bytes.size(),
                              "__patchable_function_entries", section),
            elf::ElfError::kNone);
  EXPECT_EQ(section.address, 0x400100u);
  EXPECT_EQ(section.size, 16u);
  EXPECT_EQ(image.bytes[section.offset], 0xab);
  EXPECT_EQ(elf::find_section(image.bytes.data(), image.bytes.size(), ".data", section),
            elf::ElfError::kNone);
  EXPECT_EQ(section.address, 0x400200u);
  // A prefix or a longer name is another section.
  EXPECT_EQ(elf::find_section(image.bytes.data(), image.bytes.size(), "__patchable", section),
            elf::ElfError::kNoSuchSection);
  EXPECT_EQ(elf::find_section(image.bytes.data(), image.bytes.size(), ".text2", section),
            elf::ElfError::kNoSuchSection);
}

TEST(FindSection, RefusesHeadersAndBytesOutsideTheImage) {
  SectionImage image({".text", "__patchable_function_entries"});
  elf::Section section;
  SectionImage bytes_outside = image;
  bytes_outside.put64(bytes_outside.header(2) + 24, bytes_outside.bytes.size() - 8);
  EXPECT_EQ(elf::find_section(bytes_outside.bytes.data(), bytes_outside.bytes.size(),
                              "__patchable_function_entries", section),
            elf::ElfError::kSectionHeadersOutOfBounds);
  SectionImage names_outside = image;
  names_outside.put64(names_outside.header(3) + 32, 1ull << 40);
  EXPECT_EQ(
      elf::find_section(names_outside.bytes.data(), names_outside.bytes.size(), ".text", section),
      elf::ElfError::kSectionHeadersOutOfBounds);
  SectionImage bad_index = image;
  bad_index.put16(62, 9);
  EXPECT_EQ(elf::find_section(bad_index.bytes.data(), bad_index.bytes.size(), ".text", section),
            elf::ElfError::kSectionHeadersOutOfBounds);
  SectionImage name_outside = image;
  name_outside.put32(name_outside.header(1), 0xffffff);
  EXPECT_EQ(
      elf::find_section(name_outside.bytes.data(), name_outside.bytes.size(), ".text", section),
      elf::ElfError::kNoSuchSection);
  // Cut short: the headers lie past the end.
  EXPECT_EQ(elf::find_section(image.bytes.data(), image.headers + 10, ".text", section),
            elf::ElfError::kSectionHeadersOutOfBounds);
}

}  // namespace
