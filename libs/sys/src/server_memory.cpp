// SPDX-License-Identifier: MIT
// Cap slots, objects from the untyped caps a server was given, frame mappings, the heap.
#include "sys/server_memory.hpp"

#include <string.h>

#include "rt/page_runs.hpp"
#include "sys/ipc.hpp"

namespace sys::server {

namespace {

namespace abi = sonde::abi;
using abi::Error;
using abi::Label;
using abi::ObjectType;

constexpr uint64_t kMaxSlots = 1ull << kServerMaxCNodeRadix;
uint64_t slot_bitmap[kMaxSlots / 64];             // 1: in use
uint64_t slot_count = 1ull << kServerCNodeRadix;  // the CNode's (ServerStartInfo's cnode_radix)
uint64_t slot_hint = 0;

// Untyped caps are used in turn: when one cannot hold an object, the next one is tried.
uint64_t untyped_count = 0;
uint64_t untyped_index = 0;

Error retype_object(ObjectType type, uint64_t size_bits, uint64_t slot) {
  for (uint64_t tries = 0; tries < untyped_count; ++tries) {
    uint64_t index = (untyped_index + tries) % untyped_count;
    Error e = retype(kServerSlotFirstUntyped + index, type, size_bits, kServerSlotCNode, slot);
    if (e != Error::kNotEnoughMemory) {
      untyped_index = index;
      return e;
    }
  }
  return Error::kNotEnoughMemory;
}

class Heap final : public rt::Allocator {
 public:
  void set_base(uint64_t base) { base_ = top_ = mapped_ = base; }
  uint64_t mapped_end() const { return mapped_; }
  uint64_t free_run_bytes() const { return large_free_.free_bytes(); }
  rt::Result<uint64_t> frame_at(uint64_t address) const {
    if (address < base_ || address >= mapped_ || (address & (kPage - 1)) != 0) {
      return rt::err(rt::kEINVAL, "not a heap page");
    }
    uint64_t index = (address - base_) / kPage;
    if (index >= kMaxSharedHeapPages || frames_[index] == 0) {
      return rt::err(rt::kEINVAL, "heap page beyond the shareable range");
    }
    return uint64_t{frames_[index]};
  }

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
    // Blocks above 1 MiB: whole pages, from the free runs (best fit, merged with their
    // neighbours when given back) or newly carved.
    size_t bytes = (size + kPage - 1) & ~(kPage - 1);
    if (void* block = large_free_.take(bytes); block != nullptr) {
      memset(block, 0, size);
      return block;
    }
    // A free run at the top of the heap becomes the block's start.
    size_t last_bytes = 0;
    if (void* last = large_free_.take_ending_at(top_, last_bytes); last != nullptr) {
      top_ = reinterpret_cast<uint64_t>(last);
      void* block = carve(bytes, kPage);
      if (block == nullptr) {
        top_ += last_bytes;
        large_free_.give(last, last_bytes);
        return nullptr;
      }
      memset(block, 0, size);  // the run's old bytes (the new pages are zero already)
      return block;
    }
    return carve(bytes, kPage);
  }
  void deallocate(void* pointer, size_t size) override {
    if (pointer == nullptr) return;
    if (size == 0) size = 1;
    unsigned cls = class_of(size);
    if (cls >= kClasses) {
      large_free_.give(pointer, (size + kPage - 1) & ~(kPage - 1));
      return;
    }
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
      auto frame = make_object(ObjectType::kFrame, 12);
      if (!frame.ok()) return nullptr;
      if (map_frame(frame.value(), kServerSlotVSpace, mapped_, abi::kMapWrite) != Error::kNone) {
        return nullptr;
      }
      uint64_t index = (mapped_ - base_) / kPage;
      if (index < kMaxSharedHeapPages) frames_[index] = static_cast<uint32_t>(frame.value());
      mapped_ += kPage;
    }
    top_ = end;
    return reinterpret_cast<void*>(start);
  }
  void* free_[kClasses] = {};
  rt::PageRuns large_free_;                    // freed blocks above 1 MiB
  uint32_t frames_[kMaxSharedHeapPages] = {};  // the Frame cap slot of each heap page
  uint64_t base_ = 0;
  uint64_t top_ = 0;
  uint64_t mapped_ = 0;
};

Heap the_heap;

}  // namespace

void init(const ServerStartInfo& info, uint64_t heap_base) {
  untyped_count = info.untyped_count;
  if (info.cnode_radix >= kServerCNodeRadix && info.cnode_radix <= kServerMaxCNodeRadix) {
    slot_count = 1ull << info.cnode_radix;
  }
  for (uint64_t s = 0; s < info.first_free_slot && s < slot_count; ++s) {
    slot_bitmap[s / 64] |= 1ull << (s % 64);
  }
  slot_hint = info.first_free_slot;
  the_heap.set_base(heap_base);
}

rt::Result<uint64_t> allocate_slot() {
  for (uint64_t n = 0; n < slot_count; ++n) {
    uint64_t s = (slot_hint + n) % slot_count;
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
  if (slot == 0 || slot >= slot_count) return;
  slot_bitmap[slot / 64] &= ~(1ull << (slot % 64));
}

rt::Result<uint64_t> make_object(ObjectType type, uint64_t size_bits) {
  uint64_t slot = TRY(allocate_slot());
  if (retype_object(type, size_bits, slot) != Error::kNone) {
    free_slot(slot);
    return rt::err(rt::kENOMEM, "untyped memory used up");
  }
  return slot;
}

Error map_frame(uint64_t frame, uint64_t vspace, uint64_t address, uint64_t rights) {
  uint64_t words[] = {vspace, address, rights};
  Error e = invoke(frame, Label::kFrameMap, words);
  for (int level = 0; level < 3 && e == Error::kMissingPageTable; ++level) {
    auto table = make_object(ObjectType::kPageTable);
    if (!table.ok()) return Error::kNotEnoughMemory;
    uint64_t table_words[] = {vspace, address};
    if (Error m = invoke(table.value(), Label::kPageTableMap, table_words); m != Error::kNone) {
      return m;
    }
    e = invoke(frame, Label::kFrameMap, words);
  }
  return e;
}

rt::Allocator& heap() { return the_heap; }
uint64_t heap_end() { return the_heap.mapped_end(); }
uint64_t heap_free_run_bytes() { return the_heap.free_run_bytes(); }
rt::Result<uint64_t> heap_frame(uint64_t address) { return the_heap.frame_at(address); }

}  // namespace sys::server
