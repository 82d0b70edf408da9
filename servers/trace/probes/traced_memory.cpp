// SPDX-License-Identifier: MIT
// BorrowedMemory: MapForeign page by page, UnmapForeign when the hit ends (pinned pages stay).
#include "traced_memory.hpp"

#include "rt/kernel_alias.hpp"
#include "sys/ipc.hpp"
#include "sys/server_memory.hpp"

namespace trace {

namespace {

namespace abi = sonde::abi;
constexpr uint64_t kPage = 4096;
// Canonical user addresses only: anything else is never mapped in the traced VSpace.
constexpr uint64_t kUserTop = 0x0000800000000000ull;

}  // namespace

bool BorrowedMemory::map(uint64_t page, uint64_t here) {
  uint64_t words[] = {page, sys::kServerSlotVSpace, here};
  abi::Error e = sys::invoke(source_, abi::Label::kVSpaceMapForeign, words);
  for (int level = 0; level < 3 && e == abi::Error::kMissingPageTable; ++level) {
    auto table = sys::server::make_object(abi::ObjectType::kPageTable);
    if (!table.ok()) return false;
    uint64_t table_words[] = {sys::kServerSlotVSpace, here};
    if (sys::invoke(table.value(), abi::Label::kPageTableMap, table_words) != abi::Error::kNone) {
      return false;
    }
    e = sys::invoke(source_, abi::Label::kVSpaceMapForeign, words);
  }
  return e == abi::Error::kNone;
}

void BorrowedMemory::unmap(uint64_t page, uint64_t here) {
  uint64_t words[] = {page, sys::kServerSlotVSpace, here};
  (void)sys::invoke(source_, abi::Label::kVSpaceUnmapForeign, words);
}

uint64_t BorrowedMemory::borrow_sticky(uint64_t page) {
  // Two ways: the pair of slots the page index chooses, the one used longer ago giving way (two
  // hot pages twelve pages apart took turns in one slot, a MapForeign and an UnmapForeign at
  // every hit).
  uint32_t first = static_cast<uint32_t>((page / kPage) % (kStickySlots / 2)) * 2;
  ++sticky_clock_;
  for (uint32_t slot = first; slot < first + 2; ++slot) {
    if (sticky_[slot] == page) {
      sticky_used_[slot] = sticky_clock_;
      return window_ + kStickyOffset + slot * kPage;
    }
  }
  uint32_t slot = sticky_used_[first] <= sticky_used_[first + 1] ? first : first + 1;
  sticky_used_[slot] = sticky_clock_;
  uint64_t here = window_ + kStickyOffset + slot * kPage;
  if (sticky_[slot] != 0) {
    unmap(sticky_[slot], here);
    sticky_[slot] = 0;
  }
  if (!map(page, here)) return 0;
  sticky_[slot] = page;
  return here;
}

uint64_t BorrowedMemory::borrow(uint64_t page) {
  if (int slot = pinned_slot(page); slot >= 0) return window_ + kPinnedOffset + slot * kPage;
  if (page >= sticky_start_ && page < sticky_end_) {
    if (uint64_t here = borrow_sticky(page)) return here;
  }
  for (uint32_t i = 0; i < used_; ++i) {
    if (pages_[i] != page) continue;
    uint64_t here = window_slot(i);
    if (checked_[i] == serial_) return here;
    // Kept from an earlier hit: still borrowed (the kernel refuses to map over it), or dropped
    // since (the page was unmapped or remapped in the source) and mapped anew now.
    uint64_t words[] = {page, sys::kServerSlotVSpace, here};
    abi::Error e = sys::invoke(source_, abi::Label::kVSpaceMapForeign, words);
    if (e != abi::Error::kNone && e != abi::Error::kAlreadyMapped) {
      pages_[i] = 0;  // gone from the source: the slot is free
      return 0;
    }
    checked_[i] = serial_;
    return here;
  }
  if (used_ == kSlots) release_borrowed();  // a long read: start the window again
  // A slot: a kept one that is free or whose page was read longest ago and not in this hit
  // (given back now: the kept slots hold the pages recent hits read), else the next.
  uint32_t slot = used_;
  for (uint32_t i = 0; i < used_ && i < kept_; ++i) {
    if (pages_[i] == 0) {
      slot = i;
      break;
    }
    if (checked_[i] != serial_ && (slot == used_ || checked_[i] < checked_[slot])) slot = i;
  }
  if (slot != used_ && pages_[slot] != 0) {
    unmap(pages_[slot], window_slot(slot));
    pages_[slot] = 0;
  }
  uint64_t here = window_slot(slot);
  if (!map(page, here)) return 0;
  pages_[slot] = page;
  checked_[slot] = serial_;
  if (slot == used_) ++used_;
  return here;
}

bool BorrowedMemory::read_word(uint64_t& value, uint64_t address) {
  if ((address & 7) == 0) {
    if (int slot = pinned_slot(address & ~(kPage - 1)); slot >= 0) {
      value = *reinterpret_cast<const volatile uint64_t*>(window_ + kPinnedOffset + slot * kPage +
                                                          (address & (kPage - 1)));
      return true;
    }
  }
  return read(&value, address, 8);
}

bool BorrowedMemory::pin(uint64_t address, size_t size) {
  if (size == 0 || address + size < address || address + size > kUserTop) return false;
  for (uint64_t page = address & ~(kPage - 1); page < address + size; page += kPage) {
    bool pinned = false;
    for (uint32_t i = 0; i < pinned_used_; ++i) pinned |= pinned_[i] == page;
    if (pinned) continue;
    if (pinned_used_ == kPinnedSlots) return false;
    uint64_t here = window_ + kPinnedOffset + pinned_used_ * kPage;
    if (!map(page, here)) return false;
    pinned_[pinned_used_++] = page;
  }
  return true;
}

bool BorrowedMemory::pinned(uint64_t address, size_t size) const {
  if (size == 0 || address + size < address) return false;
  for (uint64_t page = address & ~(kPage - 1); page < address + size; page += kPage) {
    if (pinned_slot(page) < 0) return false;
  }
  return true;
}

const volatile uint64_t* BorrowedMemory::pinned_words_found(uint64_t address, size_t size) const {
  uint64_t page = address & ~(kPage - 1);
  if (size == 0 || (address & 7) != 0 || address + size < address ||
      ((address + size - 1) & ~(kPage - 1)) != page) {
    return nullptr;
  }
  int slot = pinned_slot(page);
  if (slot < 0) return nullptr;
  return reinterpret_cast<const volatile uint64_t*>(window_ + kPinnedOffset + slot * kPage +
                                                    (address - page));
}

bool BorrowedMemory::read(void* destination, uint64_t address, size_t size) {
  // The POSIX server's image as Linux programs see it (kallsyms, kaddr) is its own memory.
  address = sonde::abi::server_address(address);
  auto* out = static_cast<uint8_t*>(destination);
  size_t done = 0;
  while (done < size) {
    uint64_t at = address + done;
    if (at < address || at >= kUserTop) return false;
    uint64_t page = at & ~(kPage - 1);
    uint64_t here = borrow(page);
    if (here == 0) return false;
    size_t chunk = kPage - (at - page);
    if (chunk > size - done) chunk = size - done;
    __builtin_memcpy(out + done, reinterpret_cast<const void*>(here + (at - page)), chunk);
    done += chunk;
  }
  return true;
}

void BorrowedMemory::release_borrowed() {
  uint32_t keep = used_ < kept_ ? used_ : kept_;
  for (uint32_t i = keep; i < used_; ++i) {
    if (pages_[i] == 0) continue;
    unmap(pages_[i], window_slot(i));
    pages_[i] = 0;
  }
  used_ = keep;
}

}  // namespace trace
