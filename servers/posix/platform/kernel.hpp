// SPDX-License-Identifier: MIT
// The POSIX server's view of the microkernel: cap slots, memory from its untyped, its heap.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rt/allocator.hpp"
#include "rt/result.hpp"
#include "sys/ipc.hpp"
#include "sys/server_start.hpp"

namespace posix::platform {

namespace abi = sonde::abi;

// Where things live in the server's own VSpace.
inline constexpr uint64_t kHeapBase = sys::kPosixHeapBase;  // never unmapped
// Every process page, by index; never unmapped (the trace server keeps borrows of them).
inline constexpr uint64_t kFrameMapBase = sys::kPosixFrameMapBase;
static_assert(sys::kPosixFrameMapEnd <= 0x300000000000ull);  // below kInitramfsBase
inline constexpr uint64_t kInitramfsBase = 0x300000000000ull;
// Files mapped MAP_SHARED, a window each (mm/file_pages.hpp), up to kFileFramesEnd: clear of
// the trace session's buffers (0x4000_0000_0000, sys/server_start.hpp), the server images
// (0x5000_..., 0x5100_...) and the trace server's stack and heap (0x6800_..., 0x7000_...).
inline constexpr uint64_t kFileFramesBase = 0x600000000000ull;
inline constexpr uint64_t kFileFramesEnd = 0x640000000000ull;
inline constexpr uint64_t kPage = 4096;

void init(const sys::ServerStartInfo& info);
// The CPUs the kernel runs threads on (0 .. cpu_count() - 1), at least 1.
uint32_t cpu_count();

// Cap slots of the server's CNode.
rt::Result<uint64_t> allocate_slot();
void free_slot(uint64_t slot);

// A new kernel object in a fresh slot.
rt::Result<uint64_t> make_object(abi::ObjectType type, uint64_t size_bits = 0);
// Maps a frame cap into `vspace` at `address`, making missing paging structures.
abi::Error map_frame(uint64_t frame, uint64_t vspace, uint64_t address, uint64_t rights);

// A page of memory for processes: its cap (mapped in the server at `address`) and index.
struct PageFrame {
  uint64_t cap;  // mapped in the server's VSpace at `server_address`
  uint64_t server_address;
};
// A zeroed page (recycled ones are cleared) with one reference; ENOMEM when the untyped is
// used up.
rt::Result<PageFrame> allocate_page();
// One more address space maps `page` (fork shares it copy-on-write).
void share_page(const PageFrame& page);
// How many address spaces map `page` (1: only the one asking).
uint32_t page_references(const PageFrame& page);
// Drops one reference; the page goes back to the pool with the last.
void free_page(const PageFrame& page);
// Pages in use, a page mapped by several processes counted once.
uint64_t pages_in_use();
// The memory the server was given for everything (/proc/meminfo's MemTotal, sysinfo's
// totalram), and what of it process and file pages leave (MemFree; 0 rather than below).
uint64_t memory_bytes();
uint64_t free_memory_bytes();

// The server's heap.
rt::Allocator& heap();

// Copies `count` bytes, as fast as the compiler makes it.
inline void copy(void* to, const void* from, size_t count) { __builtin_memcpy(to, from, count); }

}  // namespace posix::platform
