// SPDX-License-Identifier: MIT
// The root task: its address space, thread, initial caps and boot information.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/multiboot2.hpp"
#include "sonde/abi/ipc.hpp"

namespace kernel {

inline constexpr uint64_t kUserLowest = 0x1000;
inline constexpr uint64_t kUserStackTop = 0x00007ffffffff000ull;
inline constexpr uint64_t kUserStackPages = 16;
// Below the stack (and a guard page): the read-only BootInfo page, then the IPC buffer.
inline constexpr uint64_t kRootBootInfo = sonde::abi::kRootBootInfo;
inline constexpr uint64_t kRootIpcBuffer = sonde::abi::kRootIpcBuffer;
inline constexpr unsigned kRootCNodeRadix = 14;
// With large boot modules (an initramfs of a big program's libraries) the root CNode grows so
// that their frames take at most half of it, up to this radix (64 MiB of slots).
inline constexpr unsigned kMaxRootCNodeRadix = 20;

// Loads the ELF image of `module` into a new address space, makes the root thread (priority
// 255, runnable) and the root CNode with the boot caps: itself, the thread's TCB and VSpace,
// and every free frame of RAM as untyped memory, described in the BootInfo page. Calls
// fatal() with a one-line message naming the module on error. The kernel allocates nothing
// for users after this.
void start_root_task(const BootModule& module, const char* name, const BootInfo& boot);

// Copies `length` bytes from the current thread's memory at `user_address` into `buffer`,
// through its page tables (present + user checked on every page). False on a bad address.
bool copy_from_user(void* buffer, uint64_t user_address, size_t length);

}  // namespace kernel
