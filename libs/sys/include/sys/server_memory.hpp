// SPDX-License-Identifier: MIT
// What every server the root task starts needs from its untyped memory: cap slots, kernel
// objects, frame mappings and a heap (sys/server_start.hpp says where its caps are).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rt/allocator.hpp"
#include "rt/result.hpp"
#include "sonde/abi/errors.hpp"
#include "sonde/abi/objects.hpp"
#include "sys/server_start.hpp"

namespace sys::server {

inline constexpr uint64_t kPage = 4096;

// Takes the slots below info.first_free_slot as used and the untyped caps it lists; the heap
// maps its pages from `heap_base` up.
void init(const ServerStartInfo& info, uint64_t heap_base);

// Cap slots of the server's CNode (cptr n = slot n).
[[nodiscard]] rt::Result<uint64_t> allocate_slot();
void free_slot(uint64_t slot);

// A new kernel object in a fresh slot, from whichever untyped cap still holds it.
[[nodiscard]] rt::Result<uint64_t> make_object(sonde::abi::ObjectType type, uint64_t size_bits = 0);
// Maps a frame cap into `vspace` at `address`, making missing paging structures.
[[nodiscard]] sonde::abi::Error map_frame(uint64_t frame, uint64_t vspace, uint64_t address,
                                          uint64_t rights);

// The server's heap: power-of-two classes up to 1 MiB, whole pages above.
rt::Allocator& heap();
// The end of the heap's mapped pages (everything from heap_base up to here is mapped).
uint64_t heap_end();
// The bytes of freed blocks above 1 MiB the heap keeps for its next ones (mapped, unused).
uint64_t heap_free_run_bytes();
// The Frame cap mapped at heap page `address` (page-aligned), to share that page with another
// address space; EINVAL outside the heap's first kMaxSharedHeapPages pages.
inline constexpr uint64_t kMaxSharedHeapPages = 65536;  // 256 MiB
[[nodiscard]] rt::Result<uint64_t> heap_frame(uint64_t address);

}  // namespace sys::server
