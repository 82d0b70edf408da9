// Kernel memory setup: physical frames, the direct map, the kernel page table.
#include "kernel/memory.hpp"

#include "arch/x86_64/cpu.hpp"
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
  uint64_t highest = 0;
  for (size_t i = 0; i < boot.region_count; ++i) {
    const MemoryRegion& r = boot.regions[i];
    if (r.usable && r.start + r.length > highest) highest = r.start + r.length;
  }
  if (highest == 0) {
    printk("boot: the memory map has no usable RAM\n");
    return false;
  }

  // The bitmap goes in the first usable, early-reachable stretch past the kernel and modules.
  uint64_t bitmap_size = PhysicalAllocator::bitmap_bytes(highest);
  uint64_t avoid_end = reinterpret_cast<uint64_t>(kernel_physical_end);
  for (size_t i = 0; i < boot.module_count; ++i) {
    if (boot.modules[i].end > avoid_end) avoid_end = boot.modules[i].end;
  }
  if (boot_info_physical + boot_info_size > avoid_end) avoid_end = boot_info_physical + boot_info_size;
  avoid_end = (avoid_end + kFrameSize - 1) & ~(kFrameSize - 1);
  uint64_t bitmap_physical = 0;
  for (size_t i = 0; i < boot.region_count && bitmap_physical == 0; ++i) {
    const MemoryRegion& r = boot.regions[i];
    if (!r.usable) continue;
    uint64_t start = r.start > avoid_end ? r.start : avoid_end;
    start = (start + kFrameSize - 1) & ~(kFrameSize - 1);
    if (start + bitmap_size <= r.start + r.length && start + bitmap_size <= kEarlyLimit) {
      bitmap_physical = start;
    }
  }
  if (bitmap_physical == 0) {
    printk("boot: no room for the frame bitmap (%lu bytes) below 1 GiB\n", bitmap_size);
    return false;
  }

  allocator.init(static_cast<uint64_t*>(early_physical_to_virtual(bitmap_physical)),
                 (highest + kFrameSize - 1) / kFrameSize);
  for (size_t i = 0; i < boot.region_count; ++i) {
    const MemoryRegion& r = boot.regions[i];
    if (r.usable) allocator.add_free_range(r.start, r.start + r.length);
  }
  allocator.reserve_range(0, 0x100000);  // BIOS areas, boot code
  allocator.reserve_range(reinterpret_cast<uint64_t>(kernel_physical_start),
                          reinterpret_cast<uint64_t>(kernel_physical_end));
  allocator.reserve_range(bitmap_physical, bitmap_physical + bitmap_size);
  allocator.reserve_range(boot_info_physical, boot_info_physical + boot_info_size);
  for (size_t i = 0; i < boot.module_count; ++i) {
    allocator.reserve_range(boot.modules[i].start, boot.modules[i].end);
  }
  // Until the direct map exists, page-table frames must be reachable through the boot map.
  allocator.reserve_range(kEarlyLimit, highest);

  kernel_root = allocate_zeroed(nullptr);
  if (kernel_root == 0) return false;
  PageTable table(frame_source(), kernel_root);
  uint64_t direct_end = (highest + page::kLargeSize - 1) & ~(page::kLargeSize - 1);
  for (uint64_t p = 0; p < direct_end; p += page::kLargeSize) {
    if (table.map_large(kDirectMapBase + p, p, page::kWritable | page::kNoExecute) != MapError::kNone) {
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
  for (size_t i = 0; i < boot.region_count; ++i) {
    const MemoryRegion& r = boot.regions[i];
    if (r.usable && r.start + r.length > kEarlyLimit) {
      allocator.add_free_range(r.start > kEarlyLimit ? r.start : kEarlyLimit, r.start + r.length);
    }
  }
  for (size_t i = 0; i < boot.module_count; ++i) {
    allocator.reserve_range(boot.modules[i].start, boot.modules[i].end);
  }
  return true;
}

bool in_kernel_stack_guard(uint64_t virtual_address) {
  return virtual_address - address_of(kernel_stack_guard) < page::kSize;
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
