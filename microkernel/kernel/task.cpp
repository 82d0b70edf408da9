// Root task loading and safe access to user memory.
#include "kernel/task.hpp"

#include "elf/elf64.hpp"
#include "kernel/console.hpp"
#include "kernel/loader.hpp"
#include "kernel/memory.hpp"
#include "kernel/page_table.hpp"
#include "kernel/panic.hpp"

namespace kernel {
namespace {

Task root_task{"root", 0, false};

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
  uint64_t failed_address = 0;
  if (LoadError error = load_executable(table, executable, image, kUserStackTop, kUserStackPages,
                                        &failed_address);
      error != LoadError::kNone) {
    fatal("boot: cannot load root task module '%s' at 0x%lx: %s", name, failed_address,
          load_error_message(error));
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
  return copy_from_user(PageTable(frame_source(), task->page_table_root), buffer, user_address,
                        length);
}

}  // namespace kernel
