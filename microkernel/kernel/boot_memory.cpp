// SPDX-License-Identifier: MIT
// Boot memory planning: bitmap placement and the reserved ranges, over the parsed memory map.
#include "kernel/boot_memory.hpp"

namespace kernel {
namespace {

// No physical address reaches this (x86-64 has at most 52 bits); past it, give up rather than
// let rounding wrap around.
constexpr uint64_t kHighestSensibleAddress = uint64_t{1} << 62;

uint64_t round_up(uint64_t value) { return (value + kFrameSize - 1) & ~(kFrameSize - 1); }

bool overlaps(uint64_t start, uint64_t end, PhysicalRange range) {
  return start < range.end && range.start < end;
}

// The first address at or after `start` where [start, start + size) overlaps nothing in use;
// returns the smallest such start by stepping past each obstacle it hits.
uint64_t skip_in_use(const BootInfo& boot, const BootMemoryInUse& in_use, uint64_t start,
                     uint64_t size) {
  for (bool moved = true; moved;) {
    moved = false;
    if (start > kHighestSensibleAddress) return ~uint64_t{0};  // the caller sees the overflow
    start = round_up(start < kLowMemoryEnd ? kLowMemoryEnd : start);
    PhysicalRange obstacles[2 + kMaxModules];
    size_t count = 0;
    obstacles[count++] = in_use.kernel;
    obstacles[count++] = in_use.boot_info;
    for (size_t i = 0; i < boot.module_count; ++i) {
      obstacles[count++] = PhysicalRange{boot.modules[i].start, boot.modules[i].end};
    }
    for (size_t i = 0; i < count; ++i) {
      if (obstacles[i].end > obstacles[i].start && overlaps(start, start + size, obstacles[i])) {
        start = round_up(obstacles[i].end);
        moved = true;
      }
    }
  }
  return start;
}

}  // namespace

const char* boot_memory_error_message(BootMemoryError error) {
  switch (error) {
    case BootMemoryError::kNone: return "no error";
    case BootMemoryError::kNoUsableMemory: return "the memory map has no usable RAM";
    case BootMemoryError::kNoRoomForBitmap: return "no free RAM for the frame bitmap";
  }
  return "unknown error";
}

BootMemoryError plan_boot_memory(const BootInfo& boot, const BootMemoryInUse& in_use,
                                 uint64_t reachable_end, BootMemoryPlan& out) {
  out = BootMemoryPlan{0, 0, 0};
  for (size_t i = 0; i < boot.region_count; ++i) {
    const MemoryRegion& r = boot.regions[i];
    uint64_t end = r.start + r.length;
    if (r.usable && end >= r.start && end > out.highest) out.highest = end;
  }
  if (out.highest <= kLowMemoryEnd) return BootMemoryError::kNoUsableMemory;
  out.bitmap_size = PhysicalAllocator::bitmap_bytes(out.highest);

  uint64_t best = 0;
  for (size_t i = 0; i < boot.region_count; ++i) {
    const MemoryRegion& r = boot.regions[i];
    uint64_t region_end = r.start + r.length;
    if (!r.usable || region_end < r.start) continue;
    uint64_t start = skip_in_use(boot, in_use, r.start, out.bitmap_size);
    uint64_t end = start + out.bitmap_size;
    if (end < start || end > region_end || end > reachable_end) continue;
    if (best == 0 || start < best) best = start;
  }
  if (best == 0) return BootMemoryError::kNoRoomForBitmap;
  out.bitmap_physical = best;
  return BootMemoryError::kNone;
}

void release_boot_memory(PhysicalAllocator& allocator, const BootInfo& boot,
                         const BootMemoryInUse& in_use, const BootMemoryPlan& plan,
                         uint64_t window_start, uint64_t window_end) {
  for (size_t i = 0; i < boot.region_count; ++i) {
    const MemoryRegion& r = boot.regions[i];
    if (!r.usable) continue;
    uint64_t start = r.start > window_start ? r.start : window_start;
    uint64_t end = r.start + r.length;
    if (end < r.start) end = ~uint64_t{0};  // a region that wraps: clip it at the top
    if (end > window_end) end = window_end;
    if (start < end) allocator.add_free_range(start, end);
  }
  // Memory maps may list usable RAM over what the loader placed there; reserve afterwards.
  allocator.reserve_range(0, kLowMemoryEnd);
  allocator.reserve_range(in_use.kernel.start, in_use.kernel.end);
  allocator.reserve_range(in_use.boot_info.start, in_use.boot_info.end);
  allocator.reserve_range(plan.bitmap_physical, plan.bitmap_physical + plan.bitmap_size);
  for (size_t i = 0; i < boot.module_count; ++i) {
    allocator.reserve_range(boot.modules[i].start, boot.modules[i].end);
  }
}

}  // namespace kernel
