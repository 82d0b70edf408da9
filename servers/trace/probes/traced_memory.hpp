// SPDX-License-Identifier: MIT
// The POSIX server's memory as a probe sees it: its pages borrowed read-only (MapForeign)
// into a window of the trace server for the length of one hit (a few of them kept for the next
// hits, checked again at their first use in each).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "trace/probe_record.hpp"

namespace trace {

class BorrowedMemory final : public TracedMemory {
 public:
  // The trace server's address range for windows: each instance has its own kWindowBytes at
  // kWindowBase + instance * kWindowBytes (a page an instance keeps mapped between hits must
  // not be where another maps its own).
  static constexpr uint64_t kWindowBase = 0x0000600000000000ull;
  static constexpr uint64_t kWindowBytes = 0x400000;
  // `source_vspace`: a cap (Read right) to the traced VSpace.
  explicit BorrowedMemory(uint64_t source_vspace, uint32_t instance = 0)
      : source_(source_vspace), window_(kWindowBase + instance * kWindowBytes) {}
  // The first `slots` pages a hit borrows stay borrowed after it (at most kMaxKeptSlots; 0 by
  // default): the next hit that reads one of them checks it with one MapForeign, which the
  // kernel refuses as already mapped while the borrow stands (it drops a borrow when the
  // source page is unmapped or remapped, and then maps the page anew), instead of a MapForeign
  // and an UnmapForeign with its TLB shootdown at every hit.
  static constexpr uint32_t kMaxKeptSlots = 4;
  void set_kept_slots(uint32_t slots) { kept_ = slots < kMaxKeptSlots ? slots : kMaxKeptSlots; }
  // Pages in [start, end) of the source are never unmapped there: their borrows outlive the
  // hit (kStickySlots of them, two slots per page index modulo kStickySlots / 2; a page taking
  // one gives back the page used longer ago). Without it, every borrow ends with the hit.
  void set_sticky_range(uint64_t start, uint64_t end) {
    sticky_start_ = start;
    sticky_end_ = end;
  }

  bool read(void* destination, uint64_t address, size_t size) override;
  // One aligned word, loaded straight from its window slot when its page is pinned (every
  // return hit reads three such words), else as read().
  bool read_word(uint64_t& value, uint64_t address);
  // Ends the hit: every borrowed page is given back (the traced thread runs on after this),
  // but the pinned, sticky and kept ones; the kept ones are checked again at their next use.
  void release() {
    ++serial_;
    if (used_ > kept_) release_borrowed();
  }
  // Keeps the pages of [address, address + size) borrowed for good: data of the POSIX server
  // that lives as long as it and that hits read every time (the return probes' stack of
  // pending returns), so no hit maps and unmaps it. False when a page cannot be.
  bool pin(uint64_t address, size_t size);
  // Whether every page of [address, address + size) is pinned.
  bool pinned(uint64_t address, size_t size) const;
  // Where [address, address + size) is readable here if it lies in one pinned page (pins are
  // kept for good, so the pointer stays valid), else null.
  // Inline for the page found last (every kprobe hit's pt_regs block is there).
  const volatile uint64_t* pinned_words(uint64_t address, size_t size) const {
    uint64_t page = address & ~(kPageSize - 1);
    if (pinned_used_ != 0 && pinned_[last_pinned_] == page && (address & 7) == 0 && size != 0 &&
        size <= kPageSize - (address - page)) {
      return reinterpret_cast<const volatile uint64_t*>(
          window_ + kPinnedOffset + last_pinned_ * kPageSize + (address - page));
    }
    return pinned_words_found(address, size);
  }

 private:
  static constexpr uint32_t kSlots = 32;
  static constexpr uint32_t kPinnedSlots = 16;
  // The kernel keeps at most 64 borrows of one VSpace: pinned + sticky + one hit's slots.
  static constexpr uint32_t kStickySlots = 12;
  // Borrows the page at `page` (aligned); its address here, or 0 if it is not mapped there.
  uint64_t borrow(uint64_t page);
  // MapForeign of `page` at `here` (page tables made as needed), and its UnmapForeign.
  bool map(uint64_t page, uint64_t here);
  void unmap(uint64_t page, uint64_t here);
  // Gives back the window slots past the kept ones.
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

  const volatile uint64_t* pinned_words_found(uint64_t address, size_t size) const;
  uint64_t window_slot(uint32_t slot) const { return window_ + slot * kPageSize; }
  static constexpr uint64_t kPageSize = 4096;
  static constexpr uint64_t kPinnedOffset = 0x100000;  // past the per-hit slots
  static constexpr uint64_t kStickyOffset = 0x200000;  // past the pinned slots

  uint64_t source_;
  uint64_t window_;
  uint64_t pages_[kSlots] = {};  // the traced page in each window slot (0: free)
  uint32_t used_ = 0;
  uint32_t kept_ = 0;
  uint32_t serial_ = 1;                 // counts releases (hits)
  uint32_t checked_[kSlots] = {};       // the serial in which a slot's borrow was last known good
  uint64_t pinned_[kPinnedSlots] = {};  // the traced page in each pinned slot
  uint32_t pinned_used_ = 0;
  mutable uint32_t last_pinned_ = 0;
  uint64_t sticky_start_ = 0, sticky_end_ = 0;
  uint64_t sticky_[kStickySlots] = {};       // the traced page in each sticky slot (0: free)
  uint64_t sticky_used_[kStickySlots] = {};  // when each slot was last used (sticky_clock_)
  uint64_t sticky_clock_ = 0;
  // The sticky slot's address here for `page` (borrowed now if it was not), or 0.
  uint64_t borrow_sticky(uint64_t page);
};

}  // namespace trace
