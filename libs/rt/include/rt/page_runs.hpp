// SPDX-License-Identifier: MIT
// Free runs of whole pages in a heap (the servers' blocks above 1 MiB): kept in address order so
// that a run given back merges with its free neighbours, and taken best fit, so that a file
// growing by doubling (1, 2, 4, 8 MiB...) and freed again leaves one run it fits in next time
// instead of pieces none of its sizes fits. The runs' own memory holds the list.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace rt {

class PageRuns {
 public:
  static constexpr size_t kPage = 4096;

  // `bytes` (a multiple of kPage) from the smallest run that holds them, its first pages (the
  // rest stays free in its place); nullptr when no run is large enough.
  void* take(size_t bytes) {
    Run** best = nullptr;
    for (Run** link = &head_; *link != nullptr; link = &(*link)->next) {
      if ((*link)->bytes >= bytes && (best == nullptr || (*link)->bytes < (*best)->bytes)) {
        best = link;
        if ((*link)->bytes == bytes) break;
      }
    }
    if (best == nullptr) return nullptr;
    Run* run = *best;
    if (run->bytes == bytes) {
      *best = run->next;
    } else {
      auto* rest = reinterpret_cast<Run*>(reinterpret_cast<uint8_t*>(run) + bytes);
      rest->next = run->next;
      rest->bytes = run->bytes - bytes;
      *best = rest;
    }
    free_bytes_ -= bytes;
    return run;
  }

  // Gives [pointer, pointer + bytes) back (page-aligned, a multiple of kPage, not free already).
  void give(void* pointer, size_t bytes) {
    auto* run = static_cast<Run*>(pointer);
    auto address = reinterpret_cast<uintptr_t>(pointer);
    Run* before = nullptr;
    Run** link = &head_;
    while (*link != nullptr && reinterpret_cast<uintptr_t>(*link) < address) {
      before = *link;
      link = &(*link)->next;
    }
    run->bytes = bytes;
    run->next = *link;
    *link = run;
    free_bytes_ += bytes;
    if (run->next != nullptr && address + run->bytes == reinterpret_cast<uintptr_t>(run->next)) {
      run->bytes += run->next->bytes;  // the next run follows it
      run->next = run->next->next;
    }
    if (before != nullptr && reinterpret_cast<uintptr_t>(before) + before->bytes == address) {
      before->bytes += run->bytes;  // it follows the run before
      before->next = run->next;
    }
  }

  // The run that ends at `end` (the heap's top), taken whole: a block that fits no run can start
  // there and only its rest be new. nullptr (and `bytes` 0) when the last run ends elsewhere.
  void* take_ending_at(uintptr_t end, size_t& bytes) {
    bytes = 0;
    Run** link = &head_;
    while (*link != nullptr && (*link)->next != nullptr) link = &(*link)->next;
    Run* run = *link;
    if (run == nullptr || reinterpret_cast<uintptr_t>(run) + run->bytes != end) return nullptr;
    *link = nullptr;
    bytes = run->bytes;
    free_bytes_ -= bytes;
    return run;
  }

  size_t free_bytes() const { return free_bytes_; }
  // How many separate runs are free (what merging keeps low).
  size_t runs() const {
    size_t count = 0;
    for (const Run* run = head_; run != nullptr; run = run->next) ++count;
    return count;
  }

 private:
  struct Run {
    Run* next;
    size_t bytes;
  };
  Run* head_ = nullptr;
  size_t free_bytes_ = 0;
};

}  // namespace rt
