// SPDX-License-Identifier: MIT
// Kernel memory setup: physical frames, the direct map, the kernel page table.
#include "kernel/memory.hpp"

#include "arch/x86_64/cpu.hpp"
#include "kernel/boot_memory.hpp"
#include "kernel/console.hpp"

extern "C" char kernel_physical_start[], kernel_physical_end[];
extern "C" char kernel_text_start[], kernel_rodata_start[], kernel_data_start[],
    kernel_virtual_end[], kernel_stack_guard[];

namespace kernel {
namespace {

PhysicalAllocator allocator;
uint64_t kernel_root = 0;
bool direct_map_ready = false;

uint64_t allocate_zeroed(void*) {
  uint64_t frame = allocator.allocate();
  if (frame == 0) return 0;
  auto* words = static_cast<uint64_t*>(direct_map_ready ? physical_to_virtual(frame)
                                                        : early_physical_to_virtual(frame));
  for (int i = 0; i < 512; ++i) words[i] = 0;
  return frame;
}

uint64_t* table_at(void*, uint64_t physical) {
  return static_cast<uint64_t*>(direct_map_ready ? physical_to_virtual(physical)
                                                 : early_physical_to_virtual(physical));
}

constexpr uint64_t kEarlyLimit = 1ull << 30;  // what the boot page tables reach

uint64_t address_of(const char* symbol) { return reinterpret_cast<uint64_t>(symbol); }

// The kernel image at -2 GiB, page by page: text read+execute, read-only data read-only,
// data and bss read+write, all but text no-execute; the stack's guard page stays unmapped.
bool map_kernel_image(PageTable& table) {
  struct Part {
    uint64_t start, end, flags;
  };
  const Part parts[] = {
      {address_of(kernel_text_start), address_of(kernel_rodata_start), 0},
      {address_of(kernel_rodata_start), address_of(kernel_data_start), page::kNoExecute},
      {address_of(kernel_data_start), address_of(kernel_virtual_end),
       page::kWritable | page::kNoExecute},
  };
  for (const Part& part : parts) {
    for (uint64_t va = part.start; va < part.end; va += page::kSize) {
      if (va == address_of(kernel_stack_guard)) continue;
      if (table.map(va, va - kKernelBase, part.flags) != MapError::kNone) return false;
    }
  }
  return true;
}

}  // namespace

PhysicalAllocator& frames() { return allocator; }
FrameSource frame_source() { return FrameSource{allocate_zeroed, table_at, nullptr}; }
uint64_t kernel_page_table_root() { return kernel_root; }

bool memory_init(const BootInfo& boot, uint64_t boot_info_physical, uint64_t boot_info_size) {
  BootMemoryInUse in_use{
      PhysicalRange{address_of(kernel_physical_start), address_of(kernel_physical_end)},
      PhysicalRange{boot_info_physical, boot_info_physical + boot_info_size}};
  BootMemoryPlan plan;
  if (BootMemoryError e = plan_boot_memory(boot, in_use, kEarlyLimit, plan);
      e != BootMemoryError::kNone) {
    printk("boot: %s\n", boot_memory_error_message(e));
    return false;
  }
  uint64_t highest = plan.highest;
  uint64_t bitmap_physical = plan.bitmap_physical;
  allocator.init(static_cast<uint64_t*>(early_physical_to_virtual(bitmap_physical)),
                 (highest + kFrameSize - 1) / kFrameSize);
  // Until the direct map exists, page-table frames must be reachable through the boot map,
  // so only RAM below kEarlyLimit is handed out for now.
  release_boot_memory(allocator, boot, in_use, plan, 0, kEarlyLimit);

  kernel_root = allocate_zeroed(nullptr);
  if (kernel_root == 0) return false;
  PageTable table(frame_source(), kernel_root);
  uint64_t direct_end = (highest + page::kLargeSize - 1) & ~(page::kLargeSize - 1);
  for (uint64_t p = 0; p < direct_end; p += page::kLargeSize) {
    if (table.map_large(kDirectMapBase + p, p, page::kWritable | page::kNoExecute) !=
        MapError::kNone) {
      printk("boot: out of memory building the direct map\n");
      return false;
    }
  }
  if (!map_kernel_image(table)) {
    printk("boot: out of memory mapping the kernel image\n");
    return false;
  }
  // From here on only the kernel image stays at -2 GiB: everything else (the bitmap, the
  // boot information, modules) is reached through the direct map.
  arch::write_cr3(kernel_root);
  direct_map_ready = true;
  allocator.move_bitmap(static_cast<uint64_t*>(physical_to_virtual(bitmap_physical)));

  // Now every frame is reachable.
  release_boot_memory(allocator, boot, in_use, plan, kEarlyLimit, highest);
  return true;
}

bool in_kernel_stack_guard(uint64_t virtual_address) {
  return virtual_address - address_of(kernel_stack_guard) < page::kSize;
}

void* map_device_page(uint64_t physical) {
  static uint64_t next = kDeviceBase;
  PageTable table(frame_source(), kernel_root);
  uint64_t address = next;
  constexpr uint64_t kUncached = (1ull << 3) | (1ull << 4);  // PWT, PCD
  if (table.map(address, physical & ~(page::kSize - 1),
                page::kPresent | page::kWritable | page::kNoExecute | kUncached) !=
      MapError::kNone) {
    return nullptr;
  }
  next += page::kSize;
  return reinterpret_cast<void*>(address + (physical & (page::kSize - 1)));
}

uint64_t create_address_space() {
  uint64_t root = allocate_zeroed(nullptr);
  if (root == 0) return 0;
  auto* fresh = static_cast<uint64_t*>(physical_to_virtual(root));
  auto* kernel = static_cast<const uint64_t*>(physical_to_virtual(kernel_root));
  for (int i = 256; i < 512; ++i) fresh[i] = kernel[i];
  return root;
}

}  // namespace kernel
