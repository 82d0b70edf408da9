// SPDX-License-Identifier: MIT
// BorrowedMemory: MapForeign page by page, UnmapForeign when the hit ends.
#include "traced_memory.hpp"

#include "sys/ipc.hpp"
#include "sys/server_memory.hpp"

namespace trace {

namespace {

namespace abi = sonde::abi;
constexpr uint64_t kWindow = 0x0000600000000000ull;
constexpr uint64_t kPage = 4096;
// Canonical user addresses only: anything else is never mapped in the traced VSpace.
constexpr uint64_t kUserTop = 0x0000800000000000ull;

}  // namespace

uint64_t BorrowedMemory::borrow(uint64_t page) {
  for (uint32_t i = 0; i < used_; ++i) {
    if (pages_[i] == page) return kWindow + i * kPage;
  }
  if (used_ == kSlots) release();  // a long read: start the window again
  uint64_t here = kWindow + used_ * kPage;
  uint64_t words[] = {page, sys::kServerSlotVSpace, here};
  abi::Error e = sys::invoke(source_, abi::Label::kVSpaceMapForeign, words);
  for (int level = 0; level < 3 && e == abi::Error::kMissingPageTable; ++level) {
    auto table = sys::server::make_object(abi::ObjectType::kPageTable);
    if (!table.ok()) return 0;
    uint64_t table_words[] = {sys::kServerSlotVSpace, here};
    if (sys::invoke(table.value(), abi::Label::kPageTableMap, table_words) != abi::Error::kNone) {
      return 0;
    }
    e = sys::invoke(source_, abi::Label::kVSpaceMapForeign, words);
  }
  if (e != abi::Error::kNone) return 0;
  pages_[used_++] = page;
  return here;
}

bool BorrowedMemory::read(void* destination, uint64_t address, size_t size) {
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

void BorrowedMemory::release() {
  for (uint32_t i = 0; i < used_; ++i) {
    uint64_t words[] = {pages_[i], sys::kServerSlotVSpace, kWindow + i * kPage};
    (void)sys::invoke(source_, abi::Label::kVSpaceUnmapForeign, words);
    pages_[i] = 0;
  }
  used_ = 0;
}

}  // namespace trace
