// SPDX-License-Identifier: MIT
// From the boot memory map to free frames: where the frame bitmap goes, what stays reserved.
#pragma once

#include <stdint.h>

#include "kernel/multiboot2.hpp"
#include "kernel/physical_allocator.hpp"

namespace kernel {

struct PhysicalRange {
  uint64_t start;
  uint64_t end;  // exclusive
};

// What the boot loader left in memory besides free RAM.
struct BootMemoryInUse {
  PhysicalRange kernel;     // the kernel image
  PhysicalRange boot_info;  // the multiboot2 information
};

struct BootMemoryPlan {
  uint64_t highest;          // end of the highest usable RAM
  uint64_t bitmap_physical;  // where the allocator's bitmap lives
  uint64_t bitmap_size;      // bytes
};

enum class BootMemoryError : uint8_t { kNone, kNoUsableMemory, kNoRoomForBitmap };
const char* boot_memory_error_message(BootMemoryError error);

// Everything below this stays reserved: real-mode structures, BIOS areas, the boot code.
inline constexpr uint64_t kLowMemoryEnd = 0x100000;

// Chooses a place for the frame bitmap: the lowest page-aligned stretch of usable RAM that
// overlaps none of the kernel, the boot information, the modules or low memory, and ends at
// or below `reachable_end` (what the kernel can write to before its own page tables exist).
BootMemoryError plan_boot_memory(const BootInfo& boot, const BootMemoryInUse& in_use,
                                 uint64_t reachable_end, BootMemoryPlan& out);

// Marks the usable RAM inside [window_start, window_end) free, then reserves everything in
// use (low memory, kernel, boot information, modules, the bitmap) wherever it lies. The
// allocator must have been set up with plan.bitmap_size bytes of bitmap; calling this again
// for another window never frees what an earlier call reserved.
void release_boot_memory(PhysicalAllocator& allocator, const BootInfo& boot,
                         const BootMemoryInUse& in_use, const BootMemoryPlan& plan,
                         uint64_t window_start, uint64_t window_end);

}  // namespace kernel
