// SPDX-License-Identifier: MIT
// PosixSymbols over libs/elf's SymbolTable.
#include "posix_symbols.hpp"

#include "kprobes.hpp"
#include "rt/errno.hpp"
#include "rt/kernel_alias.hpp"
#include "rt/sort.hpp"
#include "trace/kernel_samples.hpp"

namespace trace {

namespace {

// The POSIX server's entry sites (the server has under a thousand) and their names.
constexpr size_t kMaxEntrySites = 16384;
uint64_t entry_sites[kMaxEntrySites];
const char* entry_names[kMaxEntrySites];
size_t entry_site_count = 0;

// The index of `address` among the sorted sites, or count when it is none of them.
size_t site_index(uint64_t address) {
  size_t low = 0, high = entry_site_count;
  while (low < high) {
    size_t middle = low + (high - low) / 2;
    if (entry_sites[middle] < address) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return low < entry_site_count && entry_sites[low] == address ? low : entry_site_count;
}

}  // namespace

void PosixSymbols::open(const uint8_t* image, size_t size) {
  open_ = image != nullptr && table_.open(image, size) == elf::ElfError::kNone;
  image_ = open_ ? image : nullptr;
  image_size_ = open_ ? size : 0;
  traceable_found_ = false;
}

void PosixSymbols::find_traceable() {
  traceable_found_ = true;
  entry_site_count = 0;
  elf::Section section;
  if (image_ == nullptr || elf::find_section(image_, image_size_, "__patchable_function_entries",
                                             section) != elf::ElfError::kNone) {
    return;
  }
  for (uint64_t at = 0; at + 8 <= section.size && entry_site_count < kMaxEntrySites; at += 8) {
    uint64_t site = 0;
    for (int b = 7; b >= 0; --b) site = site << 8 | image_[section.offset + at + b];
    entry_sites[entry_site_count++] = site;
  }
  rt::shell_sort(entry_sites, entry_site_count, [](uint64_t a, uint64_t b) { return a < b; });
  for (size_t i = 0; i < entry_site_count; ++i) entry_names[i] = nullptr;
  // One pass over the symbols names each site (a global name before a local alias).
  for (size_t i = 0; i < table_.count(); ++i) {
    elf::SymbolEntry symbol;
    if (!table_.entry(i, symbol) || symbol.name == nullptr || !symbol.function) continue;
    size_t index = site_index(symbol.value);
    if (index == entry_site_count) continue;
    if (entry_names[index] == nullptr || symbol.global) entry_names[index] = symbol.name;
  }
}

void PosixSymbols::list_traceable_functions(TextBuffer& out) {
  if (!traceable_found_) find_traceable();
  for (size_t i = 0; i < entry_site_count; ++i) {
    if (entry_names[i] == nullptr || (i > 0 && entry_sites[i] == entry_sites[i - 1])) continue;
    bool refused = false;
    for (size_t r = 0; r < refused_count_; ++r) {
      refused =
          refused || (entry_sites[i] >= refused_[r].start && entry_sites[i] < refused_[r].end);
    }
    if (refused) continue;
    out.append(entry_names[i]);
    out.append_char('\n');
  }
}

void PosixSymbols::open_kernel(const uint8_t* image, size_t size) {
  kernel_open_ = image != nullptr && kernel_table_.open(image, size) == elf::ElfError::kNone;
}

bool PosixSymbols::find_function(const elf::SymbolTable& table, const char* name, size_t length,
                                 uint64_t& address) const {
  char text[kEventNameMax * 2 + 1];
  if (length == 0 || length >= sizeof text) return false;
  for (size_t i = 0; i < length; ++i) text[i] = name[i];
  text[length] = 0;
  uint64_t start = 0;
  if (!table.find(text, start) || !table.is_function_start(start)) return false;
  address = start;
  return true;
}

bool PosixSymbols::resolve(const char* name, size_t length, uint64_t offset,
                           uint64_t& address) const {
  SymbolName split = split_symbol_name(name, length);
  uint64_t start = 0;
  bool found = false;
  if (split.module == nullptr) {
    found = (open_ && find_function(table_, name, length, start)) ||
            (kernel_open_ && find_function(kernel_table_, name, length, start)) ||
            text_start(name, length, start);
  } else if (split.is_kernel_module()) {
    found = kernel_open_ && find_function(kernel_table_, split.symbol, split.symbol_length, start);
  }
  if (!found) return false;
  address = start + offset;
  return true;
}

bool PosixSymbols::text_start(const char* name, size_t length, uint64_t& start) const {
  // Linux's _text and _stext, which /proc/kallsyms lists at the POSIX server's first function
  // (servers/posix/fs/kallsyms.cpp): perf probe names probe points `_text+OFFSET`.
  auto is = [&](const char* text) {
    size_t n = 0;
    while (text[n] != 0) ++n;
    if (n != length) return false;
    for (size_t i = 0; i < n; ++i) {
      if (name[i] != text[i]) return false;
    }
    return true;
  };
  if (!open_ || (!is("_text") && !is("_stext"))) return false;
  if (text_start_ == 0) {
    uint64_t lowest = ~uint64_t{0};
    for (size_t i = 0; i < table_.count(); ++i) {
      elf::SymbolEntry entry;
      if (table_.entry(i, entry) && entry.name != nullptr && entry.name[0] != 0 && entry.function &&
          entry.value < lowest) {
        lowest = entry.value;
      }
    }
    if (lowest == ~uint64_t{0}) return false;
    text_start_ = lowest;
  }
  start = text_start_;
  return true;
}

bool PosixSymbols::resolve_any(const char* name, size_t length, uint64_t& address) const {
  char text[kEventNameMax * 2 + 1];
  if (!open_ || length == 0 || length >= sizeof text) return false;
  for (size_t i = 0; i < length; ++i) text[i] = name[i];
  text[length] = 0;
  return table_.find(text, address);
}

bool PosixSymbols::kernel_symbol_exists(const char* name, size_t length) {
  uint64_t address = 0;
  return resolve(name, length, 0, address);
}

void PosixSymbols::refuse(uint64_t start, uint64_t end) {
  if (refused_count_ < sizeof refused_ / sizeof refused_[0]) {
    refused_[refused_count_++] = Range{start, end > start ? end : start + 1};
  }
}

int PosixSymbols::kernel_probe_error(const char* name, size_t length, uint64_t offset) {
  uint64_t address = 0;
  if (!resolve(name, length, offset, address)) return 0;  // ENOENT comes at arming
  for (size_t i = 0; i < refused_count_; ++i) {
    if (address >= refused_[i].start && address < refused_[i].end) return rt::kEINVAL;
  }
  if (offset == 0) return 0;  // entries: the entry NOP is checked at arming
  if (is_kernel_address(address)) return rt::kEINVAL;  // the microkernel's: entries only
  if (kprobes_ == nullptr) return rt::kEINVAL;
  auto checked = kprobes_->check_probe_point(address);
  return checked.ok() ? 0 : checked.error().code;
}

bool PosixSymbols::function_start(uint64_t address, uint64_t& start) const {
  address = sonde::abi::server_address(address);
  uint64_t offset = 0, size = 0;
  if (!open_ || table_.nearest(address, &offset, &size) == nullptr) return false;
  if (size != 0 && offset >= size) return false;
  start = address - offset;
  return true;
}

uint64_t PosixSymbols::function_size(uint64_t address) const {
  if (!open_) return 0;
  uint64_t offset = 0, size = 0;
  if (table_.nearest(address, &offset, &size) == nullptr || offset != 0) return 0;
  return size;
}

bool PosixSymbols::locate(uint64_t address, const char*& name, uint64_t& offset) const {
  address = sonde::abi::server_address(address);
  if (!open_) return false;
  uint64_t size = 0;
  name = table_.nearest(address, &offset, &size);
  return name != nullptr && (size == 0 || offset < size);
}

bool PosixSymbols::symbolize(uint64_t address, bool with_offset, TextBuffer& out) {
  address = sonde::abi::server_address(address);  // %pS of an address as programs see it
  bool kernel = is_kernel_address(address);
  const elf::SymbolTable& table = kernel ? kernel_table_ : table_;
  if (!(kernel ? kernel_open_ : open_)) return false;
  uint64_t offset = 0, size = 0;
  const char* name = table.nearest(address, &offset, &size);
  if (name == nullptr || (size != 0 && offset >= size)) return false;
  out.append(name);
  if (with_offset) {
    out.append("+0x");
    out.append_unsigned(offset, 16);
    out.append("/0x");
    out.append_unsigned(size, 16);
  }
  // Linux's way for a module's symbol: its name after the symbol's.
  if (kernel) {
    out.append(" [");
    out.append(kKernelModule);
    out.append("]");
  }
  return true;
}

}  // namespace trace
