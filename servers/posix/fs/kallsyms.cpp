// SPDX-License-Identifier: MIT
// /proc/kallsyms: the POSIX server's functions and objects (Linux's "kernel" here, at its kernel
// alias, rt/kernel_alias.hpp), then the microkernel's marked [microkernel], in Linux's
// format, sorted by address; and /proc/modules.
#include "fs/kallsyms.hpp"

#include <string.h>

#include "elf/elf64.hpp"
#include "platform/kernel.hpp"
#include "rt/format.hpp"
#include "rt/kernel_alias.hpp"
#include "rt/sort.hpp"

namespace posix {

namespace {

struct Line {
  uint64_t value;
  const char* name;
  char type;
  bool microkernel;
};

// Linux's letters: T/t text, D/d data (objects); lower case for local symbols.
char type_of(const elf::SymbolEntry& entry) {
  char letter = entry.function ? 'T' : 'D';
  return entry.global ? letter : static_cast<char>(letter + ('a' - 'A'));
}

size_t collect(const elf::SymbolTable& table, bool microkernel, Line* lines, size_t count,
               size_t capacity) {
  for (size_t i = 0; i < table.count() && count < capacity; ++i) {
    elf::SymbolEntry entry;
    if (!table.entry(i, entry) || entry.name == nullptr || entry.name[0] == 0) continue;
    // The POSIX server's own symbols where Linux tools look for kernel ones (its alias).
    uint64_t value = microkernel ? entry.value : sonde::abi::kernel_alias(entry.value);
    lines[count++] = Line{value, entry.name, type_of(entry), microkernel};
  }
  return count;
}

}  // namespace

rt::Result<void> make_kallsyms(FileTree& tree, const sys::ServerStartInfo& info) {
  elf::SymbolTable own, kernel;
  bool have_own =
      info.traced_image_size > 0 &&
      own.open(reinterpret_cast<const uint8_t*>(sys::kTracedImageBase + info.traced_image_offset),
               info.traced_image_size) == elf::ElfError::kNone;
  bool have_kernel = info.kernel_image_size > 0 &&
                     kernel.open(reinterpret_cast<const uint8_t*>(sys::kKernelImageBase +
                                                                  info.kernel_image_offset),
                                 info.kernel_image_size) == elf::ElfError::kNone;
  size_t capacity = (have_own ? own.count() : 0) + (have_kernel ? kernel.count() : 0);
  rt::Allocator& heap = platform::heap();
  capacity += 2;  // _stext and _text
  auto* lines = static_cast<Line*>(heap.allocate((capacity + 1) * sizeof(Line), alignof(Line)));
  if (lines == nullptr) return rt::err(rt::kENOMEM);
  size_t count = 0;
  if (have_own) count = collect(own, false, lines, count, capacity - 2);
  // Linux's _stext and _text: where the kernel's text starts (perf record's reference symbol
  // for kernel relocation), here the POSIX server's first function.
  uint64_t text_start = ~uint64_t{0};
  for (size_t i = 0; i < count; ++i) {
    if ((lines[i].type == 'T' || lines[i].type == 't') && lines[i].value < text_start)
      text_start = lines[i].value;
  }
  if (text_start != ~uint64_t{0}) {
    lines[count++] = Line{text_start, "_stext", 'T', false};
    lines[count++] = Line{text_start, "_text", 'T', false};
  }
  if (have_kernel) count = collect(kernel, true, lines, count, capacity);
  rt::shell_sort(lines, count, [](const Line& a, const Line& b) { return a.value < b.value; });
  size_t bytes = 0;
  for (size_t i = 0; i < count; ++i) bytes += 16 + 3 + strlen(lines[i].name) + 15 + 1;
  auto* text = static_cast<char*>(heap.allocate(bytes + 1, 1));
  if (text == nullptr) {
    heap.deallocate(lines, (capacity + 1) * sizeof(Line));
    return rt::err(rt::kENOMEM);
  }
  size_t used = 0;
  for (size_t i = 0; i < count; ++i) {
    used +=
        rt::format_to(text + used, bytes + 1 - used, "%016lx %c %s%s\n", lines[i].value,
                      lines[i].type, lines[i].name, lines[i].microkernel ? "\t[microkernel]" : "");
  }
  Inode* proc = tree.find(tree.root(), "proc", 4);
  rt::Result<void> result = rt::err(rt::kENOENT);
  if (proc != nullptr) {
    auto made = tree.create(proc, "kallsyms", kTypeRegular | 0444);
    if (made.ok()) {
      result = tree.set_contents(made.value(), reinterpret_cast<const uint8_t*>(text), used, true);
    } else {
      result = made.error();
    }
  }
  // /proc/modules: the one module kallsyms names, the microkernel ("name size refcount deps
  // state address"), so that perf finds what [microkernel] symbols belong to.
  uint64_t low = ~uint64_t{0}, high = 0;
  for (size_t i = 0; i < count; ++i) {
    if (!lines[i].microkernel) continue;
    if (lines[i].value < low) low = lines[i].value;
    if (lines[i].value > high) high = lines[i].value;
  }
  if (result.ok() && proc != nullptr && low <= high) {
    char module[96];
    size_t length = rt::format_to(module, sizeof(module), "microkernel %lu 0 - Live 0x%016lx\n",
                                  high - low + 1, low);
    auto made = tree.create(proc, "modules", kTypeRegular | 0444);
    result = made.ok() ? tree.set_contents(made.value(), reinterpret_cast<const uint8_t*>(module),
                                           length, true)
                       : made.error();
  }
  heap.deallocate(text, bytes + 1);
  heap.deallocate(lines, (capacity + 1) * sizeof(Line));
  return result;
}

}  // namespace posix
