// SPDX-License-Identifier: MIT
// Copies between the POSIX server and a process's memory on the process's behalf (system call
// arguments and results), checked against its areas and faulting pages in as the CPU would.
#include <string.h>

#include "mm/address_space.hpp"
#include "sys/server_start.hpp"
#include "sys/syscall.hpp"

namespace posix::mm {

namespace abi = sonde::abi;
using abi::Error;
using platform::kPage;

// A system call's copy to or from a page of another server that the process maps (a trace
// server ring or map page): a copy of its frame cap is mapped at the server's window for the
// copy and taken away after it. EFAULT if the frame went with its server (a restart).
rt::Result<void> AddressSpace::copy_foreign(const Page& page, uint64_t offset, void* buffer,
                                            size_t length, bool write) {
  if (write && page.foreign != kForeignWritable) return rt::err(rt::kEFAULT);
  uint64_t copy = TRY(platform::allocate_slot());
  if (sys::cnode_copy(sys::kServerSlotCNode, copy, page.mapped_cap) != Error::kNone) {
    platform::free_slot(copy);
    return rt::err(rt::kEFAULT);
  }
  uint64_t rights = write ? abi::kMapWrite : 0;
  rt::Result<void> result = {};
  if (platform::map_frame(copy, sys::kServerSlotVSpace, sys::kPosixForeignWindow, rights) !=
      Error::kNone) {
    result = rt::err(rt::kEFAULT);
  } else {
    auto* window = reinterpret_cast<uint8_t*>(sys::kPosixForeignWindow + offset);
    if (write) {
      memcpy(window, buffer, length);
    } else {
      memcpy(buffer, window, length);
    }
  }
  (void)sys::cnode_delete(sys::kServerSlotCNode, copy);  // unmaps it
  platform::free_slot(copy);
  return result;
}

rt::Result<void> AddressSpace::copy_in(void* to, uint64_t from, size_t length) {
  auto* out = static_cast<uint8_t*>(to);
  while (length > 0) {
    if (from >= kUserTop) return rt::err(rt::kEFAULT);
    Page* page = find_page(from);
    if (page == nullptr) {
      if (!access_allowed(from, false)) return rt::err(rt::kEFAULT);
      page = TRY(ensure_page(from, find_area(from)->prot));
    }
    if (!accessible(page->prot)) return rt::err(rt::kEFAULT);  // PROT_NONE
    uint64_t offset = from & (kPage - 1);
    size_t chunk = kPage - offset < length ? kPage - offset : length;
    if (page->foreign != 0) {
      TRY(copy_foreign(*page, offset, out, chunk, false));
    } else {
      memcpy(out, reinterpret_cast<const void*>(page->frame.server_address + offset), chunk);
    }
    out += chunk;
    from += chunk;
    length -= chunk;
  }
  return {};
}

rt::Result<void> AddressSpace::copy_out(uint64_t to, const void* from, size_t length) {
  const auto* in = static_cast<const uint8_t*>(from);
  while (length > 0) {
    uint64_t offset = to & (kPage - 1);
    size_t chunk = kPage - offset < length ? kPage - offset : length;
    if (to < kUserTop) {
      if (const Page* foreign = find_page(to); foreign != nullptr && foreign->foreign != 0) {
        if ((foreign->prot & kProtWrite) == 0) return rt::err(rt::kEFAULT);
        TRY(copy_foreign(*foreign, offset, const_cast<uint8_t*>(in), chunk, true));
        in += chunk;
        to += chunk;
        length -= chunk;
        continue;
      }
    }
    Page* page = TRY(user_writable_page(to));
    memcpy(reinterpret_cast<void*>(page->frame.server_address + offset), in, chunk);
    in += chunk;
    to += chunk;
    length -= chunk;
  }
  return {};
}

rt::Result<void> AddressSpace::zero(uint64_t to, size_t length) {
  // A page at a time (a read of /dev/zero comes this way).
  while (length > 0) {
    Page* page = TRY(user_writable_page(to));
    uint64_t offset = to & (kPage - 1);
    size_t chunk = kPage - offset < length ? kPage - offset : length;
    memset(reinterpret_cast<void*>(page->frame.server_address + offset), 0, chunk);
    to += chunk;
    length -= chunk;
  }
  return {};
}

rt::Result<size_t> AddressSpace::copy_string(char* to, uint64_t from, size_t capacity) {
  size_t i = 0;
  while (i < capacity) {
    uint64_t address = from + i;
    if (address >= kUserTop) return rt::err(rt::kEFAULT);
    Page* page = find_page(address);
    if (page == nullptr) {
      if (!access_allowed(address, false)) return rt::err(rt::kEFAULT);
      page = TRY(ensure_page(address, find_area(address)->prot));
    }
    if (page->foreign != 0) return rt::err(rt::kEFAULT);
    const char* bytes = reinterpret_cast<const char*>(page->frame.server_address);
    for (uint64_t offset = address & (kPage - 1); offset < kPage && i < capacity; ++offset, ++i) {
      to[i] = bytes[offset];
      if (to[i] == '\0') return i;
    }
  }
  return rt::err(rt::kENAMETOOLONG);
}

}  // namespace posix::mm
