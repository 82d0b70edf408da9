// SPDX-License-Identifier: MIT
// Cap slots, untyped memory, the page pool of processes and the server's heap.
#include "platform/kernel.hpp"

#include <string.h>

namespace posix::platform {

namespace {

using abi::Error;
using abi::Label;
using abi::ObjectType;

constexpr uint64_t kSlots = 1ull << sys::kServerCNodeRadix;
uint64_t slot_bitmap[kSlots / 64];  // 1: in use
uint64_t slot_hint = 0;

// Pages freed by processes, kept mapped in the server for reuse.
constexpr size_t kMaxFreePages = 1u << 16;
PageFrame* free_pages = nullptr;
size_t free_page_count = 0;
uint64_t next_frame_index = 0;
uint64_t live_pages = 0;

// Untyped caps are used in turn: when one cannot hold an object, the next one is tried.
uint64_t untyped_count = 0;
uint64_t untyped_index = 0;

Error retype(ObjectType type, uint64_t size_bits, uint64_t slot) {
  for (uint64_t tries = 0; tries < untyped_count; ++tries) {
    uint64_t index = (untyped_index + tries) % untyped_count;
    Error e = sys::retype(sys::kServerSlotFirstUntyped + index, type, size_bits,
                          sys::kServerSlotCNode, slot);
    if (e != Error::kNotEnoughMemory) {
      untyped_index = index;
      return e;
    }
  }
  return Error::kNotEnoughMemory;
}

// Heap: power-of-two size classes carved from pages mapped on demand above kHeapBase;
// requests above the largest class take whole pages and are not reused (GAP below).
class Heap final : public rt::Allocator {
 public:
  void* allocate(size_t size, size_t alignment) override {
    if (size == 0) size = 1;
    if (alignment > kPage) return nullptr;
    unsigned cls = class_of(size);
    if (cls < kClasses) {
      if (free_[cls] != nullptr) {
        void* block = free_[cls];
        free_[cls] = *static_cast<void**>(block);
        memset(block, 0, size);
        return block;
      }
      return carve(size_t{1} << (cls + kMinShift), size_t{1} << (cls + kMinShift));
    }
    // GAP: blocks above 1 MiB are never returned to the heap.
    return carve((size + kPage - 1) & ~(kPage - 1), kPage);
  }
  void deallocate(void* pointer, size_t size) override {
    if (pointer == nullptr) return;
    if (size == 0) size = 1;
    unsigned cls = class_of(size);
    if (cls >= kClasses) return;
    *static_cast<void**>(pointer) = free_[cls];
    free_[cls] = pointer;
  }

 private:
  static constexpr unsigned kMinShift = 4;  // 16 bytes
  static constexpr unsigned kClasses = 17;  // up to 1 MiB
  static unsigned class_of(size_t size) {
    unsigned cls = 0;
    while ((size_t{1} << (cls + kMinShift)) < size) ++cls;
    return cls;
  }
  void* carve(size_t size, size_t alignment) {
    uint64_t start = (top_ + alignment - 1) & ~(alignment - 1);
    uint64_t end = start + size;
    while (mapped_ < end) {
      auto slot = allocate_slot();
      if (!slot.ok()) return nullptr;
      if (retype(ObjectType::kFrame, 12, slot.value()) != Error::kNone) return nullptr;
      if (map_frame(slot.value(), sys::kServerSlotVSpace, mapped_, abi::kMapWrite) !=
          Error::kNone) {
        return nullptr;
      }
      mapped_ += kPage;
    }
    top_ = end;
    return reinterpret_cast<void*>(start);
  }
  void* free_[kClasses] = {};
  uint64_t top_ = kHeapBase;
  uint64_t mapped_ = kHeapBase;
};

Heap the_heap;

}  // namespace

void init(const sys::ServerStartInfo& info) {
  untyped_count = info.untyped_count;
  for (uint64_t s = 0; s < info.first_free_slot && s < kSlots; ++s) {
    slot_bitmap[s / 64] |= 1ull << (s % 64);
  }
  slot_hint = info.first_free_slot;
  free_pages = static_cast<PageFrame*>(
      the_heap.allocate(kMaxFreePages * sizeof(PageFrame), alignof(PageFrame)));
}

rt::Result<uint64_t> allocate_slot() {
  for (uint64_t n = 0; n < kSlots; ++n) {
    uint64_t s = (slot_hint + n) % kSlots;
    if (s == 0) continue;
    if ((slot_bitmap[s / 64] & (1ull << (s % 64))) == 0) {
      slot_bitmap[s / 64] |= 1ull << (s % 64);
      slot_hint = s + 1;
      return s;
    }
  }
  return rt::err(rt::kENOMEM, "no free cap slots");
}

void free_slot(uint64_t slot) {
  if (slot == 0 || slot >= kSlots) return;
  slot_bitmap[slot / 64] &= ~(1ull << (slot % 64));
}

rt::Result<uint64_t> make_object(ObjectType type, uint64_t size_bits) {
  uint64_t slot = TRY(allocate_slot());
  if (retype(type, size_bits, slot) != Error::kNone) {
    free_slot(slot);
    return rt::err(rt::kENOMEM, "untyped memory used up");
  }
  return slot;
}

Error map_frame(uint64_t frame, uint64_t vspace, uint64_t address, uint64_t rights) {
  uint64_t words[] = {vspace, address, rights};
  Error e = sys::invoke(frame, Label::kFrameMap, words);
  for (int level = 0; level < 3 && e == Error::kMissingPageTable; ++level) {
    auto table = make_object(ObjectType::kPageTable);
    if (!table.ok()) return Error::kNotEnoughMemory;
    uint64_t table_words[] = {vspace, address};
    if (Error m = sys::invoke(table.value(), Label::kPageTableMap, table_words);
        m != Error::kNone) {
      return m;
    }
    e = sys::invoke(frame, Label::kFrameMap, words);
  }
  return e;
}

rt::Result<PageFrame> allocate_page() {
  if (free_page_count > 0) {
    PageFrame page = free_pages[--free_page_count];
    memset(reinterpret_cast<void*>(page.server_address), 0, kPage);
    ++live_pages;
    return page;
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

void free_page(const PageFrame& page) {
  --live_pages;
  if (free_pages != nullptr && free_page_count < kMaxFreePages) {
    free_pages[free_page_count++] = page;
  }
}

uint64_t pages_in_use() { return live_pages; }

rt::Allocator& heap() { return the_heap; }

}  // namespace posix::platform
