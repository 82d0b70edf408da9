// SPDX-License-Identifier: MIT
// Kernel object types and their sizes: what Untyped Retype can create and how much it takes.
#pragma once

#include <stdint.h>

namespace sonde::abi {

// Wire values for Retype's object type argument (and for boot-info descriptions of caps).
enum class ObjectType : uint64_t {
  kNull = 0,  // an empty slot; never created
  kUntyped = 1,
  kCNode = 2,
  kTcb = 3,
  kEndpoint = 4,
  kNotification = 5,
  kReply = 6,
  kVSpace = 7,
  kFrame = 8,
  kBreakpoint = 9,
  kPageTable = 10,  // one paging structure (PDPT, page directory or page table) for a VSpace
  // Device caps: never made by Retype; the root task gets the controls at boot.
  kIrqControl = 11,  // makes IrqHandler caps
  kIrqHandler = 12,  // one interrupt line: bind a notification, acknowledge
  kIoPorts = 13,     // a range of x86 I/O ports
  // Authorities without an object: never made by Retype; the root task gets the only ones at
  // boot and hands copies to the servers it trusts with them.
  kKernelProbes = 14,  // Breakpoint BindKernel needs it: probing kernel text shows every
                       // thread's arguments and kernel addresses
  kDebugConsole = 15,  // DebugWrite and DebugTicks need it (the kernel's serial console)
  kCount = 16,         // first value that is not a type
};

// Every object occupies a naturally aligned power-of-two block of its untyped. Sizes are in
// log2 bytes. Variable-size types take Retype's size_bits argument; fixed-size types ignore it.
inline constexpr uint64_t kUntypedMinBits = 4;    // 16 bytes
inline constexpr uint64_t kUntypedMaxBits = 47;   // 128 TiB
inline constexpr uint64_t kCNodeSlotBits = 6;     // 64 bytes per slot
inline constexpr uint64_t kCNodeMinRadix = 1;     // size_bits of a CNode is its radix:
inline constexpr uint64_t kCNodeMaxRadix = 24;    // 2^radix slots of 2^kCNodeSlotBits bytes
inline constexpr uint64_t kTcbBits = 11;          // 2 KiB: registers, FPU state, scheduling
inline constexpr uint64_t kEndpointBits = 5;      // 32 bytes: queue head, tail and state
inline constexpr uint64_t kNotificationBits = 6;  // 64 bytes: word, queue, timer
inline constexpr uint64_t kReplyBits = 5;         // 32 bytes: caller and links
inline constexpr uint64_t kVSpaceBits = 13;       // the PML4 page, then a page of bookkeeping
inline constexpr uint64_t kBreakpointBits = 9;    // 512 bytes: probe table head and XOL state
inline constexpr uint64_t kPageTableBits = 12;    // one 4 KiB paging structure
inline constexpr uint64_t kFrameSmallBits = 12;   // Frame size_bits: 4 KiB,
inline constexpr uint64_t kFrameLargeBits = 21;   //                  2 MiB,
inline constexpr uint64_t kFrameHugeBits = 30;    //                  1 GiB

// Most objects Retype creates in one call (the destination range must also fit the CNode).
inline constexpr uint64_t kRetypeMaxCount = 1u << 16;

// The guard a CNode cap carries is set by Mint/Mutate from the data word: the low 6 bits are
// the guard's width in bits, the rest its value (which must fit in that width).
inline constexpr uint64_t kGuardWidthBits = 6;
constexpr uint64_t cnode_guard_data(uint64_t guard_value, uint64_t guard_bits) {
  return (guard_value << kGuardWidthBits) | guard_bits;
}

// Cptrs are resolved most significant bit first through at most this many bits.
inline constexpr uint64_t kCptrBits = 64;

}  // namespace sonde::abi
