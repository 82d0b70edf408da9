// SPDX-License-Identifier: MIT
// Linux's jhash and jhash2 (include/linux/jhash.h, Bob Jenkins' lookup3): the hashes stack
// trace maps and bloom filters use, as Linux's do.
#pragma once

#include <stdint.h>

namespace ebpf {

// Over `length` u32 words.
uint32_t jhash2(const uint32_t* words, uint32_t length, uint32_t initval);
// Over `length` bytes (read as little-endian words).
uint32_t jhash(const uint8_t* bytes, uint32_t length, uint32_t initval);

}  // namespace ebpf
