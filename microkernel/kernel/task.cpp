// Root task loading and safe access to user memory.
#include "kernel/task.hpp"

#include "elf/elf64.hpp"
#include "kernel/console.hpp"
#include "kernel/memory.hpp"
#include "kernel/page_table.hpp"
#include "kernel/panic.hpp"

extern "C" void* memcpy(void*, const void*, size_t);
extern "C" void* memset(void*, int, size_t);

namespace kernel {
namespace {

Task root_task{"root", 0, false};

// Maps (or reuses, when two segments share a page) a zeroed user page and returns its frame.
uint64_t user_page(PageTable& table, uint64_t virtual_address, uint64_t flags, const char* name) {
  uint64_t physical = 0;
  uint64_t existing_flags = 0;
  if (table.translate(virtual_address, &physical, &existing_flags)) {
    uint64_t merged = page::kUser | ((existing_flags | flags) & page::kWritable);
    if ((existing_flags & page::kNoExecute) == 0 || (flags & page::kNoExecute) == 0) {
      // executable if either segment is
    } else {
      merged |= page::kNoExecute;
    }
    table.protect(virtual_address, merged);
    return physical & ~(page::kSize - 1);
  }
  uint64_t frame = frames().allocate();
  if (frame == 0) fatal("boot: out of memory loading root task module '%s'", name);
  memset(physical_to_virtual(frame), 0, page::kSize);
  if (table.map(virtual_address, frame, flags | page::kUser) != MapError::kNone) {
    fatal("boot: cannot map root task module '%s' at 0x%lx", name, virtual_address);
  }
  return frame;
}

}  // namespace

Task* current_task() { return root_task.running ? &root_task : nullptr; }

void load_root_task(const BootModule& module, const char* name, arch::TrapFrame& entry) {
  const auto* image = static_cast<const uint8_t*>(physical_to_virtual(module.start));
  size_t size = module.end - module.start;
  elf::Executable executable;
  elf::Limits limits{kUserLowest, kUserStackTop - kUserStackPages * page::kSize};
  if (elf::ElfError error = elf::parse_executable(image, size, limits, executable);
      error != elf::ElfError::kNone) {
    fatal("boot: root task module '%s' is not a valid ELF executable: %s", name,
          elf::error_message(error));
  }

  uint64_t root = create_address_space();
  if (root == 0) fatal("boot: out of memory creating the root task's address space");
  PageTable table(frame_source(), root);

  for (size_t i = 0; i < executable.segment_count; ++i) {
    const elf::Segment& s = executable.segments[i];
    uint64_t flags = ((s.flags & elf::kFlagWrite) ? page::kWritable : 0) |
                     ((s.flags & elf::kFlagExecute) ? 0 : page::kNoExecute);
    uint64_t first = s.virtual_address & ~(page::kSize - 1);
    uint64_t end = s.virtual_address + s.memory_size;
    for (uint64_t va = first; va < end; va += page::kSize) {
      uint64_t frame = user_page(table, va, flags, name);
      // Copy the part of the file image that falls in this page.
      uint64_t page_start = va > s.virtual_address ? va : s.virtual_address;
      uint64_t page_end = va + page::kSize < end ? va + page::kSize : end;
      uint64_t file_end = s.virtual_address + s.file_size;
      if (page_start < file_end) {
        uint64_t copy_end = page_end < file_end ? page_end : file_end;
        memcpy(static_cast<uint8_t*>(physical_to_virtual(frame)) + (page_start - va),
               image + s.file_offset + (page_start - s.virtual_address), copy_end - page_start);
      }
    }
  }
  for (uint64_t i = 1; i <= kUserStackPages; ++i) {
    user_page(table, kUserStackTop - i * page::kSize, page::kWritable | page::kNoExecute, name);
  }

  root_task.page_table_root = root;
  root_task.running = true;
  entry = arch::TrapFrame{};
  entry.rip = executable.entry;
  entry.cs = arch::kUserCode;
  entry.ss = arch::kUserData;
  entry.rsp = kUserStackTop - 8;  // as after a call: rsp + 8 is 16-byte aligned
  entry.rflags = 0x202;           // interrupts on
}

bool copy_from_user(void* buffer, uint64_t user_address, size_t length) {
  Task* task = current_task();
  if (task == nullptr) return false;
  if (user_address >= page::kUserTop || length > page::kUserTop - user_address) return false;
  PageTable table(frame_source(), task->page_table_root);
  auto* out = static_cast<uint8_t*>(buffer);
  while (length > 0) {
    uint64_t physical = 0, flags = 0;
    if (!table.translate(user_address, &physical, &flags) || (flags & page::kUser) == 0) return false;
    size_t chunk = page::kSize - (user_address & (page::kSize - 1));
    if (chunk > length) chunk = length;
    memcpy(out, physical_to_virtual(physical), chunk);
    out += chunk;
    user_address += chunk;
    length -= chunk;
  }
  return true;
}

}  // namespace kernel
