// SPDX-License-Identifier: MIT
// SHA-1 (FIPS 180-4), for the program tag Linux computes at load.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace trace {

inline constexpr size_t kSha1DigestSize = 20;

// Fed in pieces of any size, then finished once.
class Sha1 {
 public:
  void update(const uint8_t* data, size_t size);
  void finish(uint8_t digest[kSha1DigestSize]);

 private:
  void compress(const uint8_t block[64]);

  uint32_t state_[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
  uint8_t block_[64] = {};
  size_t block_used_ = 0;
  uint64_t total_ = 0;
};

}  // namespace trace
