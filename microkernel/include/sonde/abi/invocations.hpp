// Invocation labels and message layouts: what a user sends to a cap to act on its object.
#pragma once

#include <stdint.h>

namespace sonde::abi {

// An invocation names a cap (cptr, resolved through the caller's CSpace at depth 64), a label
// and message words. Labels are grouped by object type in blocks of 16 so a label says which
// type it belongs to (invoking it on another type gives Error::kWrongType).
enum class Label : uint64_t {
  kInvalid = 0,
  // CNode: the invoked cap is the destination root.
  kCNodeCopy = 16,
  kCNodeMint = 17,
  kCNodeMove = 18,
  kCNodeMutate = 19,
  kCNodeDelete = 20,
  kCNodeRevoke = 21,
  // Untyped.
  kUntypedRetype = 32,
  // Later: TCB 48.., Endpoint 64.., Notification 80.., VSpace 96.., Frame 112..,
  // Breakpoint 128.., IRQ handler 144.., IO port range 160..
  kFirstUnassigned = 48,
};

inline constexpr uint64_t kLabelBlockBits = 4;
constexpr uint64_t label_block(Label label) {
  return static_cast<uint64_t>(label) >> kLabelBlockBits;
}

// Message words by label; "index, depth" pairs address a slot relative to a CNode cap
// (index resolved through depth bits, most significant first).
namespace cnode_message {
// Copy, Mint, Move, Mutate (invoked cap = destination root CNode):
inline constexpr uint64_t kDestIndex = 0;
inline constexpr uint64_t kDestDepth = 1;
inline constexpr uint64_t kSourceRoot = 2;  // cptr of a CNode cap in the caller's CSpace
inline constexpr uint64_t kSourceIndex = 3;
inline constexpr uint64_t kSourceDepth = 4;
inline constexpr uint64_t kRights = 5;          // Mint, Mutate: rights mask kept
inline constexpr uint64_t kData = 6;            // Mint, Mutate: badge or CNode guard data
inline constexpr uint64_t kTransferLength = 5;  // Copy, Move
inline constexpr uint64_t kDeriveLength = 7;    // Mint, Mutate
// Delete, Revoke (invoked cap = root CNode of the target slot):
inline constexpr uint64_t kIndex = 0;
inline constexpr uint64_t kDepth = 1;
inline constexpr uint64_t kSlotLength = 2;
}  // namespace cnode_message

namespace untyped_message {
// Retype (invoked cap = the untyped):
inline constexpr uint64_t kObjectType = 0;  // ObjectType
inline constexpr uint64_t kSizeBits = 1;    // Untyped and Frame size, CNode radix
inline constexpr uint64_t kRoot = 2;        // cptr of a CNode cap in the caller's CSpace
inline constexpr uint64_t kNodeIndex = 3;   // destination CNode inside root;
inline constexpr uint64_t kNodeDepth = 4;   //   depth 0 means the root itself
inline constexpr uint64_t kNodeOffset = 5;  // first slot to fill
inline constexpr uint64_t kCount = 6;       // number of objects, each in its own slot
inline constexpr uint64_t kLength = 7;
}  // namespace untyped_message

inline constexpr uint64_t kMaxInvocationWords = 8;

}  // namespace sonde::abi
