// SPDX-License-Identifier: MIT
// plan_out_of_line with registers kept from the fix-up choice: for tests to reach the rewrites
// that need a register from r8 on, which no real instruction forces.
#pragma once

#include "trace/xol.hpp"

namespace trace {

// `avoided`: bit n set keeps x86 register n (rax=0 ... r15=15) from being the fix-up register.
rt::Result<XolPlan> plan_out_of_line_avoiding(const uint8_t* bytes, size_t available,
                                              uint64_t address, uint16_t avoided);

}  // namespace trace
