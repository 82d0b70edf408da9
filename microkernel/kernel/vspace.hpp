// SPDX-License-Identifier: MIT
// Address spaces as objects: VSpaces, PageTables and Frames, mapped by invocation.
#pragma once

#include <stdint.h>

#include "kernel/cap.hpp"

namespace kernel {

// A VSpace object is 2^kVSpaceBits bytes: its PML4 page, then this bookkeeping page.
struct Breakpoint;
struct Probe;
struct VSpaceInfo {
  uint32_t asid;            // 1..kAsidCount-1, 0 when none was free (the VSpace cannot map)
  uint32_t generation;      // of the ASID when it was assigned
  Breakpoint* breakpoints;  // Breakpoint objects bound to this VSpace (a list)
  // Addresses of the last probes removed: an int3 trap there with the original byte back is
  // a thread that fetched the int3 before the removal, and simply runs the instruction.
  uint64_t removed[16];
  uint32_t removed_next;
  uint32_t borrow_count;
  // The probe the last breakpoint trap here found (find_probe's answer for hit_address), good
  // while removed_next is hit_removals: every removal of a probe counts there.
  Probe* hit_probe;
  Breakpoint* hit_owner;
  uint64_t hit_address;
  uint32_t hit_removals;
  // Pages of this VSpace mapped read-only into others (VSpaceMapForeign). Each goes when the
  // page is unmapped or remapped here, when this VSpace goes, or when any cap to it is
  // deleted (so revoking the holder's cap takes them all).
  struct Borrow {
    uint64_t source;  // page address here
    uint64_t physical;
    uint64_t destination;  // page address there
    uint32_t destination_tag;
    uint32_t reserved;
  } borrows[64];
};

static_assert(sizeof(VSpaceInfo) <= 4096);

VSpaceInfo* vspace_info(uintptr_t vspace);
// A VSpace's identity that stays valid after it is destroyed: ASID and generation.
uint32_t vspace_tag(uintptr_t vspace);
// The VSpace a tag names, or 0 when it was destroyed (or the tag is 0).
uintptr_t vspace_from_tag(uint32_t tag);

// Prepares a zeroed VSpace object: the kernel half of the PML4 and an ASID.
void vspace_created(uintptr_t vspace);
// Frees the ASID (mappings recorded in Frame and PageTable caps become stale and are then
// ignored) and leaves the VSpace if the CPU has it loaded.
void vspace_destroyed(uintptr_t vspace);
// A Frame or PageTable cap is being deleted: its mapping goes with it.
void mapping_cap_removed(const Capability& cap);

// Physical address of a VSpace object's PML4.
uint64_t vspace_root(uintptr_t vspace);

// Counts every change that can take a user mapping away or make it point elsewhere (each
// unmap, remap, map and page-table removal flushes, and each VSpace destruction), in any
// VSpace. A translation the kernel keeps (a thread's IPC buffer in the direct map, fastpath.cpp)
// is valid while the count is what it was when the translation was made. Starts at 1, so a
// zeroed cache never matches.
extern uint64_t mapping_epoch;

void vspace_invocations_init();

}  // namespace kernel
