// The user task the kernel runs today: the root task in its own address space.
// (Threads, TCBs and scheduling arrive with the capability kernel; see issue 5.)
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "arch/x86_64/trap_frame.hpp"
#include "kernel/multiboot2.hpp"

namespace kernel {

inline constexpr uint64_t kUserLowest = 0x1000;
inline constexpr uint64_t kUserStackTop = 0x00007ffffffff000ull;
inline constexpr uint64_t kUserStackPages = 16;

struct Task {
  const char* name;
  uint64_t page_table_root;
  bool running;
};

Task* current_task();

// Loads the ELF image of `module` into a new address space and fills `entry` with the
// registers to start it. Calls fatal() with a one-line message naming the module on error.
void load_root_task(const BootModule& module, const char* name, arch::TrapFrame& entry);

// Copies `length` bytes from the current task's memory at `user_address` into `buffer`,
// through the page tables (present + user checked on every page). False on a bad address.
bool copy_from_user(void* buffer, uint64_t user_address, size_t length);

}  // namespace kernel
