// SPDX-License-Identifier: MIT
// VSpace, PageTable and Frame invocations: user-controlled page tables with accounted memory.
//
// Every paging structure below the PML4 is a PageTable object the user retyped and mapped, so
// mapping never allocates kernel memory. A Frame or PageTable cap records its one mapping as
// (ASID tag, address); the ASID tag holds a generation, so a mapping into a VSpace that has
// since been destroyed is recognised as stale and never touches whatever reuses the memory.
#include "kernel/vspace.hpp"

#include "arch/x86_64/cpu.hpp"
#include "kernel/breakpoint.hpp"
#include "kernel/cap_invocation.hpp"
#include "kernel/cnode.hpp"
#include "kernel/memory.hpp"
#include "kernel/page_table.hpp"
#include "kernel/smp.hpp"
#include "kernel/tcb.hpp"
#include "sonde/abi/invocations.hpp"
#include "sonde/abi/objects.hpp"

namespace kernel {

uint64_t mapping_epoch = 1;

namespace abi = sonde::abi;
using abi::Label;

namespace {

constexpr uint32_t kAsidCount = 4096;
constexpr uint32_t kAsidBits = 12;
constexpr uint32_t kGenerationMask = (1u << (32 - kAsidBits)) - 1;

uintptr_t asid_owner[kAsidCount];
uint32_t asid_generation[kAsidCount];

VSpaceInfo* info(uintptr_t vspace) { return vspace_info(vspace); }
uint64_t* table(uint64_t physical) { return static_cast<uint64_t*>(physical_to_virtual(physical)); }
uint64_t physical_of(uintptr_t object) { return object - kDirectMapBase; }

uint32_t mapping_tag(uintptr_t vspace) { return vspace_tag(vspace); }
uintptr_t tagged_vspace(uint32_t tag) { return vspace_from_tag(tag); }

// After a mapping changed: this CPU's TLB, and every other CPU with the VSpace loaded.
void flush_if_loaded(uintptr_t vspace) {
  ++mapping_epoch;
  uint64_t table = physical_of(vspace);
  if (this_cpu().loaded_page_table == table) arch::write_cr3(table);
  shootdown(table, false);
}

// The entry for `address` in the structure at `level` (4 = PML4 .. 1 = page table), or null
// if a structure above it is missing or a large page is in the way.
uint64_t* find_entry(uintptr_t vspace, uint64_t address, int level) {
  uint64_t* current = reinterpret_cast<uint64_t*>(vspace);
  for (int l = 4;; --l) {
    uint64_t* entry = &current[page::index(address, l)];
    if (l == level) return entry;
    if ((*entry & page::kPresent) == 0 || (*entry & page::kLarge) != 0) return nullptr;
    current = table(*entry & page::kAddressMask);
  }
}

// The level whose entry maps a frame of 2^size_bits bytes.
int frame_level(uint8_t size_bits) {
  return size_bits == abi::kFrameSmallBits ? 1 : size_bits == abi::kFrameLargeBits ? 2 : 3;
}

uint64_t leaf_flags(uint64_t rights, int level) {
  uint64_t flags = page::kPresent | page::kUser;
  if ((rights & abi::kMapWrite) != 0) flags |= page::kWritable;
  if ((rights & abi::kMapExecute) == 0) flags |= page::kNoExecute;
  if (level > 1) flags |= page::kLarge;
  return flags;
}

// A checked Frame, PageTable or VSpace invocation, ready to run.
struct MappingOperation {
  Label label = Label::kInvalid;
  Capability* cap = nullptr;   // the invoked Frame or PageTable cap (its mapping is recorded in it)
  uintptr_t vspace = 0;        // FrameMap, FrameRemap, PageTableMap: where; VSpace*: destination
  uint64_t address = 0;        // FrameMap, FrameRemap: the page; PageTableMap: what it covers
  uint64_t rights = 0;         // FrameMap, FrameRemap: kMapWrite, kMapExecute
  int level = 0;               // FrameMap, FrameRemap, PageTableMap: of `entry`
  uint64_t* entry = nullptr;   // the entry to write (FrameMap, FrameRemap, PageTableMap,
                               // VSpaceMapForeign)
  uint64_t* output = nullptr;  // FrameGetAddress
  size_t* output_count = nullptr;
  // VSpaceMapForeign, VSpaceUnmapForeign.
  uintptr_t source = 0;
  uint64_t source_address = 0;
  uint64_t destination_address = 0;
  uint64_t physical = 0;  // VSpaceMapForeign: the page lent
  size_t borrow = 0;      // VSpaceUnmapForeign: the borrow to drop
};

// A VSpace argument the caller may map into (Write right) that has an ASID.
Error lookup_vspace(const Capability& cspace_root, uint64_t cptr, uintptr_t& vspace) {
  Slot* slot = nullptr;
  Error error = lookup_cap_argument(cspace_root, cptr, ObjectType::kVSpace, abi::kRightWrite, slot);
  if (error != Error::kNone) return error;
  vspace = slot->cap.object;
  if (info(vspace)->asid == 0) return Error::kNotEnoughMemory;
  return Error::kNone;
}

// Borrowed pages: read-only mappings of this VSpace's pages in others.
void drop_borrow(uintptr_t source_vspace, size_t index) {
  VSpaceInfo* source = info(source_vspace);
  VSpaceInfo::Borrow& borrow = source->borrows[index];
  if (uintptr_t destination = tagged_vspace(borrow.destination_tag)) {
    uint64_t* entry = find_entry(destination, borrow.destination, 1);
    if (entry != nullptr && (*entry & page::kPresent) != 0 &&
        (*entry & page::kAddressMask) == borrow.physical) {
      *entry = 0;
      flush_if_loaded(destination);
    }
  }
  source->borrows[index] = source->borrows[--source->borrow_count];
}

// Drops the borrows of source pages in [start, end).
void drop_borrows(uintptr_t source_vspace, uint64_t start, uint64_t end) {
  VSpaceInfo* source = info(source_vspace);
  for (size_t i = 0; i < source->borrow_count;) {
    uint64_t address = source->borrows[i].source;
    if (address >= start && address < end) {
      drop_borrow(source_vspace, i);
    } else {
      ++i;
    }
  }
}

void unmap_frame(Capability& cap) {
  uintptr_t vspace = tagged_vspace(cap.reserved);
  if (vspace != 0) {
    uint64_t address = cap.data & ~(page::kSize - 1);
    uint64_t* entry = find_entry(vspace, address, frame_level(cap.size_bits));
    if (entry != nullptr && (*entry & page::kPresent) != 0 &&
        (*entry & page::kAddressMask) == physical_of(cap.object)) {
      *entry = 0;
      flush_if_loaded(vspace);
      drop_borrows(vspace, address, address + (uint64_t{1} << cap.size_bits));
    }
  }
  cap.reserved = 0;
  cap.data = 0;
}

void unmap_page_table(Capability& cap) {
  uintptr_t vspace = tagged_vspace(cap.reserved);
  if (vspace != 0) {
    int level = static_cast<int>(cap.data & 7);
    uint64_t start = cap.data & ~(page::kSize - 1);
    uint64_t* entry = find_entry(vspace, start, level);
    if (entry != nullptr && (*entry & page::kPresent) != 0 &&
        (*entry & page::kAddressMask) == physical_of(cap.object)) {
      *entry = 0;
      flush_if_loaded(vspace);
      drop_borrows(vspace, start, start + (uint64_t{1} << (12 + 9 * level)));
    }
  }
  // Whatever was mapped through the structure is unreachable now; clear it so a later mapping
  // of the structure does not bring old mappings back.
  auto* entries = reinterpret_cast<uint64_t*>(cap.object);
  for (size_t i = 0; i < page::kSize / 8; ++i) entries[i] = 0;
  cap.reserved = 0;
  cap.data = 0;
}

Error decode_frame_invocation(const Capability& cspace_root, Slot* slot,
                              const Invocation& invocation, MappingOperation& operation) {
  Capability& cap = slot->cap;
  const uint64_t* words = invocation.words;
  operation = MappingOperation{};
  operation.label = invocation.label;
  operation.cap = &cap;
  switch (invocation.label) {
    case Label::kFrameMap: {
      namespace m = abi::frame_message;
      if (invocation.word_count < m::kMapLength) return Error::kTruncatedMessage;
      if (cap.reserved != 0) return Error::kAlreadyMapped;
      uintptr_t vspace = 0;
      Error error = lookup_vspace(cspace_root, words[m::kVSpace], vspace);
      if (error != Error::kNone) return error;
      uint64_t address = words[m::kAddress];
      uint64_t size = uint64_t{1} << cap.size_bits;
      if (address % size != 0) return Error::kInvalidArgument;
      if (address >= page::kUserMapTop || page::kUserMapTop - address < size) {
        return Error::kRangeError;
      }
      uint64_t rights = words[m::kRights];
      if ((rights & ~(abi::kMapWrite | abi::kMapExecute)) != 0) return Error::kInvalidArgument;
      if (!has_rights(cap, abi::kRightRead)) return Error::kMissingRight;
      if ((rights & abi::kMapWrite) != 0 && !has_rights(cap, abi::kRightWrite)) {
        return Error::kMissingRight;
      }
      int level = frame_level(cap.size_bits);
      uint64_t* entry = find_entry(vspace, address, level);
      if (entry == nullptr) return Error::kMissingPageTable;
      if ((*entry & page::kPresent) != 0) return Error::kAlreadyMapped;
      operation.vspace = vspace;
      operation.address = address;
      operation.rights = rights;
      operation.level = level;
      operation.entry = entry;
      return Error::kNone;
    }
    case Label::kFrameUnmap: return Error::kNone;
    case Label::kFrameRemap: {
      if (invocation.word_count < 1) return Error::kTruncatedMessage;
      uint64_t rights = words[abi::frame_message::kRemapRights];
      if ((rights & ~(abi::kMapWrite | abi::kMapExecute)) != 0) return Error::kInvalidArgument;
      if ((rights & abi::kMapWrite) != 0 && !has_rights(cap, abi::kRightWrite)) {
        return Error::kMissingRight;
      }
      uintptr_t vspace = tagged_vspace(cap.reserved);
      if (vspace == 0) return Error::kNotMapped;
      uint64_t address = cap.data & ~(page::kSize - 1);
      int level = frame_level(cap.size_bits);
      uint64_t* entry = find_entry(vspace, address, level);
      if (entry == nullptr || (*entry & page::kAddressMask) != physical_of(cap.object)) {
        return Error::kNotMapped;
      }
      operation.vspace = vspace;
      operation.address = address;
      operation.rights = rights;
      operation.level = level;
      operation.entry = entry;
      return Error::kNone;
    }
    case Label::kFrameGetAddress:
      if (invocation.output == nullptr || invocation.output_capacity < 1) return Error::kRangeError;
      operation.output = invocation.output;
      operation.output_count = invocation.output_count;
      return Error::kNone;
    default: return Error::kInvalidLabel;
  }
}

void invoke_frame(const MappingOperation& operation) {
  Capability& cap = *operation.cap;
  switch (operation.label) {
    case Label::kFrameMap:
      *operation.entry = physical_of(cap.object) | leaf_flags(operation.rights, operation.level);
      cap.reserved = mapping_tag(operation.vspace);
      cap.data = operation.address | operation.rights;
      flush_if_loaded(operation.vspace);
      return;
    case Label::kFrameUnmap:
      if (cap.reserved != 0) unmap_frame(cap);
      return;
    case Label::kFrameRemap:
      *operation.entry = physical_of(cap.object) | leaf_flags(operation.rights, operation.level);
      cap.data = operation.address | operation.rights;
      flush_if_loaded(operation.vspace);
      drop_borrows(operation.vspace, operation.address,
                   operation.address + (uint64_t{1} << cap.size_bits));
      return;
    case Label::kFrameGetAddress:
      operation.output[0] = physical_of(cap.object);
      *operation.output_count = 1;
      return;
    default: return;
  }
}

Error decode_vspace_invocation(const Capability& cspace_root, Slot* slot,
                               const Invocation& invocation, MappingOperation& operation) {
  namespace m = abi::vspace_message;
  operation = MappingOperation{};
  operation.label = invocation.label;
  if (invocation.word_count < m::kForeignLength) return Error::kTruncatedMessage;
  if (!has_rights(slot->cap, abi::kRightRead)) return Error::kMissingRight;
  uintptr_t source = slot->cap.object;
  uint64_t source_address = invocation.words[m::kSource];
  uint64_t destination_address = invocation.words[m::kDestinationAddress];
  if (source_address % page::kSize != 0 || destination_address % page::kSize != 0) {
    return Error::kInvalidArgument;
  }
  if (source_address >= page::kUserTop || destination_address >= page::kUserMapTop) {
    return Error::kRangeError;
  }
  uintptr_t destination = 0;
  Error error = lookup_vspace(cspace_root, invocation.words[m::kDestination], destination);
  if (error != Error::kNone) return error;
  operation.source = source;
  operation.source_address = source_address;
  operation.destination_address = destination_address;
  operation.vspace = destination;
  VSpaceInfo* source_info = info(source);
  uint32_t destination_tag = mapping_tag(destination);
  if (invocation.label == Label::kVSpaceUnmapForeign) {
    for (size_t i = 0; i < source_info->borrow_count; ++i) {
      const VSpaceInfo::Borrow& borrow = source_info->borrows[i];
      if (borrow.source == source_address && borrow.destination == destination_address &&
          borrow.destination_tag == destination_tag) {
        operation.borrow = i;
        return Error::kNone;
      }
    }
    return Error::kNotMapped;
  }
  if (source == destination) return Error::kInvalidArgument;
  uint64_t physical = 0, flags = 0;
  if (!PageTable(frame_source(), physical_of(source))
           .translate(source_address, &physical, &flags) ||
      (flags & page::kUser) == 0) {
    return Error::kNotMapped;
  }
  // Only the owner of a page lends it: its borrows are dropped when it unmaps the page, which
  // a borrower lending it on could not see (the chained mapping would outlive the frame).
  if ((flags & page::kBorrowed) != 0) return Error::kIllegalOperation;
  uint64_t* entry = find_entry(destination, destination_address, 1);
  if (entry == nullptr) return Error::kMissingPageTable;
  if ((*entry & page::kPresent) != 0) return Error::kAlreadyMapped;
  if (source_info->borrow_count == sizeof(source_info->borrows) / sizeof(source_info->borrows[0])) {
    return Error::kNotEnoughMemory;
  }
  operation.entry = entry;
  operation.physical = physical & ~(page::kSize - 1);
  return Error::kNone;
}

void invoke_vspace(const MappingOperation& operation) {
  if (operation.label == Label::kVSpaceUnmapForeign) {
    drop_borrow(operation.source, operation.borrow);
    return;
  }
  VSpaceInfo* source_info = info(operation.source);
  *operation.entry =
      operation.physical | page::kPresent | page::kUser | page::kNoExecute | page::kBorrowed;
  source_info->borrows[source_info->borrow_count++] =
      VSpaceInfo::Borrow{operation.source_address, operation.physical,
                         operation.destination_address, mapping_tag(operation.vspace), 0};
  flush_if_loaded(operation.vspace);
}

Error decode_page_table_invocation(const Capability& cspace_root, Slot* slot,
                                   const Invocation& invocation, MappingOperation& operation) {
  Capability& cap = slot->cap;
  operation = MappingOperation{};
  operation.label = invocation.label;
  operation.cap = &cap;
  switch (invocation.label) {
    case Label::kPageTableMap: {
      namespace m = abi::page_table_message;
      if (invocation.word_count < m::kMapLength) return Error::kTruncatedMessage;
      if (cap.reserved != 0) return Error::kAlreadyMapped;
      uintptr_t vspace = 0;
      Error error = lookup_vspace(cspace_root, invocation.words[m::kVSpace], vspace);
      if (error != Error::kNone) return error;
      uint64_t address = invocation.words[m::kAddress];
      if (address >= page::kUserTop) return Error::kRangeError;
      // The structure becomes the first one missing on the way to `address`.
      for (int level = 4; level >= 2; --level) {
        uint64_t* entry = find_entry(vspace, address, level);
        if (entry == nullptr) return Error::kAlreadyMapped;  // a large page covers it
        if ((*entry & page::kPresent) != 0) continue;
        operation.vspace = vspace;
        operation.address = address;
        operation.level = level;
        operation.entry = entry;
        return Error::kNone;
      }
      return Error::kAlreadyMapped;
    }
    case Label::kPageTableUnmap: return Error::kNone;
    default: return Error::kInvalidLabel;
  }
}

void invoke_page_table(const MappingOperation& operation) {
  Capability& cap = *operation.cap;
  switch (operation.label) {
    case Label::kPageTableMap: {
      *operation.entry = physical_of(cap.object) | page::kPresent | page::kWritable | page::kUser;
      uint64_t covered = uint64_t{1} << (12 + 9 * (operation.level - 1));  // bytes one entry spans
      cap.reserved = mapping_tag(operation.vspace);
      cap.data = (operation.address & ~(covered - 1)) | static_cast<uint64_t>(operation.level);
      return;
    }
    case Label::kPageTableUnmap:
      if (cap.reserved != 0) unmap_page_table(cap);
      return;
    default: return;
  }
}

// Each mapping object decodes, then (only if that succeeded) invokes.
Error handle_frame_invocation(const Capability& cspace_root, Slot* slot,
                              const Invocation& invocation) {
  MappingOperation operation;
  Error error = decode_frame_invocation(cspace_root, slot, invocation, operation);
  if (error == Error::kNone) invoke_frame(operation);
  return error;
}

Error handle_vspace_invocation(const Capability& cspace_root, Slot* slot,
                               const Invocation& invocation) {
  MappingOperation operation;
  Error error = decode_vspace_invocation(cspace_root, slot, invocation, operation);
  if (error == Error::kNone) invoke_vspace(operation);
  return error;
}

Error handle_page_table_invocation(const Capability& cspace_root, Slot* slot,
                                   const Invocation& invocation) {
  MappingOperation operation;
  Error error = decode_page_table_invocation(cspace_root, slot, invocation, operation);
  if (error == Error::kNone) invoke_page_table(operation);
  return error;
}

}  // namespace

uint64_t vspace_root(uintptr_t vspace) { return physical_of(vspace); }

VSpaceInfo* vspace_info(uintptr_t vspace) {
  return reinterpret_cast<VSpaceInfo*>(vspace + page::kSize);
}

uint32_t vspace_tag(uintptr_t vspace) {
  const VSpaceInfo* i = vspace_info(vspace);
  if (i->asid == 0) return 0;
  return i->asid | ((i->generation & kGenerationMask) << kAsidBits);
}

uintptr_t vspace_from_tag(uint32_t tag) {
  uint32_t asid = tag & (kAsidCount - 1);
  if (asid == 0 || asid_owner[asid] == 0) return 0;
  if ((asid_generation[asid] & kGenerationMask) != tag >> kAsidBits) return 0;
  return asid_owner[asid];
}

void vspace_created(uintptr_t vspace) {
  auto* pml4 = reinterpret_cast<uint64_t*>(vspace);
  const uint64_t* kernel = table(kernel_page_table_root());
  for (int i = 256; i < 512; ++i) pml4[i] = kernel[i];
  VSpaceInfo* i = info(vspace);
  i->asid = 0;
  i->breakpoints = nullptr;
  i->borrow_count = 0;
  for (uint32_t asid = 1; asid < kAsidCount; ++asid) {
    if (asid_owner[asid] == 0) {
      asid_owner[asid] = vspace;
      i->asid = asid;
      i->generation = asid_generation[asid];
      return;
    }
  }
}

void vspace_destroyed(uintptr_t vspace) {
  ++mapping_epoch;
  breakpoints_vspace_destroyed(vspace);
  drop_borrows(vspace, 0, page::kUserTop);
  uint32_t asid = info(vspace)->asid;
  if (asid != 0 && asid_owner[asid] == vspace) {
    asid_owner[asid] = 0;
    ++asid_generation[asid];
  }
  address_space_destroyed(vspace);
}

void mapping_cap_removed(const Capability& cap) {
  if (cap.type == static_cast<uint8_t>(ObjectType::kVSpace)) {
    drop_borrows(cap.object, 0, page::kUserTop);  // revoking a holder's cap ends its borrows
    return;
  }
  if (cap.reserved == 0) return;
  Capability copy = cap;
  if (cap.type == static_cast<uint8_t>(ObjectType::kFrame)) unmap_frame(copy);
  if (cap.type == static_cast<uint8_t>(ObjectType::kPageTable)) unmap_page_table(copy);
}

void vspace_invocations_init() {
  set_invocation_handler(ObjectType::kVSpace, handle_vspace_invocation);
  set_invocation_handler(ObjectType::kFrame, handle_frame_invocation);
  set_invocation_handler(ObjectType::kPageTable, handle_page_table_invocation);
}

}  // namespace kernel
