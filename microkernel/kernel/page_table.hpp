// SPDX-License-Identifier: MIT
// Four-level x86-64 page tables: map, unmap, translate, independent of how frames are found.
#pragma once

#include <stdint.h>

namespace kernel {

namespace page {
inline constexpr uint64_t kPresent = 1ull << 0;
inline constexpr uint64_t kWritable = 1ull << 1;
inline constexpr uint64_t kUser = 1ull << 2;
inline constexpr uint64_t kLarge = 1ull << 7;  // 2 MiB page in a page directory entry
// A software bit (the MMU ignores bits 9..11): this leaf maps a page another VSpace owns
// (VSpace MapForeign). Borrowed pages cannot be lent on or probed.
inline constexpr uint64_t kBorrowed = 1ull << 9;
inline constexpr uint64_t kNoExecute = 1ull << 63;
inline constexpr uint64_t kAddressMask = 0x000ffffffffff000ull;
inline constexpr uint64_t kSize = 4096;
inline constexpr uint64_t kLargeSize = 2ull << 20;
inline constexpr uint64_t kUserTop = 0x0000800000000000ull;  // first non-canonical low address
// The end of what user mappings may cover: one page below kUserTop, as Linux's TASK_SIZE. A
// `syscall` ending the last page would leave rcx = kUserTop, and sysretq to a non-canonical rip
// raises #GP in ring 0 (with the user's rsp) on Intel CPUs; with nothing mapped there, no
// instruction can end at kUserTop.
inline constexpr uint64_t kUserMapTop = kUserTop - kSize;

constexpr unsigned index(uint64_t virtual_address, int level) {  // level 4 = PML4 .. 1 = PT
  return static_cast<unsigned>((virtual_address >> (12 + 9 * (level - 1))) & 0x1ff);
}
constexpr bool is_canonical(uint64_t address) {
  uint64_t top = address >> 47;
  return top == 0 || top == 0x1ffff;
}
}  // namespace page

// Where page-table frames come from and how the kernel reaches them; the kernel uses the
// physical allocator and its direct map, the host tests a simulated memory.
struct FrameSource {
  uint64_t (*allocate_zeroed)(void* state);               // physical address or 0
  uint64_t* (*table_at)(void* state, uint64_t physical);  // any frame, not only tables
  void* state;
};

enum class MapError : uint8_t {
  kNone,
  kNotCanonical,
  kUnaligned,
  kNoMemory,
  kAlreadyMapped,
  kNotMapped,
  kLargePageInTheWay
};

// translate() reports kPresent, kWritable and kUser as the walk grants them, kNoExecute if
// any level forbids execution, and kBorrowed when the leaf carries it.
class PageTable {
 public:
  PageTable(FrameSource source, uint64_t root_physical) : source_(source), root_(root_physical) {}

  uint64_t root() const { return root_; }
  const FrameSource& source() const { return source_; }
  // Maps one 4 KiB page; intermediate tables get present|writable|user-if-requested.
  MapError map(uint64_t virtual_address, uint64_t physical, uint64_t flags);
  // Maps one 2 MiB page (for the kernel's direct map).
  MapError map_large(uint64_t virtual_address, uint64_t physical, uint64_t flags);
  // Removes a 4 KiB mapping and returns its physical address through `physical`.
  MapError unmap(uint64_t virtual_address, uint64_t* physical);
  // Changes the flags of an existing 4 KiB mapping.
  MapError protect(uint64_t virtual_address, uint64_t flags);
  // Resolves an address; returns false if unmapped. `flags` gets the effective permissions
  // (writable/user only if every level allows it, no-execute if any level forbids it).
  bool translate(uint64_t virtual_address, uint64_t* physical, uint64_t* flags) const;

 private:
  uint64_t* walk(uint64_t virtual_address, bool create, uint64_t table_flags, MapError* error);
  FrameSource source_;
  uint64_t root_;
};

}  // namespace kernel
