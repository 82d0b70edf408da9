// SPDX-License-Identifier: MIT
// The page pool of processes over sys::server (cap slots, objects, heap).
#include "platform/kernel.hpp"

#include <string.h>

#include "mm/frame_refs.hpp"
#include "rt/new.hpp"
#include "sys/server_memory.hpp"

namespace posix::platform {

namespace {

using abi::Error;
using abi::ObjectType;

// Pages freed by processes, kept mapped in the server for reuse.
constexpr size_t kMaxFreePages = 1u << 16;
PageFrame* free_pages = nullptr;
size_t free_page_count = 0;
uint64_t next_frame_index = 0;
uint64_t live_pages = 0;
alignas(mm::FrameRefs) unsigned char refs_storage[sizeof(mm::FrameRefs)];
mm::FrameRefs* refs = nullptr;

uint64_t index_of(const PageFrame& page) { return (page.server_address - kFrameMapBase) / kPage; }

}  // namespace

namespace {
uint32_t cpus = 1;
uint64_t memory = 256ull << 20;  // the untyped memory the server was given (ServerStartInfo)
}  // namespace

uint32_t cpu_count() { return cpus; }
uint64_t memory_bytes() { return memory; }
uint64_t free_memory_bytes() {
  // Processes' pages, and the server's heap but for its free runs (files' bytes are there, as
  // Linux counts tmpfs pages as used; the small blocks it keeps for reuse count as used).
  uint64_t used = live_pages * kPage + (sys::server::heap_end() - kHeapBase) -
                  sys::server::heap_free_run_bytes();
  return used < memory ? memory - used : 0;
}

void init(const sys::ServerStartInfo& info) {
  sys::server::init(info, kHeapBase);
  if (info.cpu_count > 1) cpus = info.cpu_count < 64 ? static_cast<uint32_t>(info.cpu_count) : 64;
  if (info.untyped_bytes != 0) memory = info.untyped_bytes;
  free_pages = static_cast<PageFrame*>(
      heap().allocate(kMaxFreePages * sizeof(PageFrame), alignof(PageFrame)));
  refs = new (refs_storage) mm::FrameRefs(heap());
}

rt::Result<uint64_t> allocate_slot() { return sys::server::allocate_slot(); }
void free_slot(uint64_t slot) { sys::server::free_slot(slot); }
rt::Result<uint64_t> make_object(ObjectType type, uint64_t size_bits) {
  return sys::server::make_object(type, size_bits);
}
Error map_frame(uint64_t frame, uint64_t vspace, uint64_t address, uint64_t rights) {
  return sys::server::map_frame(frame, vspace, address, rights);
}

rt::Result<PageFrame> allocate_page() {
  if (free_page_count > 0) {
    PageFrame page = free_pages[free_page_count - 1];
    if (!refs->start(index_of(page))) return rt::err(rt::kENOMEM, "no room for a page count");
    --free_page_count;
    memset(reinterpret_cast<void*>(page.server_address), 0, kPage);
    ++live_pages;
    return page;
  }
  if (!refs->start(next_frame_index)) return rt::err(rt::kENOMEM, "no room for a page count");
  if (kFrameMapBase + (next_frame_index + 1) * kPage > sys::kPosixFrameMapEnd) {
    return rt::err(rt::kENOMEM, "the frame map is full");
  }
  uint64_t cap = TRY(make_object(ObjectType::kFrame, 12));
  PageFrame page{cap, kFrameMapBase + next_frame_index * kPage};
  if (map_frame(cap, sys::kServerSlotVSpace, page.server_address, abi::kMapWrite) != Error::kNone) {
    return rt::err(rt::kENOMEM, "cannot map a page in the server");
  }
  ++next_frame_index;
  ++live_pages;
  return page;  // fresh frames from untyped memory are zero
}

void share_page(const PageFrame& page) { refs->retain(index_of(page)); }

uint32_t page_references(const PageFrame& page) { return refs->count(index_of(page)); }

void free_page(const PageFrame& page) {
  if (refs->release(index_of(page)) != 0) return;  // another address space still maps it
  --live_pages;
  if (free_pages != nullptr && free_page_count < kMaxFreePages) {
    free_pages[free_page_count++] = page;
  }
}

uint64_t pages_in_use() { return live_pages; }

rt::Allocator& heap() { return sys::server::heap(); }

}  // namespace posix::platform
