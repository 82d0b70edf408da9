// Untyped memory: Retype carves kernel objects out of a region the caller holds a cap to.
// GAP: no device untyped (memory that must not be zeroed): every untyped cap is RAM.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/cap.hpp"
#include "sonde/abi/invocations.hpp"

namespace kernel {

// An Untyped cap covers 2^size_bits bytes at `object` (a kernel virtual address; physical
// memory reached through the kernel's direct map). Its data word is the watermark: bytes
// already handed out. Objects are placed at the watermark rounded up to their own size, so
// every object is naturally aligned. The kernel never allocates anywhere else for a user.

// A checked Retype, ready to run.
struct RetypeOperation {
  Slot* untyped = nullptr;
  ObjectType type = ObjectType::kNull;
  uint64_t object_bits = 0;     // log2 bytes of each object
  uint8_t cap_size_bits = 0;    // what each new cap records
  uint64_t first_offset = 0;    // byte offset of the first object in the region
  Slot* destination = nullptr;  // first of `count` consecutive empty slots
  uint64_t count = 0;
};

// Checks Retype on the Untyped cap in `untyped` for a thread whose CSpace root is
// `cspace_root`; fills `operation` or returns the first error (order in docs/CAPABILITIES.md).
Error decode_untyped_invocation(const Capability& cspace_root, Slot* untyped,
                                sonde::abi::Label label, const uint64_t* words, size_t word_count,
                                RetypeOperation& operation);

// Zeroes and announces each object, stores its cap (a child of the untyped) and advances the
// watermark; cannot fail.
void invoke_untyped(const RetypeOperation& operation);

// The watermark Retype starts from: the cap's, or zero when the untyped has no children
// (every object once made from it is gone, so the whole region is free again).
uint64_t untyped_watermark(const Slot& untyped);

}  // namespace kernel
