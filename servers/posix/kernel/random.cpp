// SPDX-License-Identifier: MIT
// Random bytes: xorshift over a state stirred with the TSC on every call.
#include "kernel/random.hpp"

namespace posix {

namespace {
uint64_t state = 0x9e3779b97f4a7c15ull;

uint64_t tsc() {
  uint32_t low, high;
  asm volatile("rdtsc" : "=a"(low), "=d"(high));
  return (uint64_t{high} << 32) | low;
}
}  // namespace

void fill_random(void* out, size_t length) {
  // GAP: not a cryptographic generator.
  state ^= tsc() * 0xbf58476d1ce4e5b9ull;
  auto* bytes = static_cast<uint8_t*>(out);
  for (size_t i = 0; i < length; ++i) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    bytes[i] = static_cast<uint8_t>(state >> 24);
  }
}

}  // namespace posix
