// SPDX-License-Identifier: MIT
// What the root task prints when a server it supervises faults (docs/KERNEL.md: faults arrive
// as messages on the supervisor endpoint).
#pragma once

#include <stdint.h>

#include "sys/ipc.hpp"

namespace root {

// Prints `server`'s fault from its fault message (`length` words): the kind, rip, the fault's
// address or vector and detail, and the main registers.
void report_fault(const char* server, uint64_t label, const sys::MessageRegisters& mr,
                  uint64_t length);

}  // namespace root
