// SPDX-License-Identifier: MIT
// Kernel memory: the physical allocator, the direct map of RAM, and the kernel's page table.
#pragma once

#include <stdint.h>

#include "kernel/multiboot2.hpp"
#include "kernel/page_table.hpp"
#include "kernel/physical_allocator.hpp"

namespace kernel {

inline constexpr uint64_t kKernelBase = 0xffffffff80000000ull;     // kernel image, -2 GiB
inline constexpr uint64_t kDirectMapBase = 0xffff800000000000ull;  // all RAM, 2 MiB pages

// Before memory_init, only the first GiB is reachable (through the boot page tables).
inline void* early_physical_to_virtual(uint64_t physical) {
  return reinterpret_cast<void*>(physical + kKernelBase);
}
// Kernel stack overflows run into this unmapped page (boot.S).
bool in_kernel_stack_guard(uint64_t virtual_address);

inline void* physical_to_virtual(uint64_t physical) {
  return reinterpret_cast<void*>(physical + kDirectMapBase);
}

// Builds the frame allocator from the memory map (keeping the kernel image, the boot
// information and the modules reserved), then switches to the kernel's own page tables:
// the direct map and the kernel image, nothing else. Early addresses (from
// early_physical_to_virtual) are invalid afterwards. Returns false with a message printed if
// memory is unusable.
bool memory_init(const BootInfo& boot, uint64_t boot_info_physical, uint64_t boot_info_size);

PhysicalAllocator& frames();
FrameSource frame_source();
uint64_t kernel_page_table_root();

// Device registers (the local APIC) live here, uncached, in the kernel half.
inline constexpr uint64_t kDeviceBase = 0xfffffe0000000000ull;
// Maps one page of device memory; call before the first user address space is made (they
// copy the kernel half). Null when out of memory.
void* map_device_page(uint64_t physical);

// A new, empty address space sharing the kernel half; 0 when out of memory.
uint64_t create_address_space();

}  // namespace kernel
