// SPDX-License-Identifier: MIT
// Capability rights: the bits a cap carries and Mint/Mutate can only take away.
#pragma once

#include <stdint.h>

namespace sonde::abi {

// What each right allows depends on the object (see docs/CAPABILITIES.md); the kernel checks
// them at decode time. Derivation can clear bits, never set them.
enum Right : uint64_t {
  kRightRead = 1u << 0,        // receive on endpoints, wait on notifications, read frames;
                               // take caps out of a CNode (Copy, Mint, Move, Mutate source)
  kRightWrite = 1u << 1,       // send and signal, write frames; change a CNode's slots;
                               // retype an untyped
  kRightGrant = 1u << 2,       // transfer caps through an endpoint
  kRightGrantReply = 1u << 3,  // let the receiver of a Call reply with caps
};

inline constexpr uint64_t kRightsNone = 0;
inline constexpr uint64_t kRightsAll = kRightRead | kRightWrite | kRightGrant | kRightGrantReply;

}  // namespace sonde::abi
