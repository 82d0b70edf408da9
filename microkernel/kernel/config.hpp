// SPDX-License-Identifier: MIT
// Kernel configuration: how this kernel was built (plain or test kernel).
#pragma once

namespace kernel {

// Whether this kernel was built for tests (test shutdown enabled; a run ends when the root
// task exits, faults or deadlocks).
inline constexpr bool test_kernel() {
#ifdef SONDE_TEST_KERNEL
  return true;
#else
  return false;
#endif
}

}  // namespace kernel
