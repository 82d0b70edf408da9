// SPDX-License-Identifier: MIT
// The POSIX server's memory as a probe sees it: its pages borrowed read-only (MapForeign)
// into a window of the trace server for the length of one hit.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "trace/probe_record.hpp"

namespace trace {

class BorrowedMemory final : public TracedMemory {
 public:
  // `source_vspace`: a cap (Read right) to the traced VSpace.
  explicit BorrowedMemory(uint64_t source_vspace) : source_(source_vspace) {}
  // Pages in [start, end) of the source are never unmapped there: their borrows outlive the
  // hit (kStickySlots of them, one slot per page index modulo kStickySlots; a page taking a
  // slot gives the page before it back). Without it, every borrow ends with the hit.
  void set_sticky_range(uint64_t start, uint64_t end) {
    sticky_start_ = start;
    sticky_end_ = end;
  }

  bool read(void* destination, uint64_t address, size_t size) override;
  // One aligned word, loaded straight from its window slot when its page is pinned (every
  // return hit reads three such words), else as read().
  bool read_word(uint64_t& value, uint64_t address);
  // Ends the hit: every borrowed page is given back (the traced thread runs on after this),
  // but the pinned ones.
  void release() {
    if (used_ != 0) release_borrowed();
  }
  // Keeps the pages of [address, address + size) borrowed for good: data of the POSIX server
  // that lives as long as it and that hits read every time (the return probes' stack of
  // pending returns), so no hit maps and unmaps it. False when a page cannot be.
  bool pin(uint64_t address, size_t size);
  // Whether every page of [address, address + size) is pinned.
  bool pinned(uint64_t address, size_t size) const;
  // Where [address, address + size) is readable here if it lies in one pinned page (pins are
  // kept for good, so the pointer stays valid), else null.
  const volatile uint64_t* pinned_words(uint64_t address, size_t size) const;

 private:
  static constexpr uint32_t kSlots = 32;
  static constexpr uint32_t kPinnedSlots = 16;
  // The kernel keeps at most 64 borrows of one VSpace: pinned + sticky + one hit's slots.
  static constexpr uint32_t kStickySlots = 12;
  // Borrows the page at `page` (aligned); its address here, or 0 if it is not mapped there.
  uint64_t borrow(uint64_t page);
  // MapForeign of `page` at `here` (page tables made as needed).
  bool map(uint64_t page, uint64_t here);
  void release_borrowed();
  // The pinned slot of `page` (aligned), or -1. The slot found last is tried first: a hit's
  // reads fall mostly on one page (the stack above rsp, the pending returns).
  int pinned_slot(uint64_t page) const {
    if (pinned_used_ != 0 && pinned_[last_pinned_] == page) return static_cast<int>(last_pinned_);
    for (uint32_t i = 0; i < pinned_used_; ++i) {
      if (pinned_[i] != page) continue;
      last_pinned_ = i;
      return static_cast<int>(i);
    }
    return -1;
  }

  uint64_t source_;
  uint64_t pages_[kSlots] = {};  // the traced page in each window slot (0: free)
  uint32_t used_ = 0;
  uint64_t pinned_[kPinnedSlots] = {};  // the traced page in each pinned slot
  uint32_t pinned_used_ = 0;
  mutable uint32_t last_pinned_ = 0;
  uint64_t sticky_start_ = 0, sticky_end_ = 0;
  uint64_t sticky_[kStickySlots] = {};  // the traced page in each sticky slot (0: free)
  // The sticky slot's address here for `page` (borrowed now if it was not), or 0.
  uint64_t borrow_sticky(uint64_t page);
};

}  // namespace trace
