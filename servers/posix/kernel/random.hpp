// SPDX-License-Identifier: MIT
// Random bytes for AT_RANDOM and getrandom: RDRAND when the CPU has it, else a TSC-seeded mix.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace posix {

void fill_random(void* out, size_t length);

}  // namespace posix
