// SPDX-License-Identifier: MIT
// ELF segment loading and checked user-memory reads, independent of the kernel's direct map.
#include "kernel/loader.hpp"

namespace kernel {
namespace {

void copy_bytes(uint8_t* to, const uint8_t* from, size_t length) {
  for (size_t i = 0; i < length; ++i) to[i] = from[i];
}

uint64_t minimum(uint64_t a, uint64_t b) { return a < b ? a : b; }

// Maps a zeroed user page at `virtual_address`, or, when a previous segment already mapped
// that page, widens its permissions; returns the frame, or 0 with `error` set.
uint64_t user_page(PageTable& table, uint64_t virtual_address, uint64_t flags, LoadError& error) {
  uint64_t physical = 0;
  uint64_t existing = 0;
  if (table.translate(virtual_address, &physical, &existing)) {
    uint64_t merged = page::kUser | ((existing | flags) & page::kWritable);
    // Executable if either segment is.
    if ((existing & page::kNoExecute) != 0 && (flags & page::kNoExecute) != 0) {
      merged |= page::kNoExecute;
    }
    if (table.protect(virtual_address, merged) != MapError::kNone) {
      error = LoadError::kMapFailed;
      return 0;
    }
    return physical & ~(page::kSize - 1);
  }
  const FrameSource& source = table.source();
  uint64_t frame = source.allocate_zeroed(source.state);
  if (frame == 0) {
    error = LoadError::kNoMemory;
    return 0;
  }
  MapError mapped = table.map(virtual_address, frame, flags | page::kUser);
  if (mapped != MapError::kNone) {
    error = mapped == MapError::kNoMemory ? LoadError::kNoMemory : LoadError::kMapFailed;
    return 0;
  }
  return frame;
}

}  // namespace

const char* load_error_message(LoadError error) {
  switch (error) {
    case LoadError::kNone: return "no error";
    case LoadError::kNoMemory: return "out of memory";
    case LoadError::kMapFailed: return "cannot map a page";
  }
  return "unknown error";
}

LoadError load_executable(PageTable& table, const elf::Executable& executable, const uint8_t* image,
                          uint64_t stack_top, uint64_t stack_pages, uint64_t* failed_address) {
  LoadError error = LoadError::kNone;
  for (size_t i = 0; i < executable.segment_count; ++i) {
    const elf::Segment& s = executable.segments[i];
    uint64_t flags = ((s.flags & elf::kFlagWrite) ? page::kWritable : 0) |
                     ((s.flags & elf::kFlagExecute) ? 0 : page::kNoExecute);
    uint64_t end = s.virtual_address + s.memory_size;
    uint64_t file_end = s.virtual_address + s.file_size;
    for (uint64_t va = s.virtual_address & ~(page::kSize - 1); va < end; va += page::kSize) {
      uint64_t frame = user_page(table, va, flags, error);
      if (frame == 0) {
        if (failed_address != nullptr) *failed_address = va;
        return error;
      }
      // The part of the file image that falls in this page; the rest stays zero.
      uint64_t from = va > s.virtual_address ? va : s.virtual_address;
      uint64_t to = minimum(minimum(va + page::kSize, end), file_end);
      if (from < to) {
        copy_bytes(frame_bytes(table.source(), frame) + (from - va),
                   image + s.file_offset + (from - s.virtual_address), to - from);
      }
    }
  }
  for (uint64_t i = 1; i <= stack_pages; ++i) {
    uint64_t va = stack_top - i * page::kSize;
    if (user_page(table, va, page::kWritable | page::kNoExecute, error) == 0) {
      if (failed_address != nullptr) *failed_address = va;
      return error;
    }
  }
  return LoadError::kNone;
}

bool copy_from_user(const PageTable& table, void* buffer, uint64_t user_address, size_t length) {
  if (user_address >= page::kUserTop || length > page::kUserTop - user_address) return false;
  auto* out = static_cast<uint8_t*>(buffer);
  while (length > 0) {
    uint64_t physical = 0, flags = 0;
    if (!table.translate(user_address, &physical, &flags) || (flags & page::kUser) == 0)
      return false;
    size_t chunk = page::kSize - (user_address & (page::kSize - 1));
    if (chunk > length) chunk = length;
    uint64_t frame = physical & ~(page::kSize - 1);
    copy_bytes(out, frame_bytes(table.source(), frame) + (physical - frame), chunk);
    out += chunk;
    user_address += chunk;
    length -= chunk;
  }
  return true;
}

bool copy_to_user(const PageTable& table, uint64_t user_address, const void* buffer,
                  size_t length) {
  if (user_address >= page::kUserTop || length > page::kUserTop - user_address) return false;
  // Check every page first, so a failed copy writes nothing.
  for (uint64_t address = user_address & ~(page::kSize - 1); address < user_address + length;
       address += page::kSize) {
    uint64_t physical = 0, flags = 0;
    if (!table.translate(address, &physical, &flags)) return false;
    if ((flags & (page::kUser | page::kWritable)) != (page::kUser | page::kWritable)) return false;
  }
  const auto* in = static_cast<const uint8_t*>(buffer);
  while (length > 0) {
    uint64_t physical = 0, flags = 0;
    table.translate(user_address, &physical, &flags);
    size_t chunk = page::kSize - (user_address & (page::kSize - 1));
    if (chunk > length) chunk = length;
    uint64_t frame = physical & ~(page::kSize - 1);
    copy_bytes(frame_bytes(table.source(), frame) + (physical - frame), in, chunk);
    in += chunk;
    user_address += chunk;
    length -= chunk;
  }
  return true;
}

}  // namespace kernel
