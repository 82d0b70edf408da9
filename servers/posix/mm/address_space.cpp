// SPDX-License-Identifier: MIT
// Process memory: demand-zero areas, pages shared with the server's view, copy-on-write fork.
#include "mm/address_space.hpp"

#include <string.h>

#include "mm/file_pages.hpp"
#include "rt/new.hpp"
#include "sys/server_start.hpp"
#include "vfs/inode.hpp"

namespace posix::mm {

// The trace server walks the page radix (sys::user_page_map): keep the layout it reads.
static_assert(offsetof(Page, frame) + offsetof(platform::PageFrame, server_address) ==
              sys::user_page_map::kServerAddressOffset);
static_assert(offsetof(Page, prot) == sys::user_page_map::kProtOffset);
static_assert(kProtRead == sys::user_page_map::kProtRead);

namespace {

void (*foreign_retain)(uint32_t handle, uint64_t instance) = nullptr;
void (*foreign_release)(uint32_t handle, uint64_t instance) = nullptr;
CowCounters counters = {};

using platform::kPage;
namespace abi = sonde::abi;
using abi::Error;
using abi::Label;

uint64_t page_of(uint64_t address) { return address & ~(kPage - 1); }

uint64_t map_rights(uint32_t prot) {
  uint64_t rights = abi::kMapRead;
  if ((prot & kProtWrite) != 0) rights |= abi::kMapWrite;
  if ((prot & kProtExec) != 0) rights |= abi::kMapExecute;
  return rights;
}

// The rights `page` is mapped with: its protection, without write while copy-on-write.
uint64_t page_rights(const Page& page) {
  uint64_t rights = map_rights(page.prot);
  if (page.cow != 0) rights &= ~abi::kMapWrite;
  return rights;
}

constexpr int kSigBus = 7;
constexpr int kSigSegv = 11;

// [from, to) of area `a`, its file offset moved along.
Area piece_of(const Area& a, uint64_t from, uint64_t to) {
  Area piece = a;
  piece.start = from;
  piece.end = to;
  if (a.file != nullptr) piece.offset = a.offset + (from - a.start);
  return piece;
}

// Whether the page at `address` in file area `area` lies wholly past the end of its file.
bool past_end_of_file(const Area& area, uint64_t address) {
  return area.offset + (page_of(address) - area.start) >= area.file->size;
}

void* zeroed(size_t size) {
  void* memory = platform::heap().allocate(size, 16);
  if (memory != nullptr) memset(memory, 0, size);
  return memory;
}

}  // namespace

const CowCounters& cow_counters() { return counters; }

rt::Result<void> AddressSpace::create() {
  vspace_ = TRY(platform::make_object(abi::ObjectType::kVSpace));
  resident_ = peak_resident_ = peak_virtual_ = 0;  // a new mm's
  top_ = static_cast<Node*>(zeroed(sizeof(Node)));
  if (top_ == nullptr) return rt::err(rt::kENOMEM);
  return {};
}

Page** AddressSpace::slot_for(uint64_t address, bool create) const {
  if (top_ == nullptr || address >= kUserTop) return nullptr;
  Node* node = top_;
  for (int level = 0; level < 3; ++level) {
    unsigned index = (address >> (39 - 9 * level)) & 511;
    if (node->next[index] == nullptr) {
      if (!create) return nullptr;
      node->next[index] = zeroed(level == 2 ? sizeof(Leaf) : sizeof(Node));
      if (node->next[index] == nullptr) return nullptr;
    }
    node = static_cast<Node*>(node->next[index]);
  }
  return &reinterpret_cast<Leaf*>(node)->pages[(address >> 12) & 511];
}

Page* AddressSpace::find_page(uint64_t address) const {
  Page** slot = slot_for(page_of(address), false);
  return slot != nullptr ? *slot : nullptr;
}

void set_foreign_holder(void (*retain)(uint32_t handle, uint64_t instance),
                        void (*release)(uint32_t handle, uint64_t instance)) {
  foreign_retain = retain;
  foreign_release = release;
}

Error AddressSpace::map_cap(uint64_t cap, uint64_t address, uint32_t prot) {
  if (!accessible(prot)) return Error::kNone;
  uint64_t words[] = {vspace_, address, map_rights(prot)};
  Error e = sys::invoke(cap, Label::kFrameMap, words);
  for (int level = 0; level < 3 && e == Error::kMissingPageTable; ++level) {
    auto table = platform::make_object(abi::ObjectType::kPageTable);
    if (!table.ok()) return Error::kNotEnoughMemory;
    if (table_count_ < sizeof(tables_) / sizeof(tables_[0]))
      tables_[table_count_++] = table.value();
    uint64_t table_words[] = {vspace_, address};
    e = sys::invoke(table.value(), Label::kPageTableMap, table_words);
    if (e == Error::kNone) e = sys::invoke(cap, Label::kFrameMap, words);
  }
  return e;
}

rt::Result<Page*> AddressSpace::map_new_page(uint64_t address, const platform::PageFrame& frame,
                                             uint32_t prot, bool cow, bool file_shared) {
  Page** slot = slot_for(address, true);
  if (slot == nullptr) return rt::err(rt::kENOMEM);
  auto* page = static_cast<Page*>(zeroed(sizeof(Page)));
  if (page == nullptr) return rt::err(rt::kENOMEM);
  auto copy = platform::allocate_slot();
  if (!copy.ok()) {
    platform::heap().deallocate(page, sizeof(Page));
    return copy.error();
  }
  // A copy of the frame cap (copies start unmapped) for this mapping.
  Error e = sys::cnode_copy(sys::kServerSlotCNode, copy.value(), frame.cap);
  if (e == Error::kNone) e = map_cap(copy.value(), address, cow ? prot & ~kProtWrite : prot);
  if (e != Error::kNone) {
    (void)sys::cnode_delete(sys::kServerSlotCNode, copy.value());
    platform::free_slot(copy.value());
    platform::heap().deallocate(page, sizeof(Page));
    return rt::err(rt::kENOMEM, "mapping a page failed");
  }
  platform::share_page(frame);
  page->frame = frame;
  page->mapped_cap = copy.value();
  page->prot = prot;
  page->cow = cow ? 1 : 0;
  page->file_shared = file_shared ? 1 : 0;
  *slot = page;
  page_added();
  return page;
}

rt::Result<Page*> AddressSpace::ensure_page(uint64_t address, uint32_t prot) {
  address = page_of(address);
  if (Page* page = find_page(address)) return page;
  const Area* area = find_area(address);
  if (area != nullptr && area->file != nullptr) {
    // A file's page: the file's own frame (copy-on-write in a private mapping).
    if (past_end_of_file(*area, address)) return rt::err(rt::kEFAULT);
    uint64_t offset = area->offset + (address - area->start);
    platform::PageFrame frame = TRY(file_frame(*area->file, offset / kPage));
    return map_new_page(address, frame, prot, area->private_file, !area->private_file);
  }
  platform::PageFrame frame = TRY(platform::allocate_page());
  auto page = map_new_page(address, frame, prot, false, false);
  platform::free_page(frame);  // the page holds its own reference (or the frame goes back)
  return page;
}

void AddressSpace::unmap_page(uint64_t address) {
  Page** slot = slot_for(address, false);
  if (slot == nullptr || *slot == nullptr) return;
  Page* page = *slot;
  *slot = nullptr;
  --resident_;
  (void)sys::cnode_delete(sys::kServerSlotCNode, page->mapped_cap);  // unmaps it
  platform::free_slot(page->mapped_cap);
  if (page->foreign != 0) {
    foreign_page_gone(page->foreign_mapping);
  } else {
    platform::free_page(page->frame);
  }
  platform::heap().deallocate(page, sizeof(Page));
}

rt::Result<uint32_t> AddressSpace::add_foreign_mapping(uint32_t handle, uint64_t instance) {
  for (uint32_t i = 0; i < kMaxForeign; ++i) {
    if (foreign_[i].pages != 0 || foreign_[i].handle != 0) continue;
    foreign_[i] = ForeignMapping{handle, instance, 0};
    return i;
  }
  return rt::err(rt::kENOMEM, "too many shared mappings in one process");
}

bool AddressSpace::drop_empty_foreign_mapping(uint32_t mapping) {
  if (mapping >= kMaxForeign || foreign_[mapping].pages != 0) return false;
  foreign_[mapping] = ForeignMapping{};
  return true;
}

rt::Result<void> AddressSpace::map_foreign(uint64_t address, uint64_t frame, uint32_t prot,
                                           bool writable, uint32_t mapping) {
  address = page_of(address);
  if (find_page(address) != nullptr) unmap_page(address);
  Page** slot = slot_for(address, true);
  if (slot == nullptr) return rt::err(rt::kENOMEM);
  auto* page = static_cast<Page*>(zeroed(sizeof(Page)));
  if (page == nullptr) return rt::err(rt::kENOMEM);
  if (map_cap(frame, address, prot) != Error::kNone) {
    platform::heap().deallocate(page, sizeof(Page));
    return rt::err(rt::kENOMEM, "mapping a shared page failed");
  }
  page->mapped_cap = frame;
  page->prot = prot;
  page->foreign = writable ? kForeignWritable : kForeignReadOnly;
  page->foreign_mapping = mapping;
  ++foreign_[mapping].pages;
  *slot = page;
  page_added();
  return {};
}

void AddressSpace::foreign_page_gone(uint32_t mapping) {
  if (mapping >= kMaxForeign || foreign_[mapping].pages == 0) return;
  if (--foreign_[mapping].pages != 0) return;
  ForeignMapping done = foreign_[mapping];
  foreign_[mapping] = ForeignMapping{};
  if (foreign_release != nullptr) foreign_release(done.handle, done.instance);
}

bool AddressSpace::area_room(size_t more) {
  size_t needed = area_count_ + more;
  if (needed > kMaxAreas) return false;
  if (needed <= area_capacity_) return true;
  size_t capacity = area_capacity_ < 16 ? 16 : area_capacity_ * 2;
  while (capacity < needed) capacity *= 2;
  if (capacity > kMaxAreas) capacity = kMaxAreas;
  auto* grown = static_cast<Area*>(platform::heap().allocate(capacity * sizeof(Area), 8));
  if (grown == nullptr) return false;
  for (size_t i = 0; i < area_count_; ++i) grown[i] = areas_[i];
  if (areas_ != nullptr) platform::heap().deallocate(areas_, area_capacity_ * sizeof(Area));
  areas_ = grown;
  area_capacity_ = capacity;
  return true;
}

rt::Result<void> AddressSpace::add_area(uint64_t start, uint64_t end, uint32_t prot) {
  if (start >= end || end > kUserTop) return rt::err(rt::kEINVAL);
  // Joins an adjacent area with the same protection (brk grows this way).
  for (size_t i = 0; i < area_count_; ++i) {
    if (areas_[i].end == start && areas_[i].prot == prot && areas_[i].file == nullptr) {
      areas_[i].end = end;
      areas_grew();
      return {};
    }
  }
  if (!area_room(1)) return rt::err(rt::kENOMEM);
  areas_[area_count_++] = Area{start, end, prot, nullptr, 0, false, false};
  areas_grew();
  return {};
}

rt::Result<void> AddressSpace::add_file_area(uint64_t start, uint64_t end, uint32_t prot,
                                             Inode* file, uint64_t offset, bool write_denied,
                                             bool private_file) {
  if (start >= end || end > kUserTop) return rt::err(rt::kEINVAL);
  if (!area_room(1)) return rt::err(rt::kENOMEM);
  if (file != nullptr && !is_anon_shared(file)) ++file->maps;  // (shared anonymous: made with 1)
  areas_[area_count_++] = Area{start, end, prot, file, offset, write_denied, private_file};
  areas_grew();
  return {};
}

void AddressSpace::file_shrunk(const Inode* file, uint64_t size) {
  for (size_t i = 0; i < area_count_; ++i) {
    const Area& area = areas_[i];
    if (area.file != file) continue;
    for (uint64_t address = area.start; address < area.end; address += kPage) {
      if (area.offset + (address - area.start) < size) continue;
      if (find_page(address) != nullptr) unmap_page(address);
    }
  }
}

const Area* AddressSpace::find_area(uint64_t address) const {
  for (size_t i = 0; i < area_count_; ++i) {
    if (address >= areas_[i].start && address < areas_[i].end) return &areas_[i];
  }
  return nullptr;
}

rt::Result<void> AddressSpace::remove_range(uint64_t start, uint64_t end) {
  // A hole cut inside an area leaves two pieces of it: one area more, which must fit.
  size_t more = 0;
  for (size_t i = 0; i < area_count_; ++i) {
    if (areas_[i].start < start && areas_[i].end > end) ++more;
  }
  if (!area_room(more)) return rt::err(rt::kENOMEM);
  for (size_t i = 0; i < area_count_;) {
    Area a = areas_[i];
    if (a.end <= start || a.start >= end) {
      ++i;
      continue;
    }
    // Cut [start, end) out of the area: up to two pieces stay (each one more user of a
    // shared anonymous inode, the area cut one less).
    areas_[i] = areas_[--area_count_];
    if (a.start < start) {
      areas_[area_count_++] = piece_of(a, a.start, start);
      retain_area_file(a.file);
    }
    if (a.end > end) {
      areas_[area_count_++] = piece_of(a, end, a.end);
      retain_area_file(a.file);
    }
    release_area_file(a.file);
  }
  for (uint64_t address = page_of(start); address < end; address += kPage) {
    if (find_page(address) != nullptr) unmap_page(address);
  }
  return {};
}

rt::Result<void> AddressSpace::protect(uint64_t start, uint64_t end, uint32_t prot) {
  for (uint64_t address = start; address < end; address += kPage) {
    const Area* area = find_area(address);
    if (area == nullptr) return rt::err(rt::kENOMEM);
    if (area->write_denied && (prot & kProtWrite) != 0) return rt::err(rt::kEACCES);
    const Page* page = find_page(address);
    if (page != nullptr && page->foreign == kForeignReadOnly && (prot & kProtWrite) != 0) {
      return rt::err(rt::kEACCES);  // a read-only shared page (VM_MAYWRITE cleared)
    }
  }
  // Split the areas at the edges (each edge inside an area makes one area more, which must
  // fit: ENOMEM as Linux's split_vma past max_map_count), then set the protection of
  // everything inside.
  size_t more = 0;
  for (size_t i = 0; i < area_count_; ++i) {
    const Area& a = areas_[i];
    if (a.end <= start || a.start >= end) continue;
    more += (a.start < start ? 1 : 0) + (a.end > end ? 1 : 0);
  }
  if (!area_room(more)) return rt::err(rt::kENOMEM);
  for (size_t i = 0, count = area_count_; i < count; ++i) {
    Area a = areas_[i];
    if (a.end <= start || a.start >= end) continue;
    uint64_t from = a.start > start ? a.start : start;
    uint64_t to = a.end < end ? a.end : end;
    areas_[i] = piece_of(a, from, to);  // keeps the area's hold on a shared anonymous inode
    areas_[i].prot = prot;
    if (a.start < start) {
      areas_[area_count_++] = piece_of(a, a.start, start);
      retain_area_file(a.file);
    }
    if (a.end > end) {
      areas_[area_count_++] = piece_of(a, end, a.end);
      retain_area_file(a.file);
    }
  }
  for (uint64_t address = start; address < end; address += kPage) {
    Page* page = find_page(address);
    if (page == nullptr || page->prot == prot) continue;
    bool was_mapped = accessible(page->prot);
    page->prot = prot;
    if (!accessible(prot)) {
      (void)sys::invoke(page->mapped_cap, Label::kFrameUnmap);  // PROT_NONE: not mapped
    } else if (!was_mapped) {
      (void)map_cap(page->mapped_cap, address, page->cow != 0 ? prot & ~kProtWrite : prot);
    } else {
      uint64_t words[] = {page_rights(*page)};
      (void)sys::invoke(page->mapped_cap, Label::kFrameRemap, words);
    }
  }
  return {};
}

rt::Result<void> AddressSpace::move_range(uint64_t from, uint64_t length, uint64_t to,
                                          uint64_t new_length, bool keep_old) {
  const Area* found = find_area(from);
  if (found == nullptr || from + length > found->end) return rt::err(rt::kEFAULT);
  uint64_t carried = length < new_length ? length : new_length;
  for (uint64_t off = 0; off < carried; off += kPage) {
    const Page* page = find_page(from + off);
    if (page != nullptr && page->foreign != 0) return rt::err(rt::kEINVAL);
  }
  Area moved = piece_of(*found, from, from + length);
  if (!area_room(1)) return rt::err(rt::kENOMEM);  // `found` may move: `moved` is a copy
  moved.start = to;
  moved.end = to + new_length;
  areas_[area_count_++] = moved;
  retain_area_file(moved.file);  // one more area maps the file
  for (uint64_t off = 0; off < carried; off += kPage) {
    Page* page = find_page(from + off);
    if (page == nullptr) continue;
    auto mapped =
        map_new_page(to + off, page->frame, page->prot, page->cow != 0, page->file_shared != 0);
    if (!mapped.ok()) {
      (void)remove_range(to, to + new_length);  // a whole area: no split
      return mapped.error();
    }
  }
  if (keep_old) {
    discard(from, from + length);
  } else {
    TRY(remove_range(from, from + length));
  }
  return {};
}

uint64_t AddressSpace::virtual_bytes() const {
  uint64_t bytes = 0;
  for (size_t i = 0; i < area_count_; ++i) bytes += areas_[i].end - areas_[i].start;
  return bytes;
}

void AddressSpace::extend_area(uint64_t end, uint64_t new_end) {
  for (size_t i = 0; i < area_count_; ++i) {
    if (areas_[i].end == end && areas_[i].start < end) {
      areas_[i].end = new_end;
      areas_grew();
      return;
    }
  }
}

uint64_t AddressSpace::find_free(uint64_t length) {
  uint64_t candidate = mmap_top - length;
  for (int tries = 0; tries < 4096; ++tries) {
    bool clash = false;
    for (size_t i = 0; i < area_count_; ++i) {
      if (areas_[i].start < candidate + length && candidate < areas_[i].end) {
        clash = true;
        candidate = areas_[i].start - length;
        break;
      }
    }
    if (!clash) {
      mmap_top = candidate;
      return candidate;
    }
  }
  return 0;
}

bool AddressSpace::access_allowed(uint64_t address, bool write) const {
  const Area* area = find_area(address);
  if (area == nullptr) return false;
  return write ? (area->prot & kProtWrite) != 0 : (area->prot & (kProtRead | kProtWrite)) != 0;
}

int AddressSpace::handle_fault(uint64_t address, uint64_t access) {
  bool write = (access & 2) != 0;
  bool fetch = (access & 16) != 0;
  const Area* area = find_area(address);
  if (area == nullptr) return kSigSegv;
  // x86 reads what it may write or execute: only PROT_NONE refuses a read (Linux's
  // vma_is_accessible).
  if (!accessible(area->prot)) return kSigSegv;
  if (write && (area->prot & kProtWrite) == 0) return kSigSegv;
  if (fetch && (area->prot & kProtExec) == 0) return kSigSegv;
  Page* page = find_page(address);
  if (page == nullptr) {
    if (area->file == nullptr) return ensure_page(address, area->prot).ok() ? 0 : kSigSegv;
    if (past_end_of_file(*area, address)) return kSigBus;
    // A write to a private file page copies it at once (not a read-only mapping first).
    if (write && area->private_file) return writable_page(address).ok() ? 0 : kSigSegv;
    const Area around = *area;  // ensure_page may grow the area list
    if (!ensure_page(address, area->prot).ok()) return kSigSegv;
    if (!write) fault_around(address, around);
    return 0;
  }
  if (page->foreign != 0) return kSigSegv;
  if (write && (page->prot & kProtWrite) != 0) {
    if (page->cow != 0) return break_cow(page_of(address), *page).ok() ? 0 : kSigSegv;
    return 0;  // writable already: another thread's fault (a copy, a new page) made it so
  }
  // Not present in the process although the page is there: another thread's fault mapped it
  // meanwhile. Present: a protection fault.
  return (access & 1) == 0 ? 0 : kSigSegv;
}

void AddressSpace::fault_around(uint64_t address, const Area& area) {
  constexpr uint64_t kAround = 64 * 1024;
  uint64_t from = address & ~(kAround - 1), to = from + kAround;
  if (from < area.start) from = area.start;
  if (to > area.end) to = area.end;
  for (uint64_t at = from; at < to; at += kPage) {
    if (at == page_of(address) || find_page(at) != nullptr) continue;
    if (past_end_of_file(area, at)) break;
    if (!ensure_page(at, area.prot).ok()) break;  // memory is short: the fault alone is served
  }
}

rt::Result<Page*> AddressSpace::user_writable_page(uint64_t address) {
  if (address >= kUserTop) return rt::err(rt::kEFAULT);
  Page* page = find_page(address);
  if ((page == nullptr || (page->prot & kProtWrite) == 0) && !access_allowed(address, true)) {
    return rt::err(rt::kEFAULT);
  }
  // Private first: the write goes through the server's mapping of the frame, which a frame
  // shared copy-on-write would carry into the other process. Another server's page is not
  // mapped in this one (EFAULT here; copy_out writes it through copy_foreign).
  return writable_page(address);
}

rt::Result<Page*> AddressSpace::writable_page(uint64_t address) {
  if (address >= kUserTop) return rt::err(rt::kEFAULT);
  address = page_of(address);
  Page* page = find_page(address);
  if (page == nullptr) {
    const Area* area = find_area(address);
    if (area == nullptr) return rt::err(rt::kEFAULT);
    return ensure_page(address, area->prot);
  }
  if (page->foreign != 0) return rt::err(rt::kEFAULT);
  if (page->cow != 0) TRY(break_cow(address, *page));
  return page;
}

rt::Result<void> AddressSpace::break_cow(uint64_t address, Page& page) {
  if (platform::page_references(page.frame) <= 1) {
    // The others let the frame go (wrote, exited, exec'd): it is this process's alone again.
    page.cow = 0;
    if ((page.prot & kProtWrite) != 0) {
      uint64_t words[] = {page_rights(page)};
      if (sys::invoke(page.mapped_cap, Label::kFrameRemap, words) != Error::kNone) {
        page.cow = 1;
        return rt::err(rt::kENOMEM, "giving a page its write back failed");
      }
    }
    ++counters.reused;
    return {};
  }
  platform::PageFrame frame = TRY(platform::allocate_page());
  memcpy(reinterpret_cast<void*>(frame.server_address),
         reinterpret_cast<const void*>(page.frame.server_address), kPage);
  auto cap = platform::allocate_slot();
  if (!cap.ok()) {
    platform::free_page(frame);
    return cap.error();
  }
  if (sys::cnode_copy(sys::kServerSlotCNode, cap.value(), frame.cap) != Error::kNone) {
    platform::free_slot(cap.value());
    platform::free_page(frame);
    return rt::err(rt::kENOMEM, "copying a frame cap failed");
  }
  // The shared frame's mapping goes (deleting its cap unmaps it), the copy's takes its place.
  (void)sys::cnode_delete(sys::kServerSlotCNode, page.mapped_cap);
  if (map_cap(cap.value(), address, page.prot) != Error::kNone) {
    (void)sys::cnode_delete(sys::kServerSlotCNode, cap.value());
    platform::free_slot(cap.value());
    platform::free_page(frame);
    // The shared frame comes back, read-only as before.
    if (sys::cnode_copy(sys::kServerSlotCNode, page.mapped_cap, page.frame.cap) == Error::kNone) {
      (void)map_cap(page.mapped_cap, address, page.prot & ~kProtWrite);
    }
    return rt::err(rt::kENOMEM, "mapping a copied page failed");
  }
  platform::free_slot(page.mapped_cap);
  platform::free_page(page.frame);  // one reference fewer: the others keep it
  page.frame = frame;
  page.mapped_cap = cap.value();
  page.cow = 0;
  ++counters.copied;
  return {};
}

void AddressSpace::discard(uint64_t start, uint64_t end) {
  for (uint64_t address = page_of(start); address < end && address < kUserTop; address += kPage) {
    const Page* page = find_page(address);
    if (page != nullptr && page->foreign == 0) unmap_page(address);
  }
}

rt::Result<void> AddressSpace::share_page_with(uint64_t address, Page& page, AddressSpace& child) {
  Page** slot = child.slot_for(address, true);
  if (slot == nullptr) return rt::err(rt::kENOMEM);
  auto* shared = static_cast<Page*>(zeroed(sizeof(Page)));
  if (shared == nullptr) return rt::err(rt::kENOMEM);
  auto cap = platform::allocate_slot();
  if (!cap.ok()) {
    platform::heap().deallocate(shared, sizeof(Page));
    return cap.error();
  }
  // A copy of the frame cap (copies start unmapped) for the child's mapping, without write.
  Error e = sys::cnode_copy(sys::kServerSlotCNode, cap.value(), page.frame.cap);
  if (e == Error::kNone) e = child.map_cap(cap.value(), address, page.prot & ~kProtWrite);
  if (e != Error::kNone) {
    (void)sys::cnode_delete(sys::kServerSlotCNode, cap.value());
    platform::free_slot(cap.value());
    platform::heap().deallocate(shared, sizeof(Page));
    return rt::err(rt::kENOMEM, "sharing a page with the child failed");
  }
  // The parent loses write too (a page shared already has none).
  if (page.cow == 0) {
    page.cow = 1;
    uint64_t words[] = {page_rights(page)};
    if ((page.prot & kProtWrite) != 0 &&
        sys::invoke(page.mapped_cap, Label::kFrameRemap, words) != Error::kNone) {
      page.cow = 0;
      (void)sys::cnode_delete(sys::kServerSlotCNode, cap.value());  // unmaps it in the child
      platform::free_slot(cap.value());
      platform::heap().deallocate(shared, sizeof(Page));
      return rt::err(rt::kENOMEM, "taking write from a shared page failed");
    }
  }
  platform::share_page(page.frame);
  shared->frame = page.frame;
  shared->mapped_cap = cap.value();
  shared->prot = page.prot;
  shared->cow = 1;
  *slot = shared;
  child.page_added();
  ++counters.shared;
  return {};
}

rt::Result<void> AddressSpace::fork_into(AddressSpace& child) {
  if (!child.area_room(area_count_)) return rt::err(rt::kENOMEM);
  for (size_t i = 0; i < area_count_; ++i) {
    child.areas_[i] = areas_[i];
    retain_area_file(areas_[i].file);  // the child's area maps the file too
  }
  child.area_count_ = area_count_;
  child.areas_grew();
  child.brk_start = brk_start;
  child.brk = brk;
  child.mmap_top = mmap_top;
  // Walk the radix map.
  if (top_ == nullptr) return {};
  for (unsigned a = 0; a < 512; ++a) {
    auto* n1 = static_cast<Node*>(top_->next[a]);
    if (n1 == nullptr) continue;
    for (unsigned b = 0; b < 512; ++b) {
      auto* n2 = static_cast<Node*>(n1->next[b]);
      if (n2 == nullptr) continue;
      for (unsigned c = 0; c < 512; ++c) {
        auto* leaf = static_cast<Leaf*>(n2->next[c]);
        if (leaf == nullptr) continue;
        for (unsigned d = 0; d < 512; ++d) {
          Page* page = leaf->pages[d];
          if (page == nullptr) continue;
          uint64_t address =
              (uint64_t{a} << 39) | (uint64_t{b} << 30) | (uint64_t{c} << 21) | (uint64_t{d} << 12);
          if (page->foreign != 0) {
            // Shared: a copy of the frame cap (copies start unmapped) mapped in the child under
            // its own entry for the same handle, which the holder then counts once more.
            const ForeignMapping& from = foreign_[page->foreign_mapping];
            uint32_t index = kMaxForeign;
            for (uint32_t f = 0; f < kMaxForeign; ++f) {
              if (child.foreign_[f].handle == from.handle &&
                  child.foreign_[f].instance == from.instance && child.foreign_[f].pages != 0) {
                index = f;
              }
            }
            if (index == kMaxForeign) {
              index = TRY(child.add_foreign_mapping(from.handle, from.instance));
              if (foreign_retain != nullptr) foreign_retain(from.handle, from.instance);
            }
            uint64_t copy = TRY(platform::allocate_slot());
            if (sys::cnode_copy(sys::kServerSlotCNode, copy, page->mapped_cap) != Error::kNone) {
              platform::free_slot(copy);  // the frame went with its trace-server instance
              // The page leaves the child's areas (at the area limit the area stays, and a
              // touch there gets a zero page).
              (void)child.remove_range(address, address + kPage);
              continue;
            }
            auto mapped = child.map_foreign(address, copy, page->prot,
                                            page->foreign == kForeignWritable, index);
            if (!mapped.ok()) {
              (void)sys::cnode_delete(sys::kServerSlotCNode, copy);
              platform::free_slot(copy);
              return mapped.error();
            }
            continue;
          }
          if (page->file_shared != 0) {
            // A MAP_SHARED file's page stays shared: the child maps the file's frame as it is.
            TRY(child.map_new_page(address, page->frame, page->prot, false, true));
            continue;
          }
          TRY(share_page_with(address, *page, child));
        }
      }
    }
  }
  return {};
}

void AddressSpace::destroy() {
  if (top_ != nullptr) {
    for (unsigned a = 0; a < 512; ++a) {
      auto* n1 = static_cast<Node*>(top_->next[a]);
      if (n1 == nullptr) continue;
      for (unsigned b = 0; b < 512; ++b) {
        auto* n2 = static_cast<Node*>(n1->next[b]);
        if (n2 == nullptr) continue;
        for (unsigned c = 0; c < 512; ++c) {
          auto* leaf = static_cast<Leaf*>(n2->next[c]);
          if (leaf == nullptr) continue;
          for (unsigned d = 0; d < 512; ++d) {
            Page* page = leaf->pages[d];
            if (page == nullptr) continue;
            (void)sys::cnode_delete(sys::kServerSlotCNode, page->mapped_cap);
            platform::free_slot(page->mapped_cap);
            if (page->foreign != 0) {
              foreign_page_gone(page->foreign_mapping);
            } else {
              platform::free_page(page->frame);
            }
            platform::heap().deallocate(page, sizeof(Page));
          }
          platform::heap().deallocate(leaf, sizeof(Leaf));
        }
        platform::heap().deallocate(n2, sizeof(Node));
      }
      platform::heap().deallocate(n1, sizeof(Node));
    }
    platform::heap().deallocate(top_, sizeof(Node));
    top_ = nullptr;
  }
  resident_ = 0;  // the high-water marks stay: the process's maxrss reads them
  // GAP: the untyped memory of paging structures and the VSpace is not reclaimed (no revoke
  // of the server's untyped yet); their slots are.
  for (size_t i = 0; i < table_count_; ++i) {
    (void)sys::cnode_delete(sys::kServerSlotCNode, tables_[i]);
    platform::free_slot(tables_[i]);
  }
  table_count_ = 0;
  if (vspace_ != 0) {
    (void)sys::cnode_delete(sys::kServerSlotCNode, vspace_);
    platform::free_slot(vspace_);
    vspace_ = 0;
  }
  for (size_t i = 0; i < area_count_; ++i) release_area_file(areas_[i].file);
  area_count_ = 0;
  if (areas_ != nullptr) platform::heap().deallocate(areas_, area_capacity_ * sizeof(Area));
  areas_ = nullptr;
  area_capacity_ = 0;
}

}  // namespace posix::mm
